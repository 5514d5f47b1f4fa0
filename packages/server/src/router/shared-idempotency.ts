import type { Outcome } from './idempotency-cache.js';

/**
 * Where an idempotent call stands across all nodes, by its key: this node may run it (`claimed`),
 * another node runs it now (`running`), or an attempt finished and this is its outcome (`done`).
 */
export type Claim = { state: 'claimed' } | { state: 'running' } | { state: 'done'; outcome: Outcome };

/**
 * Idempotency keys shared by every node of a deployment (a broker offers it, as Redis does), so a
 * retried call runs once wherever it lands: the first attempt claims its key while its handler runs
 * (a lease the node renews, so a claim dies with its node), then stores its outcome for the window.
 */
export interface SharedIdempotency {
  /** Claims `key` for this node, or says where it stands. */
  claim(key: string): Promise<Claim>;
  /** Keeps this node's claim of `key` alive while its handler runs. */
  renew(key: string): Promise<void>;
  /** Stores the outcome of the attempt that holds the claim, for retries on any node, for `windowMs`. */
  complete(key: string, outcome: Outcome, windowMs: number): Promise<void>;
  /** Gives the claim up without an outcome (an aborted attempt): a retry runs the call again. */
  release(key: string): Promise<void>;
  /** How long a claim lasts unless renewed: a dead node's calls can run elsewhere after it. */
  readonly leaseMs: number;
  /** How often a retry checks on an attempt running on another node. */
  readonly pollMs: number;
}

/**
 * Waits until this node may run the call or another attempt's outcome is known; undefined when the
 * caller gave up meanwhile (`wanted` turned false). Polls while another node runs it: that node
 * stores the outcome, or dies and its lease runs out.
 */
export async function claimAcrossNodes(
  store: SharedIdempotency,
  key: string,
  wanted: () => boolean,
): Promise<Exclude<Claim, { state: 'running' }> | undefined> {
  for (;;) {
    const claim = await store.claim(key);
    if (claim.state !== 'running') return claim;
    if (!wanted()) return undefined;
    await new Promise((resolve) => setTimeout(resolve, store.pollMs));
    if (!wanted()) return undefined;
  }
}

/**
 * This node's claim while its handler runs: renewed every third of the lease, then completed with
 * the outcome (or released, for an outcome a retry must not reuse). Errors go to `failed`.
 */
export class HeldClaim {
  readonly #store: SharedIdempotency;
  readonly #key: string;
  readonly #failed: (error: unknown) => void;
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(store: SharedIdempotency, key: string, failed: (error: unknown) => void) {
    this.#store = store;
    this.#key = key;
    this.#failed = failed;
    const renew = (): void => void store.renew(key).catch(failed);
    this.#timer = setInterval(renew, Math.max(1, Math.floor(store.leaseMs / 3)));
    this.#timer.unref();
  }

  finish(outcome: Outcome, reusable: boolean, windowMs: number): void {
    clearInterval(this.#timer);
    const done = reusable ? this.#store.complete(this.#key, outcome, windowMs) : this.#store.release(this.#key);
    done.catch(this.#failed);
  }
}
