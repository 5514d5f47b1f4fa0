import type { WireValue } from '@wirecall/core/internal';
import { SERVER_DEFAULTS } from '../options.js';

/** How long and how many idempotency keys the server remembers. */
export interface IdempotencyOptions {
  /** How long a finished call's answer is kept for retries. @default 60_000 */
  windowMs?: number;
  /** Most answers kept; the oldest go first. @default 10_000 */
  maxEntries?: number;
}

/** How a call ended, in a form that can answer any number of retries. */
export type Outcome =
  | { ok: true; value: WireValue }
  /** `error` is the error body's JSON text, encoded once for every answer it gives. */
  | { ok: false; error: string };

/** A finished call's answer, kept for retries until `expiresAt`. */
interface Answer {
  outcome: Outcome;
  expiresAt: number;
}

/**
 * Remembers calls by idempotency key, so a retry whose first attempt did reach the server gets
 * that attempt's answer instead of running the handler again. Shared by all connections of a
 * server: a retry arrives on a new connection after a reconnect.
 */
export class IdempotencyCache {
  /** Calls still running, with the retries waiting for them: never evicted (a retry must not run twice). */
  readonly #running = new Map<string, ((outcome: Outcome) => void)[]>();
  /** Finished calls' answers, oldest first: in the order they expire, since the window is fixed. */
  readonly #answers = new Map<string, Answer>();
  readonly #windowMs: number;
  readonly #maxEntries: number;

  constructor(options: IdempotencyOptions = {}) {
    this.#windowMs = options.windowMs ?? SERVER_DEFAULTS.idempotency.windowMs;
    this.#maxEntries = options.maxEntries ?? SERVER_DEFAULTS.idempotency.maxEntries;
  }

  /**
   * Either joins an earlier attempt (returns true, and `answer` runs once it has an outcome) or
   * registers this call as the first attempt (returns false; call {@link complete} when done).
   * The key is looked up before anything is evicted, so a full cache never drops the very answer
   * a retry came for.
   */
  join(key: string, answer: (outcome: Outcome) => void): boolean {
    const now = Date.now();
    const waiters = this.#running.get(key);
    if (waiters !== undefined) {
      waiters.push(answer);
      return true;
    }
    const kept = this.#answers.get(key);
    if (kept !== undefined && kept.expiresAt > now) {
      answer(kept.outcome);
      return true;
    }
    this.#answers.delete(key);
    this.#evict(now);
    this.#running.set(key, []);
    return false;
  }

  /** The first attempt finished: answer waiting retries; keep the outcome if it may be reused. */
  complete(key: string, outcome: Outcome, reusable: boolean): void {
    const waiters = this.#running.get(key);
    if (waiters === undefined) return;
    this.#running.delete(key);
    if (reusable) this.#answers.set(key, { outcome, expiresAt: Date.now() + this.#windowMs });
    for (const answer of waiters) answer(outcome);
  }

  /** How long a finished call's answer is kept for retries. */
  get windowMs(): number {
    return this.#windowMs;
  }

  get size(): number {
    return this.#running.size + this.#answers.size;
  }

  /**
   * Drops expired answers and, past the size bound, the oldest ones. Running calls count toward
   * the bound but are never dropped, and never stop the expired answers behind them from going.
   */
  #evict(now: number): void {
    for (const [key, kept] of this.#answers) {
      const overfull = this.size >= this.#maxEntries;
      if (kept.expiresAt > now && !overfull) break;
      this.#answers.delete(key);
    }
  }
}
