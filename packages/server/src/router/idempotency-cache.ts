import type { WireValue } from '@wirecall/core';

/** How long and how many idempotency keys the server remembers. */
export interface IdempotencyOptions {
  /** How long a finished call's answer is kept for retries. @default 60_000 */
  windowMs?: number;
  /** Most answers kept; the oldest go first. @default 10_000 */
  maxEntries?: number;
}

export const IDEMPOTENCY_DEFAULTS = { windowMs: 60_000, maxEntries: 10_000 } as const;

/** How a call ended, in a form that can answer any number of retries. */
export type Outcome =
  | { ok: true; value: WireValue }
  /** `error` is the error body's JSON text, encoded once for every answer it gives. */
  | { ok: false; error: string };

interface Entry {
  outcome: Outcome | undefined;
  /** Retries that arrived while the first attempt was still running. */
  waiters: ((outcome: Outcome) => void)[];
  expiresAt: number;
}

/**
 * Remembers calls by idempotency key, so a retry whose first attempt did reach the server gets
 * that attempt's answer instead of running the handler again. Shared by all connections of a
 * server: a retry arrives on a new connection after a reconnect.
 */
export class IdempotencyCache {
  readonly #entries = new Map<string, Entry>();
  readonly #windowMs: number;
  readonly #maxEntries: number;

  constructor(options: IdempotencyOptions = {}) {
    this.#windowMs = options.windowMs ?? IDEMPOTENCY_DEFAULTS.windowMs;
    this.#maxEntries = options.maxEntries ?? IDEMPOTENCY_DEFAULTS.maxEntries;
  }

  /**
   * Either joins an earlier attempt (returns true, and `answer` runs once it has an outcome) or
   * registers this call as the first attempt (returns false; call {@link complete} when done).
   */
  join(key: string, answer: (outcome: Outcome) => void): boolean {
    const now = Date.now();
    this.#evict(now);
    const entry = this.#entries.get(key);
    if (entry === undefined) {
      this.#entries.set(key, { outcome: undefined, waiters: [], expiresAt: Infinity });
      return false;
    }
    if (entry.outcome === undefined) entry.waiters.push(answer);
    else answer(entry.outcome);
    return true;
  }

  /** The first attempt finished: answer waiting retries; keep the outcome if it may be reused. */
  complete(key: string, outcome: Outcome, reusable: boolean): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    if (reusable) {
      entry.outcome = outcome;
      entry.expiresAt = Date.now() + this.#windowMs;
    } else {
      this.#entries.delete(key);
    }
    for (const answer of entry.waiters) answer(outcome);
    entry.waiters = [];
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Drops expired answers and, past the size bound, the oldest finished ones. */
  #evict(now: number): void {
    for (const [key, entry] of this.#entries) {
      const overfull = this.#entries.size >= this.#maxEntries;
      if (entry.outcome === undefined) {
        if (!overfull) break;
        continue; // running calls stay: their retries must not run twice
      }
      if (entry.expiresAt > now && !overfull) break;
      this.#entries.delete(key);
    }
  }
}
