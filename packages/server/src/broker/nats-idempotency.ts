import type { JetStreamClient } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { Outcome } from '../router/idempotency-cache.js';
import type { Claim, SharedIdempotency } from '../router/shared-idempotency.js';
import type { SharedIdempotencyOptions } from './redis-idempotency.js';
import { kvBucket } from './nats-bucket.js';

/** Claims tried again when another node changed the key between our read and our write. */
const MAX_ATTEMPTS = 10;

/**
 * Idempotency keys in a NATS KV bucket (`WIRECALL_IDEM_<PREFIX>`), shared by every node of one
 * prefix (see {@link SharedIdempotency}). A key holds `r:<node token>:<lease end, ms>` while a node
 * runs the call, then `d:<outcome JSON>`; every change is a compare-and-set on the key's revision,
 * so two nodes never both claim it. KV entries expire bucket-wide, so a lease is the time written
 * in the value (nodes' clocks are assumed close), and the bucket keeps entries for the window.
 */
export class NatsIdempotency implements SharedIdempotency {
  readonly leaseMs: number;
  readonly pollMs: number;
  readonly #bucket: Promise<KV>;
  readonly #token = crypto.randomUUID();
  /** The revision of each key this node holds a claim of. */
  readonly #held = new Map<string, number>();
  /**
   * Per key, this node's last queued write: a renewal in flight and the completion after it would
   * both write over the same revision, and the loser's answer would be lost.
   */
  readonly #writes = new Map<string, Promise<void>>();

  constructor(js: Promise<JetStreamClient>, bucket: string, options: SharedIdempotencyOptions & { windowMs: number }) {
    this.leaseMs = options.leaseMs ?? 10_000;
    this.pollMs = options.pollMs ?? 100;
    const ttl = Math.max(options.windowMs, this.leaseMs) * 2;
    this.#bucket = js.then((client) => kvBucket(client, bucket, { ttl, history: 1 }));
    this.#bucket.catch(() => {}); // reported by the calls that need it
  }

  async claim(key: string): Promise<Claim> {
    const kv = await this.#bucket;
    const name = nameOf(key);
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const entry = await kv.get(name);
      if (entry === null || entry.operation !== 'PUT') {
        try {
          this.#held.set(key, await kv.create(name, this.#running()));
          return { state: 'claimed' };
        } catch {
          continue; // another node created it first: read what it holds
        }
      }
      const held = entry.string();
      if (held.startsWith('d:')) return { state: 'done', outcome: JSON.parse(held.slice(2)) as Outcome };
      const [, token, leaseEnd] = /^r:([^:]*):(\d+)$/.exec(held) ?? [];
      const mine = token === this.#token;
      if (!mine && Number(leaseEnd) > Date.now()) return { state: 'running' };
      // Ours already, or a lease that ran out (its node died): take it over, if nobody did first.
      try {
        this.#held.set(key, await kv.update(name, this.#running(), entry.revision));
        return { state: 'claimed' };
      } catch {
        continue;
      }
    }
    return { state: 'running' }; // contended all along: the caller polls again
  }

  async renew(key: string): Promise<void> {
    await this.#write(key, this.#running());
  }

  async complete(key: string, outcome: Outcome): Promise<void> {
    // Kept for the bucket's time to live, which covers the window.
    await this.#write(key, `d:${JSON.stringify(outcome)}`);
    this.#held.delete(key);
  }

  release(key: string): Promise<void> {
    return this.#queue(key, async () => {
      const revision = this.#held.get(key);
      this.#held.delete(key);
      if (revision === undefined) return;
      await (await this.#bucket).delete(nameOf(key), { previousSeq: revision });
    });
  }

  /** Writes over this node's claim of `key` (nothing when it has none, or lost it), after its earlier writes. */
  #write(key: string, value: string): Promise<void> {
    return this.#queue(key, async () => {
      const revision = this.#held.get(key);
      if (revision === undefined) return;
      this.#held.set(key, await (await this.#bucket).update(nameOf(key), value, revision));
    });
  }

  #queue(key: string, write: () => Promise<void>): Promise<void> {
    const queued = (this.#writes.get(key) ?? Promise.resolve()).then(write);
    const settled = queued.catch(() => {});
    this.#writes.set(key, settled);
    void settled.then(() => {
      if (this.#writes.get(key) === settled) this.#writes.delete(key);
    });
    return queued;
  }

  #running(): string {
    return `r:${this.#token}:${Date.now() + this.leaseMs}`;
  }
}

/** A KV key for an idempotency key: its base64url form (KV keys take a narrow alphabet). */
function nameOf(key: string): string {
  return Buffer.from(key).toString('base64url');
}
