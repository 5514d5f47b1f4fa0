/**
 * The per-connection rate limit: a token bucket, and a count of the frames it refused.
 *
 * Tokens refill continuously at `ratePerSecond` up to `burst`; a frame takes one or is refused.
 * Refusals add up and leak away at half the refill rate: a peer that keeps sending faster than
 * 1.5× the rate, or floods at socket speed, passes `burst` refusals and is abusive, while one that
 * overshoots now and then never is. (A count "in a row", reset by every frame that got a token, is
 * never reached by a flood: the bucket refills a token every millisecond or so, and each one resets
 * it.) Refilled and leaked lazily on `take()`, so an idle connection costs no timer.
 */
export class TokenBucket {
  readonly #ratePerMs: number;
  readonly #burst: number;
  readonly #now: () => number;
  #tokens: number;
  #refilledAt: number;
  /** Refusals not yet leaked away. */
  #refused = 0;

  constructor(ratePerSecond: number, burst: number, now: () => number = Date.now) {
    this.#ratePerMs = ratePerSecond / 1000;
    this.#burst = burst;
    this.#now = now;
    this.#tokens = burst;
    this.#refilledAt = now();
  }

  /** Takes one token; false when the bucket is empty. `now` saves a clock read to a caller that has one. */
  take(now: number = this.#now()): boolean {
    const elapsed = now - this.#refilledAt;
    this.#tokens = Math.min(this.#burst, this.#tokens + elapsed * this.#ratePerMs);
    if (this.#refused > 0) this.#refused = Math.max(0, this.#refused - (elapsed * this.#ratePerMs) / 2);
    this.#refilledAt = now;
    if (this.#tokens < 1) {
      this.#refused++;
      return false;
    }
    this.#tokens -= 1;
    return true;
  }

  /** More than `burst` refusals have not leaked away: the peer floods. */
  get abusive(): boolean {
    return this.#refused > this.#burst;
  }
}
