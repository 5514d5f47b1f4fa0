/** What the pump needs from its call. */
export interface UploadSink {
  /** Sends one item; returns false when the call failed instead (an item off the contract, too large). */
  sendItem(item: unknown): boolean;
  /** The source has no more items. */
  sendEnd(): void;
  /** The source threw: the call fails with this cause. */
  sourceFailed(error: unknown): void;
  /** Whether the pump now waits on the server (no credit left), not on its own source. */
  waiting(forServer: boolean): void;
}

/**
 * The caller's input stream (an upload): pulls the app's iterable only while the server has
 * granted credit, so a slow handler slows the source instead of growing a buffer. The source is
 * closed (its `finally` runs) when the call ends for any reason before the source did.
 */
export class UploadPump {
  readonly #iterator: AsyncIterator<unknown> | Iterator<unknown>;
  readonly #sink: UploadSink;
  #credits = 0;
  #running = false;
  #done = false;

  constructor(source: AsyncIterable<unknown> | Iterable<unknown>, sink: UploadSink) {
    const asyncIterator = (source as AsyncIterable<unknown>)[Symbol.asyncIterator];
    this.#iterator =
      typeof asyncIterator === 'function'
        ? asyncIterator.call(source)
        : (source as Iterable<unknown>)[Symbol.iterator]();
    this.#sink = sink;
  }

  /** The server takes `n` more items. */
  grant(n: number): void {
    if (this.#done) return; // a credit that crossed the `end`: the call now waits for its answer
    this.#credits += n;
    this.#sink.waiting(false);
    if (!this.#running) void this.#run();
  }

  /** The call ended: nothing more is sent, and a source still open is closed. */
  stop(): void {
    if (this.#done) return;
    this.#done = true;
    try {
      Promise.resolve(this.#iterator.return?.()).catch(() => {});
    } catch {
      // A source that cannot close has nothing left to tell.
    }
  }

  async #run(): Promise<void> {
    this.#running = true;
    try {
      while (this.#credits > 0 && !this.#done) {
        const step = await this.#iterator.next();
        if (this.#done) return;
        if (step.done === true) {
          this.#done = true;
          this.#sink.sendEnd();
          return;
        }
        this.#credits--;
        if (!this.#sink.sendItem(step.value)) return;
      }
      if (!this.#done) this.#sink.waiting(true);
    } catch (error) {
      if (this.#done) return;
      this.#done = true;
      this.#sink.sourceFailed(error);
    } finally {
      this.#running = false;
    }
  }
}
