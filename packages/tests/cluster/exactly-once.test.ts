import { createClient } from '@wirecall/client';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { closing } from '../helpers/chaos-kit.js';
import { RawClient } from '../helpers/raw-client.js';
import { quietClientLogger } from '../helpers/test-server.js';
import { chargeCountKey } from './helpers/charge-handler.js';
import { clusterApi } from './helpers/cluster-api.js';
import { closeAllInProcessNodes, startInProcessNode } from './helpers/in-process-node.js';
import { killAllChildren } from './helpers/json-child.js';
import { startNode } from './helpers/node-process.js';
import { prefixesDeletedAfterAll, REDIS_URL, redisSuite, requireRedis } from './helpers/redis.js';

/**
 * Idempotency keys live in Redis, shared by every node: a retried idempotent call runs once
 * wherever it lands. Its first attempt claims the key while its handler runs (a lease its node
 * renews), then stores the outcome; a retry on another node waits for that outcome, or runs the
 * call itself once a dead node's lease has run out.
 */
const redis = await requireRedis();
const prefixFor = prefixesDeletedAfterAll(redis);

afterEach(async () => {
  await closeAllInProcessNodes();
  await killAllChildren();
});

/** How many attempts of `charge(id)` ran to their end, on every node. */
async function charges(prefix: string, id: string): Promise<number> {
  const direct = new Redis(REDIS_URL);
  try {
    return Number((await direct.get(chargeCountKey(prefix, id))) ?? 0);
  } finally {
    direct.disconnect();
  }
}

describe.skipIf(!redis.available)(redisSuite('exactly once across nodes (Redis broker)', redis), () => {
  it('a retry on another node gets the answer of the attempt that finished, without running again', async () => {
    const prefix = prefixFor('once-done');
    await using nodeA = await startInProcessNode({ name: 'a', redisUrl: REDIS_URL, prefix });
    await using nodeB = await startInProcessNode({ name: 'b', redisUrl: REDIS_URL, prefix });
    const call = { t: 'call', id: 1, p: 'charge', v: { id: 'order-1', ms: 0 }, ik: 'client-1:1' };
    await using onA = await RawClient.greeted(nodeA.url, clusterApi.fingerprint);
    expect(await onA.request(call)).toMatchObject({ t: 'result', v: 1 });
    // The answer was lost on the way (the client never saw it): the retry lands on node B.
    await using onB = await RawClient.greeted(nodeB.url, clusterApi.fingerprint);
    expect(await onB.request(call)).toMatchObject({ t: 'result', v: 1 });
    // Another key is another call: it runs.
    expect(await onB.request({ ...call, id: 2, ik: 'client-1:2' })).toMatchObject({ t: 'result', v: 2 });
    expect(await charges(prefix, 'order-1')).toBe(2);
  });

  it('a retry that lands on another node while the first attempt still runs waits for its answer', async () => {
    const prefix = prefixFor('once-running');
    await using nodeA = await startInProcessNode({ name: 'a', redisUrl: REDIS_URL, prefix });
    await using nodeB = await startInProcessNode({ name: 'b', redisUrl: REDIS_URL, prefix });
    let url = nodeA.url;
    await using client = closing(createClient(clusterApi, { url: () => url, logger: quietClientLogger }));
    expect(await client.call.whoami(null)).toBe('a');
    const charged = client.call.charge({ id: 'order-2', ms: 800 });
    await new Promise((resolve) => setTimeout(resolve, 200)); // the handler runs on node A now
    // The client moves to node B mid-call and sends the call again, with the same idempotency key.
    url = nodeB.url;
    client.reconnect();
    await expect(charged).resolves.toBe(1);
    expect(await client.call.whoami(null)).toBe('b');
    expect(await charges(prefix, 'order-2')).toBe(1);
  });

  it('a node killed mid-call: the retry on another node runs the call once its lease runs out', async () => {
    const prefix = prefixFor('once-killed');
    const leaseMs = 600;
    const victim = await startNode({ name: 'victim', redisUrl: REDIS_URL, prefix, leaseMs });
    const survivor = await startNode({ name: 'survivor', redisUrl: REDIS_URL, prefix, leaseMs });
    await using client = closing(
      createClient(clusterApi, {
        url: [victim.url, survivor.url],
        logger: quietClientLogger,
        reconnect: { minDelayMs: 20, maxDelayMs: 100 },
      }),
    );
    expect(await client.call.whoami(null)).toBe('victim');
    const charged = client.call.charge({ id: 'order-3', ms: 1_000 }, { timeoutMs: 20_000 });
    await new Promise((resolve) => setTimeout(resolve, 300)); // mid-call: the victim holds the key
    await victim.kill('SIGKILL');
    // The survivor waits for the victim's lease to run out (nothing renews it), then runs the call.
    await expect(charged).resolves.toBe(1);
    expect(await client.call.whoami(null)).toBe('survivor');
    expect(await charges(prefix, 'order-3')).toBe(1);
  }, 30_000);
});
