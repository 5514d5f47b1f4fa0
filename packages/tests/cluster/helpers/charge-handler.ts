import { Redis } from 'ioredis';

/** The Redis key counting how many times `charge` ran to its end for `id`. */
export function chargeCountKey(prefix: string, id: string): string {
  return `${prefix}:charged:${id}`;
}

/**
 * The `charge` handler of the cluster contract: a side effect a node may die in the middle of (it
 * waits `ms` first), counted in Redis, so a test can tell how many attempts of one call ran to
 * their end, across every node. `close` releases its Redis connection.
 */
export function chargeHandler(redisUrl: string, prefix: string) {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  redis.on('error', () => {}); // a failed INCR rejects the call, which the test sees
  return {
    handler: async ({ input, signal }: { input: { id: string; ms: number }; signal: AbortSignal }): Promise<number> => {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, input.ms);
        signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
      });
      signal.throwIfAborted();
      return redis.incr(chargeCountKey(prefix, input.id));
    },
    close: () => redis.disconnect(),
  };
}
