import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { chaosSeed, dice } from '../helpers/chaos-kit.js';
import { deliveryVerdict, Emitter, eventsOwed, perfectDelivery, startCluster } from './helpers/cluster-run.js';
import { killAllChildren } from './helpers/json-child.js';
import { deleteKeys, REDIS_URL, redisSuite, requireRedis, uniquePrefix } from './helpers/redis.js';

const redis = await requireRedis();

const NODES = 3;
const CLIENTS = 300;
const EVENTS = 10_000;
const ROOMS = 10;
const ROOMS_PER_CLIENT = { min: 1, max: 3 };
/** The clients run in two processes, so receiving uses both cores while the test drives the emits. */
const CLIENT_PROCESSES = 2;
/** Each burst: 1 to MAX_BURST consecutive events of one room from one random node. */
const MAX_BURST = 20;

describe.skipIf(!redis.available)(redisSuite('fan-out across 3 nodes sharing one Redis', redis), () => {
  const prefix = uniquePrefix('fan-out');
  afterEach(killAllChildren);
  afterAll(() => deleteKeys(REDIS_URL, prefix));

  it(
    `delivers ${EVENTS} events emitted from random nodes to ${CLIENTS} clients: each gets its rooms' events once, in order`,
    { timeout: 60_000 },
    async () => {
      const seed = chaosSeed();
      const why = (what: string): string => `${what} (seed ${seed}; replay with WIRECALL_SEED=${seed})`;
      await using cluster = await startCluster({
        nodes: NODES,
        clients: CLIENTS,
        rooms: ROOMS,
        roomsPerClient: ROOMS_PER_CLIENT,
        clientProcesses: CLIENT_PROCESSES,
        seed,
        redisUrl: REDIS_URL,
        prefix,
      });
      const emitter = new Emitter(cluster.nodes, cluster.rooms, dice(seed ^ 0x5bd1_e995));
      const expected = await emitter.run({ events: EVENTS, maxBurst: MAX_BURST });
      const report = await cluster.settled(expected, 40_000, why);

      expect(
        Object.values(expected).reduce((sum, n) => sum + n, 0),
        why('events emitted'),
      ).toBe(EVENTS);
      // Every node emitted a share of the events, and rooms changed emitting node often: the order of
      // a stream holds across nodes, not only within one.
      for (const [index, count] of emitter.perNode.entries()) {
        expect(count, why(`events emitted by node-${index}`)).toBeGreaterThan(EVENTS / NODES / 2);
      }
      expect(emitter.crossNode, why('bursts that switched node within a room')).toBeGreaterThan(200);
      const owed = eventsOwed(cluster.plans, expected);
      expect(deliveryVerdict(report, owed), why('delivery')).toEqual(perfectDelivery(cluster.pairs, owed));
      expect(report.opens, why('connections opened (no client reconnected)')).toBe(CLIENTS);
      expect(report.byNode, why('clients per node')).toEqual({ 'node-0': 100, 'node-1': 100, 'node-2': 100 });
      for (const node of cluster.nodes) {
        expect(
          node.logs.filter((log) => log.level !== 'info'),
          why(`${node.name} log`),
        ).toEqual([]);
      }
    },
  );
});
