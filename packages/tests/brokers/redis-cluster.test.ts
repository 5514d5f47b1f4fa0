import type { HistoryOptions } from '@wirecall/server';
import { redisBroker, type RedisBroker } from '@wirecall/server/redis';
import { afterAll, beforeAll, describe } from 'vitest';
import { suiteTitle, uniquePrefix } from '../cluster/helpers/redis.js';
import { startRedisCluster, type RedisClusterProcess } from '../cluster/helpers/redis-cluster.js';
import { requireRedisServerBinary } from '../cluster/helpers/redis-server.js';
import { describeBrokerConformance } from './broker-conformance.js';

/**
 * The Redis broker on a Redis Cluster of the suite's own (three primaries with a replica each):
 * streams spread over the shards, nodes subscribe on the shards of what they follow.
 */
const binary = requireRedisServerBinary();

describe.skipIf(!binary.available)(suiteTitle('Redis broker on a Redis Cluster', binary), () => {
  let cluster: RedisClusterProcess;
  beforeAll(async () => {
    cluster = await startRedisCluster();
  }, 60_000);
  afterAll(() => cluster?.stop());

  describeBrokerConformance('Redis broker on a Redis Cluster', () => {
    const prefix = uniquePrefix('conformance');
    const nodes: RedisBroker[] = [];
    return {
      interestRouting: true,
      exactTrim: false,
      async node(history?: HistoryOptions) {
        const broker = redisBroker({
          cluster: { nodes: cluster.nodes },
          prefix,
          ...(history === undefined ? {} : { history }),
        });
        nodes.push(broker);
        await broker.ready();
        return broker;
      },
      async cleanUp() {
        await Promise.all(nodes.map((broker) => broker.close()));
      },
    };
  });
});
