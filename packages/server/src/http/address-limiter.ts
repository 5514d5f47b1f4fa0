import { TokenBucket } from '../connection/token-bucket.js';

/** Addresses idle this long lose their bucket (a full one: nothing is forgotten that mattered). */
const IDLE_MS = 60_000;

/**
 * The message rate limit of `limits.rateLimit`, per client address, for requests that have no
 * connection to hold a bucket (stateless calls, session opens). Buckets of idle addresses are
 * swept whenever the table has doubled, so a scan of many addresses costs bounded memory.
 */
export class AddressLimiter {
  readonly #buckets = new Map<string, { bucket: TokenBucket; seenAt: number }>();
  readonly #rate: { messagesPerSecond: number; burst: number } | false;
  #sweepAt = 1_024;

  constructor(rate: { messagesPerSecond: number; burst: number } | false) {
    this.#rate = rate;
  }

  /** Takes a token for this address; false when it is over the rate. */
  take(address: string): boolean {
    if (this.#rate === false) return true;
    const now = Date.now();
    let entry = this.#buckets.get(address);
    if (entry === undefined) {
      entry = { bucket: new TokenBucket(this.#rate.messagesPerSecond, this.#rate.burst), seenAt: now };
      this.#buckets.set(address, entry);
      if (this.#buckets.size >= this.#sweepAt) this.#sweep(now);
    }
    entry.seenAt = now;
    return entry.bucket.take(now);
  }

  #sweep(now: number): void {
    for (const [address, entry] of this.#buckets) if (now - entry.seenAt > IDLE_MS) this.#buckets.delete(address);
    this.#sweepAt = Math.max(1_024, this.#buckets.size * 2);
  }
}
