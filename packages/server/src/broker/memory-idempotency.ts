import type { Outcome } from '../router/idempotency-cache.js';
import type { Claim } from '../router/shared-idempotency.js';

/** A key's state: held by `holder` until `leaseEnd`, or answered with `outcome` until `expiresAt`. */
type Entry = { holder: string; leaseEnd: number } | { outcome: Outcome; expiresAt: number };

/**
 * Idempotency keys in one process, shared by the nodes that ask it through one `holder` name each:
 * the in-machine broker's primary keeps them for its worker processes (see `SharedIdempotency`).
 * Expired entries are dropped as they are met, and by a sweep whenever the map has doubled since
 * the last one (so a steady size does not sweep on every claim).
 */
export class MemoryIdempotency {
  readonly #entries = new Map<string, Entry>();
  readonly #leaseMs: number;
  readonly #now: () => number;
  /** The size at which the next sweep runs. */
  #sweepAt = 1_024;

  constructor(leaseMs: number, now: () => number = Date.now) {
    this.#leaseMs = leaseMs;
    this.#now = now;
  }

  claim(holder: string, key: string): Claim {
    const now = this.#now();
    const entry = this.#entries.get(key);
    if (entry !== undefined && 'outcome' in entry && entry.expiresAt > now)
      return { state: 'done', outcome: entry.outcome };
    if (entry !== undefined && 'holder' in entry && entry.holder !== holder && entry.leaseEnd > now) {
      return { state: 'running' };
    }
    this.#entries.set(key, { holder, leaseEnd: now + this.#leaseMs });
    if (this.#entries.size >= this.#sweepAt) {
      this.#sweep(now);
      this.#sweepAt = Math.max(1_024, this.#entries.size * 2);
    }
    return { state: 'claimed' };
  }

  renew(holder: string, key: string): void {
    const entry = this.#entries.get(key);
    if (entry !== undefined && 'holder' in entry && entry.holder === holder)
      entry.leaseEnd = this.#now() + this.#leaseMs;
  }

  complete(holder: string, key: string, { outcome, windowMs }: { outcome: Outcome; windowMs: number }): void {
    const entry = this.#entries.get(key);
    if (entry === undefined || !('holder' in entry) || entry.holder !== holder) return;
    this.#entries.set(key, { outcome, expiresAt: this.#now() + windowMs });
  }

  release(holder: string, key: string): void {
    const entry = this.#entries.get(key);
    if (entry !== undefined && 'holder' in entry && entry.holder === holder) this.#entries.delete(key);
  }

  #sweep(now: number): void {
    for (const [key, entry] of this.#entries) {
      if (('outcome' in entry ? entry.expiresAt : entry.leaseEnd) <= now) this.#entries.delete(key);
    }
  }
}
