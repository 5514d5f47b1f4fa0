import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { createClient } from '@wirecall/client';
import { chaosSeed, closing, dice } from '../helpers/chaos-kit.js';
import { clusterApi } from './helpers/cluster-api.js';
import { deliveryVerdict, Emitter, eventsOwed, perfectDelivery, startCluster } from './helpers/cluster-run.js';
import { closeAllInProcessNodes, startInProcessNode } from './helpers/in-process-node.js';
import { killAllChildren } from './helpers/json-child.js';
import { startNode } from './helpers/node-process.js';
import { deleteKeys, proxyToRedis, REDIS_URL, redisSuite, requireRedis, uniquePrefix } from './helpers/redis.js';

const redis = await requireRedis();

const NODES = 3;
const CLIENTS = 300;
/** Fewer events than the fan-out suite (which proves the volume): this one is about the kill. */
const EVENTS = 4_000;
const ROOMS = 10;
const ROOMS_PER_CLIENT = { min: 1, max: 3 };
const CLIENT_PROCESSES = 2;
const MAX_BURST = 20;
/** The victim is killed once this many events were accepted. */
const KILL_AFTER = 1_200;
const VICTIM = 1;

const silent = { warn: () => {}, error: () => {} };

describe.skipIf(!redis.available)(redisSuite('a node dies: its clients resume on the others', redis), () => {
  const prefix = uniquePrefix('failover');
  afterEach(async () => {
    await killAllChildren();
    await closeAllInProcessNodes();
  });
  afterAll(() => deleteKeys(REDIS_URL, prefix));

  it(
    `SIGKILL of one of ${NODES} nodes mid-stream: its clients move and recover every event from the shared history`,
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
        prefix: `${prefix}-a`,
      });
      const victim = cluster.nodes[VICTIM]!;
      const onVictim = cluster.plans.filter((plan) => plan.first === VICTIM).length;
      const emitter = new Emitter(cluster.nodes, cluster.rooms, dice(seed ^ 0x5bd1_e995));
      const emitting = emitter.run({ events: EVENTS, maxBurst: MAX_BURST });

      await emitter.reached(KILL_AFTER);
      // No emit to the victim is in flight when it dies: every emit's fate is known.
      await emitter.retire(VICTIM);
      const emittedByVictim = emitter.perNode[VICTIM]!;
      await victim.kill('SIGKILL');
      const acceptedAtKill = emitter.accepted;

      const expected = await emitting;
      const report = await cluster.settled(expected, 40_000, why);

      expect(emittedByVictim, why('events the victim emitted before it died')).toBeGreaterThan(0);
      expect(EVENTS - acceptedAtKill, why('events emitted after the kill')).toBeGreaterThan(EVENTS * 0.3);
      const owed = eventsOwed(cluster.plans, expected);
      expect(deliveryVerdict(report, owed), why('delivery')).toEqual(perfectDelivery(cluster.pairs, owed));
      // The victim's clients, and only they, moved to the surviving nodes, each with one reconnect.
      expect(report.moved, why('clients that moved')).toBe(onVictim);
      expect(report.opens, why('connections opened')).toBe(CLIENTS + onVictim);
      expect(report.byNode[victim.name], why('clients left on the victim')).toBeUndefined();
      expect(report.open, why('clients open at the end')).toBe(CLIENTS);
      for (const node of cluster.nodes.filter((node) => node !== victim)) {
        expect(
          node.logs.filter((log) => log.level !== 'info'),
          why(`${node.name} log`),
        ).toEqual([]);
      }
    },
  );

  it('a subscriber that saw no event yet when its node died still gets the events emitted meanwhile', async () => {
    const room = 'empty-until-the-outage';
    const nodes = await Promise.all(
      ['node-a', 'node-b'].map((name) => startNode({ name, redisUrl: REDIS_URL, prefix: `${prefix}-b` })),
    );
    const [first, second] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
    // The first connect goes to node-a; the reconnect waits until the test lets it go to node-b, so
    // the events below are emitted while the client is certainly disconnected.
    let openGate: () => void = () => {};
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    let connects = 0;
    await using client = closing(
      createClient(clusterApi, {
        url: async () => (connects++ === 0 ? first.url : gate.then(() => second.url)),
        reconnect: { minDelayMs: 10, maxDelayMs: 50 },
        logger: silent,
      }),
    );
    const seqs: number[] = [];
    let gaps = 0;
    client.on('tick', { room }, (tick) => seqs.push(tick.seq), { onGap: () => gaps++ });
    expect(await client.call.whoami(null)).toBe('node-a');
    // node-a has sent welcome, the whoami answer and `subscribed`: the client knows where the stream
    // stands (its beginning). Before `subscribed` arrives a client has no position to resume from.
    await vi.waitFor(
      async () => {
        const stats = await first.stats();
        expect(stats.subscriptions).toBe(1);
        expect(stats.messagesOut).toBeGreaterThanOrEqual(3);
      },
      { timeout: 10_000 },
    );

    await first.kill('SIGKILL');
    await vi.waitFor(() => expect(client.state).toBe('reconnecting'), { timeout: 10_000 });
    expect(await second.emit(room, [1, 2, 3])).toHaveLength(3);
    openGate();
    expect(await client.call.whoami(null)).toBe('node-b');
    await vi.waitFor(async () => expect((await second.stats()).subscriptions).toBe(1), { timeout: 10_000 });
    await second.emit(room, [4]);
    await vi.waitFor(() => expect(seqs).toContain(4), { timeout: 10_000 });

    // Events 1-3 were emitted while the client was away and are in Redis: it must get them, or at
    // the very least be told that it missed something (a gap), never lose them silently.
    expect({ seqs, gaps }).toEqual({ seqs: [1, 2, 3, 4], gaps: 0 });
  });

  it('a node whose Redis feed lags behind does not send a resuming client events it already has', async () => {
    // node-a talks to Redis directly, node-b through a proxy that delays every byte by LAG_MS: node-b
    // hears of each event (Pub/Sub) LAG_MS after node-a. A client that got event 1 from node-a and
    // moves to node-b at once resumes after event 1, before node-b has heard of it.
    const LAG_MS = 400;
    const room = 'lagging-feed';
    await using proxy = await proxyToRedis();
    await using nodeA = await startInProcessNode({ name: 'node-a', redisUrl: REDIS_URL, prefix: `${prefix}-c` });
    await using nodeB = await startInProcessNode({ name: 'node-b', redisUrl: proxy.redisUrl, prefix: `${prefix}-c` });
    await using client = closing(createClient(clusterApi, { url: [nodeA.url, nodeB.url], logger: silent }));
    const seqs: number[] = [];
    let gaps = 0;
    client.on('tick', { room }, (tick) => seqs.push(tick.seq), { onGap: () => gaps++ });
    expect(await client.call.whoami(null)).toBe('node-a');
    await vi.waitFor(() => expect(nodeA.server.stats().subscriptions).toBe(1), { timeout: 10_000 });
    proxy.latency(LAG_MS);

    await nodeA.emit(room, 1);
    await vi.waitFor(() => expect(seqs).toEqual([1]), { timeout: 10_000 });
    // 1001 from node-a: the client reconnects at once, to node-b, and resumes after event 1.
    await nodeA.close();
    await vi.waitFor(() => expect(nodeB.server.stats().subscriptions).toBe(1), { timeout: 10_000 });
    expect(await client.call.whoami(null)).toBe('node-b');
    for (const seq of [2, 3]) {
      await nodeB.emit(room, seq);
      await vi.waitFor(() => expect(seqs).toContain(seq), { timeout: 10_000 });
    }
    // node-b heard of event 1 after the client had resumed past it: it must not send it again.
    expect({ seqs, gaps }).toEqual({ seqs: [1, 2, 3], gaps: 0 });
  });
});
