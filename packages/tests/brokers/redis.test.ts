import type { HistoryOptions } from '@wirecall/server';
import { redisBroker, type RedisBroker } from '@wirecall/server/redis';
import { describe } from 'vitest';
import { deleteKeys, REDIS_URL, redisSuite, requireRedis, uniquePrefix } from '../cluster/helpers/redis.js';
import { describeBrokerConformance } from './broker-conformance.js';

/** The Redis broker on a standalone Redis (REDIS_URL): nodes are brokers sharing one prefix. */
const redis = await requireRedis();

describe.skipIf(!redis.available)(redisSuite('Redis broker', redis), () => {
  describeBrokerConformance('Redis broker', () => {
    const prefix = uniquePrefix('conformance');
    const nodes: RedisBroker[] = [];
    return {
      interestRouting: true,
      exactTrim: false,
      async node(history?: HistoryOptions) {
        const broker = redisBroker({ url: REDIS_URL, prefix, ...(history === undefined ? {} : { history }) });
        nodes.push(broker);
        await broker.ready();
        return broker;
      },
      async cleanUp() {
        await Promise.all(nodes.map((broker) => broker.close()));
        await deleteKeys(REDIS_URL, prefix);
      },
    };
  });
});
