/**
 * An AbortController created only if the handler looks at its `signal`. Most handlers never do,
 * and an AbortController per call is a measurable share of a fast call's cost. Aborting before the
 * signal exists is remembered, so a late reader still sees an aborted signal with its reason.
 */
export class LazyAbort {
  #controller: AbortController | undefined;
  #aborted = false;
  #reason: unknown;

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  get aborted(): boolean {
    return this.#aborted;
  }

  /** Why it was aborted (a `WirecallError`: cancelled, timed out, connection lost). */
  get abortReason(): unknown {
    return this.#reason;
  }

  /** Resolves once aborted; for loops that must stop waiting (a stream's pump). */
  whenAborted(): Promise<void> {
    if (this.#aborted) return Promise.resolve();
    return new Promise((resolve) => (this.#onAbort = resolve));
  }

  #onAbort: (() => void) | undefined;

  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
    this.#onAbort?.();
  }
}
