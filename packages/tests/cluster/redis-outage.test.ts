import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { createClient, type WirecallClient } from '@wirecall/client';
import { closing, outcomeOf, recordStates, type Outcome } from '../helpers/chaos-kit.js';
import { clusterApi, type ClusterApi } from './helpers/cluster-api.js';
import { closeAllInProcessNodes, startInProcessNode, type InProcessNode } from './helpers/in-process-node.js';
import { checkSequence, perfectSequence } from './helpers/sequence.js';
import { deleteKeys, proxyToRedis, REDIS_URL, redisSuite, requireRedis, uniquePrefix } from './helpers/redis.js';
import { killAllRedisServers, requireRedisServerBinary, startRedisServer } from './helpers/redis-server.js';

const redis = await requireRedis();
const binary = requireRedisServerBinary();

const silent = { warn: () => {}, error: () => {} };
const DISCONNECTED = 'broker disconnected: calls keep working, emits fail until it is back';
const CONNECTED = 'broker connected: events flow again';

afterEach(async () => {
  await closeAllInProcessNodes();
  await killAllRedisServers();
});

/** A client on one node, subscribed to `room`, recording the seqs it receives. */
function subscriber(node: InProcessNode, room: string) {
  const client = closing(createClient(clusterApi, { url: node.url, logger: silent }));
  const seqs: number[] = [];
  let gaps = 0;
  client.on('tick', { room }, (tick) => seqs.push(tick.seq), { onGap: () => gaps++ });
  return Object.assign(client, { seqs, gaps: () => gaps });
}

/** Calls `ping` in a loop until stopped, counting what resolved and what did not. */
function keepCalling(clients: readonly WirecallClient<ClusterApi>[]) {
  const tally = { ok: 0, failed: [] as string[], stop: false };
  const loops = clients.map(async (client) => {
    // Bounded: a test that forgets to stop it ends with the loop, not with a hang.
    for (let n = 0; n < 1_000_000 && !tally.stop; n++) {
      try {
        if ((await client.call.ping(n)) === n) tally.ok++;
        else tally.failed.push(`ping(${n}) answered something else`);
      } catch (error) {
        tally.failed.push(`ping(${n}): ${(error as Error).message}`);
      }
      // Well under the server's message rate limit (1,000/s): an unpaced loop on an idle machine
      // passes it and is rightly refused, which is not what this test is about.
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  });
  return Object.assign(tally, {
    async stopped() {
      tally.stop = true;
      await Promise.all(loops);
    },
  });
}

/** A plain connection for admin commands (CLIENT KILL) on a test's own Redis. */
function adminConnection(url: string): Redis & { close(): Promise<void> } {
  const redis = new Redis(url, { maxRetriesPerRequest: 0 });
  redis.on('error', () => {});
  return Object.assign(redis, { close: () => Promise.resolve(redis.disconnect()) });
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe.skipIf(!binary.available)(redisSuite('Redis restarts under a running cluster', binary), () => {
  it('calls keep working, emits during the outage reject, events flow again once Redis is back', async () => {
    const room = 'through-the-restart';
    const prefix = uniquePrefix('restart');
    await using redisServer = await startRedisServer();
    const nodes = await Promise.all(
      ['node-a', 'node-b'].map((name) => startInProcessNode({ name, redisUrl: redisServer.url, prefix })),
    );
    await using first = subscriber(nodes[0]!, room);
    await using second = subscriber(nodes[1]!, room);
    const clients = [first, second];
    await vi.waitFor(() => {
      for (const node of nodes) expect(node.server.stats().subscriptions).toBe(1);
    });
    const states = clients.map((client) => recordStates(client));

    // Before: events from both nodes reach both subscribers.
    for (const seq of range(1, 50)) await nodes[seq % 2]!.emit(room, seq);
    await vi.waitFor(() => {
      for (const client of clients) expect(client.seqs).toEqual(range(1, 50));
    });

    const calls = keepCalling(clients);
    await vi.waitFor(() => expect(calls.ok).toBeGreaterThan(20));

    // Redis dies. Emits from the moment it is gone until both nodes know it reject: every one of them.
    await redisServer.kill();
    const callsAtKill = calls.ok;
    const outage: Outcome<string>[] = [];
    const disconnected = (): boolean => nodes.every((node) => !node.server.stats().broker.connected);
    for (let i = 0; i < 10_000 && (outage.length < 20 || !disconnected()); i++) {
      outage.push(await outcomeOf(nodes[i % 2]!.emit(room, 1_000 + i)));
      // Paces the loop by a round trip, which also shows a call working without Redis.
      await first.call.ping(i);
    }
    await vi.waitFor(() => expect(disconnected()).toBe(true), { timeout: 10_000 });
    expect(outage.filter((outcome) => outcome.ok)).toEqual([]);
    for (const outcome of outage) expect(outcome.ok ? undefined : outcome.error).toBeInstanceOf(Error);
    // Calls went on while Redis was down.
    await vi.waitFor(() => expect(calls.ok).toBeGreaterThan(callsAtKill + 20));

    // Redis is back (empty: nothing was persisted). The nodes reconnect by themselves.
    await redisServer.restart();
    await vi.waitFor(
      () => {
        for (const node of nodes) expect(node.server.stats().broker.connected).toBe(true);
      },
      { timeout: 15_000 },
    );
    for (const seq of range(51, 100)) await nodes[seq % 2]!.emit(room, seq);
    await vi.waitFor(() => {
      for (const client of clients) expect(client.seqs.at(-1)).toBe(100);
    });
    await calls.stopped();

    // Every event accepted before or after the outage arrived once, in order; none of the refused ones.
    for (const [index, client] of clients.entries()) {
      expect(client.seqs).toEqual(range(1, 100));
      expect(client.gaps()).toBe(0);
      // The clients never noticed: their WebSocket stayed open throughout.
      expect(states[index]!.map((change) => change.state)).toEqual([]);
      expect(client.state).toBe('open');
    }
    expect(calls.failed).toEqual([]);
    expect(outage.length).toBeGreaterThanOrEqual(20);
    // Each node told its logger that the broker went away, then that it came back.
    for (const node of nodes) {
      const status = node.logs
        .map((entry) => entry.message)
        .filter((message) => message === DISCONNECTED || message === CONNECTED);
      expect(status, node.name).toEqual([DISCONNECTED, CONNECTED]);
      expect(
        node.logs.filter((entry) => entry.level === 'error'),
        node.name,
      ).toEqual([]);
    }
  });

  it("a drop of a node's command connection alone shows in its log as in its stats", async () => {
    const prefix = uniquePrefix('commands-drop');
    await using redisServer = await startRedisServer();
    await using node = await startInProcessNode({ name: 'node-a', redisUrl: redisServer.url, prefix });
    await using admin = closing(adminConnection(redisServer.url));
    await using client = subscriber(node, 'after-the-drop');
    await vi.waitFor(() => expect(node.server.stats().subscriptions).toBe(1));

    // Kills the node's command connection (a normal client), not its Pub/Sub one.
    expect(await admin.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes')).toBeGreaterThanOrEqual(1);
    // ioredis waits at least 50 ms before it reconnects: polling every 5 ms sees the outage.
    await vi.waitFor(() => expect(node.server.stats().broker.connected).toBe(false), { timeout: 5_000, interval: 5 });
    await vi.waitFor(() => expect(node.server.stats().broker.connected).toBe(true), { timeout: 10_000 });
    await node.emit('after-the-drop', 1);
    await vi.waitFor(() => expect(client.seqs).toEqual([1]));
    // stats() said disconnected for a moment, then connected: the log must tell the same story.
    const status = node.logs
      .map((entry) => entry.message)
      .filter((message) => message === DISCONNECTED || message === CONNECTED);
    expect(status).toEqual([DISCONNECTED, CONNECTED]);
  });
});

describe.skipIf(!redis.available)(redisSuite("a node's link to Redis is cut", redis), () => {
  const prefix = uniquePrefix('link-cut');
  afterAll(() => deleteKeys(REDIS_URL, prefix));

  it('the node catches up from history each time: its subscribers miss nothing, in order, nothing twice', async () => {
    const room = 'through-the-cut';
    await using proxy = await proxyToRedis();
    // History deep enough for any of the outages (the stream holds every event of the test): the
    // point here is catching up, not what happens past the history (the next test).
    const history = { maxEvents: 100_000 };
    await using emitter = await startInProcessNode({ name: 'node-a', redisUrl: REDIS_URL, prefix, history });
    await using cut = await startInProcessNode({ name: 'node-b', redisUrl: proxy.redisUrl, prefix, history });
    await using client = subscriber(cut, room);
    await vi.waitFor(() => expect(cut.server.stats().subscriptions).toBe(1));
    const states = recordStates(client);

    // node-b's connections to Redis (commands and Pub/Sub) are reset at each of CUTS, or as soon as it
    // has healed from the previous cut; Redis stays up, so every event stays in the history. The
    // stream goes on (past TOTAL if need be) until every cut has happened.
    const TOTAL = 3_000;
    const CUTS = [400, 900, 1_400, 1_900, 2_400];
    let cuts = 0;
    let last = 0;
    for (let seq = 1; seq <= 100_000 && (seq <= TOTAL || cuts < CUTS.length); seq++) {
      await emitter.emit(room, seq);
      last = seq;
      // Healed means both of node-b's Redis connections are back through the proxy: the broker
      // may report itself connected a moment before its second connection is.
      if (cuts < CUTS.length && seq >= CUTS[cuts]! && cut.server.stats().broker.connected && proxy.open >= 2) {
        expect(proxy.resetAll()).toBeGreaterThanOrEqual(2);
        cuts++;
      }
    }
    expect(cuts).toBe(CUTS.length);
    await vi.waitFor(() => expect(cut.server.stats().broker.connected).toBe(true), { timeout: 10_000 });
    // A marker emitted once node-b is back: when it arrives, everything before it has.
    await emitter.emit(room, ++last);
    await vi.waitFor(() => expect(client.seqs).toContain(last), { timeout: 15_000 });

    const log = cut.logs.map(
      (entry) => `${entry.message}${entry.err instanceof Error ? `: ${entry.err.message}` : ''}`,
    );
    expect(checkSequence(client.seqs, last), `node-b log:\n${[...new Set(log)].join('\n')}`).toEqual(
      perfectSequence(last),
    );
    expect(client.gaps()).toBe(0);
    expect(states.map((change) => change.state)).toEqual([]);
    expect(cut.logs.map((entry) => entry.message)).toContain(DISCONNECTED);
  });

  it('tells subscribers of a gap when the link stays down longer than the history reaches, then goes on', async () => {
    const room = 'past-the-history';
    await using proxy = await proxyToRedis();
    const history = { maxEvents: 50 };
    const options = { prefix: `${prefix}-h`, history };
    await using emitter = await startInProcessNode({ name: 'node-a', redisUrl: REDIS_URL, ...options });
    await using cut = await startInProcessNode({ name: 'node-b', redisUrl: proxy.redisUrl, ...options });
    await using client = subscriber(cut, room);
    await vi.waitFor(() => expect(cut.server.stats().subscriptions).toBe(1));
    for (let seq = 1; seq <= 20; seq++) await emitter.emit(room, seq);
    await vi.waitFor(() => expect(client.seqs).toHaveLength(20));

    // node-b stays cut off while far more events than the history keeps are published.
    proxy.setEnabled(false);
    await vi.waitFor(() => expect(cut.server.stats().broker.connected).toBe(false));
    for (let seq = 21; seq <= 520; seq++) await emitter.emit(room, seq);
    proxy.setEnabled(true);
    await vi.waitFor(() => expect(cut.server.stats().broker.connected).toBe(true), { timeout: 10_000 });
    await emitter.emit(room, 521);
    await vi.waitFor(() => expect(client.seqs).toContain(521), { timeout: 10_000 });

    expect(client.gaps()).toBe(1);
    const seqs = client.seqs;
    expect(seqs.slice(0, 20)).toEqual(range(1, 20));
    // After the gap: the tail the history still held, in order, nothing twice, up to the marker.
    const after = seqs.slice(20);
    expect(after.length).toBeGreaterThan(1);
    expect(after.length).toBeLessThan(501);
    expect(after).toEqual(range(after[0]!, 521));
    expect(cut.logs.map((entry) => entry.message)).toContain(
      'events of a stream were lost from history; its subscribers get a gap',
    );
  });

  it('emits whose answers are lost when the link drops are published once, never twice', async () => {
    const room = 'in-flight-at-the-cut';
    await using proxy = await proxyToRedis();
    await using listener = await startInProcessNode({ name: 'node-a', redisUrl: REDIS_URL, prefix: `${prefix}-b` });
    await using emitter = await startInProcessNode({ name: 'node-b', redisUrl: proxy.redisUrl, prefix: `${prefix}-b` });
    await using client = subscriber(listener, room);
    await vi.waitFor(() => expect(listener.server.stats().subscriptions).toBe(1));

    // Many emits at once, pipelined on node-b's one command connection, through a link that delays
    // every byte by a second. Once Redis has run them all (node-a's subscriber has heard of every
    // one), and while their answers are still on the way to node-b, the link is reset: the answers
    // are lost. The emitter cannot know whether such an emit happened, so it may reject; what must
    // not happen is that it runs a second time.
    const TOTAL = 3_000;
    proxy.latency(1_000);
    const outcomes = range(1, TOTAL).map((seq) => outcomeOf(emitter.emit(room, seq)));
    await vi.waitFor(() => expect(client.seqs.length).toBeGreaterThanOrEqual(TOTAL), { timeout: 15_000 });
    expect(emitter.server.stats().broker.connected).toBe(true);
    proxy.latency(0);
    expect(proxy.resetAll()).toBeGreaterThanOrEqual(2);
    const results = await Promise.all(outcomes);
    const accepted = range(1, TOTAL).filter((_, index) => results[index]!.ok);
    // The marker: everything before it has been delivered. Right after the reset the link is still
    // reconnecting and an emit rejects (by design), so it is retried until accepted.
    await vi.waitFor(() => emitter.emit(room, TOTAL + 1), { timeout: 15_000 });
    await vi.waitFor(() => expect(client.seqs.at(-1)).toBe(TOTAL + 1), { timeout: 15_000 });

    const copies = new Map<number, number>();
    for (const seq of client.seqs) copies.set(seq, (copies.get(seq) ?? 0) + 1);
    const twice = [...copies].filter(([, count]) => count > 1).map(([seq]) => seq);
    const lost = accepted.filter((seq) => !copies.has(seq));
    expect({
      emittedTwice: twice.length,
      examples: twice.slice(0, 5),
      acceptedButLost: lost.length,
    }).toEqual({ emittedTwice: 0, examples: [], acceptedButLost: 0 });
  });
});
