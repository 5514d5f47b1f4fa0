/**
 * A token bucket: `ratePerSecond` tokens refill continuously up to `burst`. Refilled lazily on
 * `take()`, so an idle connection costs no timer.
 */
export class TokenBucket {
  readonly #ratePerMs: number;
  readonly #burst: number;
  readonly #now: () => number;
  #tokens: number;
  #refilledAt: number;

  constructor(ratePerSecond: number, burst: number, now: () => number = Date.now) {
    this.#ratePerMs = ratePerSecond / 1000;
    this.#burst = burst;
    this.#now = now;
    this.#tokens = burst;
    this.#refilledAt = now();
  }

  /** Takes one token; false when the bucket is empty. `now` saves a clock read to a caller that has one. */
  take(now: number = this.#now()): boolean {
    this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#refilledAt) * this.#ratePerMs);
    this.#refilledAt = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
