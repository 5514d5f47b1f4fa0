import { afterAll } from 'vitest';
import { Redis } from 'ioredis';
import { startFaultProxy, type FaultProxy } from '../../helpers/fault-proxy.js';

/** The Redis the cluster tests use. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** How to get a local Redis, for the skip and failure messages. */
export const START_REDIS = 'redis-server --daemonize yes';

export interface RedisCheck {
  available: boolean;
  url: string;
  /** Why the suite cannot run, and how to fix it; empty when Redis answered. */
  reason: string;
}

/** A connection that gives up at once instead of retrying: for checks and cleanup, not for brokers. */
function connectOnce(url: string, timeoutMs: number): Redis {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  redis.on('error', () => {}); // reported through the rejected promises below
  return redis;
}

/** PINGs Redis once; resolves with what went wrong, or undefined when it answered PONG. */
export async function pingRedis(url: string, timeoutMs = 2_000): Promise<string | undefined> {
  const redis = connectOnce(url, timeoutMs);
  // ioredis rejects with "Connection is closed."; the socket's own error says why (ECONNREFUSED …).
  let socketError: string | undefined;
  redis.on('error', (error: Error) => (socketError ??= error.message));
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    await Promise.race([redis.connect().then(() => redis.ping()), timeout]);
    return undefined;
  } catch (error) {
    return socketError ?? (error instanceof Error ? error.message : String(error));
  } finally {
    clearTimeout(timer);
    redis.disconnect();
  }
}

/** `CI` is set to something other than `false`/`0` (GitHub Actions, GitLab and most others set `CI=true`). */
export function inCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env.CI;
  return value !== undefined && value !== '' && value !== 'false' && value !== '0';
}

/**
 * The guard of every suite that needs Redis: PINGs it before the suite is collected.
 * - Redis answers: `{ available: true }`.
 * - Redis is missing in CI: throws, so the run fails loudly with how to provide one (a skipped
 *   suite in CI would look green while proving nothing).
 * - Redis is missing locally: `{ available: false, reason }`; pass it to {@link redisSuite} so the
 *   suite is skipped with the reason in its name and on stderr.
 */
export async function requireRedis(
  url: string = REDIS_URL,
  env: NodeJS.ProcessEnv = process.env,
  timeoutMs?: number,
): Promise<RedisCheck> {
  const problem = await pingRedis(url, timeoutMs);
  if (problem === undefined) return { available: true, url, reason: '' };
  const reason =
    `Redis is not reachable at ${url} (${problem}). Start one with \`${START_REDIS}\` ` +
    '(or point REDIS_URL at one) to run the cluster tests';
  if (inCi(env)) {
    throw new Error(`${reason}. CI is set, so a missing Redis fails the run instead of skipping it.`);
  }
  return { available: false, url, reason };
}

/** The title of a suite guarded by `check`: a skipped suite says why in its own name. */
export function suiteTitle(title: string, check: RedisCheck): string {
  return check.available ? title : `${title} [skipped: ${check.reason}]`;
}

/**
 * {@link suiteTitle}, and when the suite is skipped, one line on stderr saying why and how to run
 * it, so the skip is visible in the run's output and not only in a verbose report.
 */
export function redisSuite(title: string, check: RedisCheck): string {
  if (!check.available) process.stderr.write(`[wirecall cluster tests] skipping "${title}": ${check.reason}.\n`);
  return suiteTitle(title, check);
}

/** A Redis key prefix no other test run shares. */
export function uniquePrefix(label: string): string {
  return `wirecall-test-${label}-${process.pid}-${Date.now()}`;
}

/**
 * Unique prefixes for one test file, their keys deleted after all its tests (call it at the top of
 * the file; with Redis missing, nothing is deleted).
 */
export function prefixesDeletedAfterAll(check: RedisCheck): (label: string) => string {
  const prefixes: string[] = [];
  afterAll(async () => {
    if (check.available) for (const prefix of prefixes) await deleteKeys(check.url, prefix);
  });
  return (label) => {
    const prefix = uniquePrefix(label);
    prefixes.push(prefix);
    return prefix;
  };
}

/** Deletes every key that starts with `prefix` (SCAN + UNLINK); resolves with how many there were. */
export async function deleteKeys(url: string, prefix: string): Promise<number> {
  const redis = connectOnce(url, 2_000);
  let deleted = 0;
  try {
    await redis.connect();
    let cursor = '0';
    // Bounded: SCAN visits every key once per full iteration; a test run creates a few dozen.
    for (let round = 0; round < 10_000; round++) {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) deleted += await redis.unlink(...keys);
      cursor = next;
      if (cursor === '0') break;
    }
    return deleted;
  } finally {
    redis.disconnect();
  }
}

/** Counts the keys that start with `prefix`. */
export async function countKeys(url: string, prefix: string): Promise<number> {
  const redis = connectOnce(url, 2_000);
  let count = 0;
  try {
    await redis.connect();
    let cursor = '0';
    for (let round = 0; round < 10_000; round++) {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      count += keys.length;
      cursor = next;
      if (cursor === '0') break;
    }
    return count;
  } finally {
    redis.disconnect();
  }
}

/** A fault proxy in front of the test Redis; its `redisUrl` reaches Redis through it. */
export async function proxyToRedis(): Promise<FaultProxy & { redisUrl: string }> {
  const target = new URL(REDIS_URL);
  const proxy = await startFaultProxy(Number(target.port || 6379), target.hostname);
  const viaProxy = new URL(REDIS_URL);
  viaProxy.hostname = '127.0.0.1';
  viaProxy.port = String(proxy.port);
  return Object.assign(proxy, { redisUrl: viaProxy.href });
}
