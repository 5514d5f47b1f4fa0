import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { Outcome } from '../router/idempotency-cache.js';
import type { Claim, SharedIdempotency } from '../router/shared-idempotency.js';

/** How long a claim and a poll last, for `redisBroker({ idempotency })`. */
export interface SharedIdempotencyOptions {
  /** A claim's lease; the node renews it every third while the handler runs. @default 10_000 */
  leaseMs?: number;
  /** How often a retry checks on an attempt running on another node. @default 100 */
  pollMs?: number;
}

/**
 * One key per idempotency key, `<prefix>:idem:{<key>}`, holding `r:<node token>` while a node runs
 * the call (expiring with its lease) and then `d:<outcome JSON>` for the window. Each step is one
 * script, so two nodes can never both claim a key, and only the holder renews, completes or
 * releases it.
 */
const CLAIM_SCRIPT = `
local held = redis.call('GET', KEYS[1])
if not held then
  redis.call('SET', KEYS[1], 'r:' .. ARGV[1], 'PX', ARGV[2])
  return 'claimed'
end
if held == 'r:' .. ARGV[1] then return 'claimed' end
return held
`;

/** KEYS[1]; ARGV: token, then the new value and its expiry (ms), or nothing to delete it. */
const HOLDER_SCRIPT = `
if redis.call('GET', KEYS[1]) ~= 'r:' .. ARGV[1] then return 0 end
if ARGV[2] == nil then return redis.call('DEL', KEYS[1]) end
if ARGV[2] == '' then return redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`;

type Run = (...args: unknown[]) => Promise<unknown>;

/** Idempotency keys in Redis, shared by every node of one prefix (see {@link SharedIdempotency}). */
export class RedisIdempotency implements SharedIdempotency {
  readonly leaseMs: number;
  readonly pollMs: number;
  readonly #redis: Redis | Cluster;
  readonly #prefix: string;
  /** This node's claims say whose they are: a node never mistakes another's for its own. */
  readonly #token = randomUUID();

  constructor(redis: Redis | Cluster, prefix: string, options: SharedIdempotencyOptions = {}) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.leaseMs = options.leaseMs ?? 10_000;
    this.pollMs = options.pollMs ?? 100;
    redis.defineCommand('wirecallIdemClaim', { numberOfKeys: 1, lua: CLAIM_SCRIPT });
    redis.defineCommand('wirecallIdemHolder', { numberOfKeys: 1, lua: HOLDER_SCRIPT });
  }

  async claim(key: string): Promise<Claim> {
    const held = String(await this.#run('wirecallIdemClaim', this.#name(key), this.#token, this.leaseMs));
    if (held === 'claimed') return { state: 'claimed' };
    if (held.startsWith('d:')) return { state: 'done', outcome: JSON.parse(held.slice(2)) as Outcome };
    return { state: 'running' };
  }

  async renew(key: string): Promise<void> {
    await this.#run('wirecallIdemHolder', this.#name(key), this.#token, '', this.leaseMs);
  }

  async complete(key: string, outcome: Outcome, windowMs: number): Promise<void> {
    await this.#run(
      'wirecallIdemHolder',
      this.#name(key),
      this.#token,
      `d:${JSON.stringify(outcome)}`,
      Math.max(1, windowMs),
    );
  }

  async release(key: string): Promise<void> {
    await this.#run('wirecallIdemHolder', this.#name(key), this.#token);
  }

  #name(key: string): string {
    return `${this.#prefix}:idem:{${key}}`;
  }

  #run(command: string, ...args: unknown[]): Promise<unknown> {
    return ((this.#redis as unknown as Record<string, Run>)[command] as Run).call(this.#redis, ...args);
  }
}
