import { MAX_CREDITS } from '@wirecall/core/internal';

/**
 * The items a caller has asked for and not received yet, for one streaming call: the producer is
 * pulled only while there is one (RSocket's `request(n)`), so a consumer that stops reading stops
 * the producer, and the server never holds more than one window of items for it.
 */
export class StreamCredits {
  #available: number;
  #wake: (() => void) | undefined;

  constructor(initial: number) {
    this.#available = Math.min(initial, MAX_CREDITS);
  }

  /** The caller asked for `n` more items (capped: a peer cannot overflow the count). */
  grant(n: number): void {
    this.#available = Math.min(this.#available + n, MAX_CREDITS);
    this.wake();
  }

  /** Uses one credit if there is one. */
  take(): boolean {
    if (this.#available === 0) return false;
    this.#available--;
    return true;
  }

  /** Resolves at the next grant, or when {@link wake} is called (the call was aborted). */
  granted(): Promise<void> {
    return new Promise((resolve) => (this.#wake = resolve));
  }

  wake(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
