import { createClient, type WirecallClient } from '@wirecall/client';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { closing } from '../helpers/chaos-kit.js';
import { quietClientLogger } from '../helpers/test-server.js';
import { clusterApi, roomNames, type ClusterApi } from './helpers/cluster-api.js';
import { closeAllInProcessNodes, startInProcessNode, type InProcessNode } from './helpers/in-process-node.js';
import { startRedisCluster, type RedisClusterProcess } from './helpers/redis-cluster.js';
import { requireRedisServerBinary } from './helpers/redis-server.js';
import { checkSequence, perfectSequence } from './helpers/sequence.js';
import { suiteTitle, uniquePrefix } from './helpers/redis.js';

/**
 * The Redis broker on a real Redis Cluster (three primaries with two replicas each, started from
 * Debian's redis-server on free ports): streams spread over the shards, each node subscribes on the
 * shards of the streams its clients follow and hears nothing of the others, history and resume work
 * across nodes, and a primary's failover in the middle of a stream loses nothing silently.
 */
const binary = requireRedisServerBinary();

/** The Redis Stream holding a room's history (see the broker's redis-names.ts). */
function historyName(prefix: string, room: string): string {
  return `${prefix}:stream:{tick {"room":"${room}"}}`;
}

/** Subscribes a client to `rooms` and records each room's seqs; resolves once the node confirmed all. */
async function follow(
  client: WirecallClient<ClusterApi>,
  node: InProcessNode,
  rooms: readonly string[],
): Promise<{ seqs: Map<string, number[]>; gaps: () => number; off: Map<string, () => void> }> {
  const before = node.server.stats().subscriptions;
  const seqs = new Map<string, number[]>();
  const off = new Map<string, () => void>();
  let gaps = 0;
  for (const room of rooms) {
    seqs.set(room, []);
    off.set(
      room,
      client.on('tick', { room }, (tick) => seqs.get(room)!.push(tick.seq), { onGap: () => gaps++ }),
    );
  }
  await vi.waitFor(() => expect(node.server.stats().subscriptions).toBe(before + rooms.length), { timeout: 10_000 });
  return { seqs, gaps: () => gaps, off };
}

describe.skipIf(!binary.available)(suiteTitle('Redis broker on a Redis Cluster', binary), () => {
  let cluster: RedisClusterProcess;

  beforeAll(async () => {
    // Two replicas per primary: after a failover one is left for the writes that wait for a replica.
    cluster = await startRedisCluster({ replicas: 2 });
  }, 60_000);
  afterAll(() => cluster?.stop());
  afterEach(() => closeAllInProcessNodes());

  it('spreads streams over the shards; a node hears only the streams its clients follow', async () => {
    const prefix = uniquePrefix('rc-interest');
    await using nodeA = await startInProcessNode({ name: 'a', cluster: cluster.nodes, prefix });
    await using nodeB = await startInProcessNode({ name: 'b', cluster: cluster.nodes, prefix });
    const rooms = roomNames(10);
    const roomsOfA = rooms.slice(0, 5);
    const roomsOfB = rooms.slice(5);
    // The rooms' streams live on more than one shard: the routing is the cluster's, not one node's.
    const primaries = new Set(await Promise.all(rooms.map((room) => cluster.primaryOf(historyName(prefix, room)))));
    expect(primaries.size).toBeGreaterThan(1);
    await using clientA = closing(createClient(clusterApi, { url: nodeA.url, logger: quietClientLogger }));
    await using clientB = closing(createClient(clusterApi, { url: nodeB.url, logger: quietClientLogger }));
    const onA = await follow(clientA, nodeA, roomsOfA);
    const onB = await follow(clientB, nodeB, roomsOfB);

    const perRoom = 20;
    for (let seq = 1; seq <= perRoom; seq++) {
      // From both nodes, alternately: where an event is emitted does not matter.
      for (const [index, room] of rooms.entries()) await (index % 2 === 0 ? nodeA : nodeB).emit(room, seq);
    }
    for (const [room, seqs] of [...onA.seqs, ...onB.seqs]) {
      await vi.waitFor(() => expect(seqs.length, room).toBe(perRoom));
      expect(checkSequence(seqs, perRoom), room).toEqual(perfectSequence(perRoom));
    }
    // Each node received the events of its clients' five rooms, and nothing of the other five.
    expect(nodeA.server.stats().broker.received.events).toBe(5 * perRoom);
    expect(nodeB.server.stats().broker.received.events).toBe(5 * perRoom);
    expect(nodeA.server.stats().broker.received.bytes).toBeGreaterThan(0);

    // The last subscriber of a room leaves: its node stops hearing it.
    onA.off.get('room-0')!();
    await vi.waitFor(() => expect(nodeA.server.stats().subscriptions).toBe(4));
    const receivedBefore = nodeA.server.stats().broker.received.events;
    for (let seq = perRoom + 1; seq <= perRoom + 10; seq++) await nodeB.emit('room-0', seq);
    await nodeB.emit('room-1', perRoom + 1); // a room node A still follows, as a marker that traffic flows
    await vi.waitFor(() => expect(onA.seqs.get('room-1')).toHaveLength(perRoom + 1));
    expect(nodeA.server.stats().broker.received.events).toBe(receivedBefore + 1);
    expect(onA.gaps() + onB.gaps()).toBe(0);
  }, 60_000);

  it('resumes a client on another node from the cluster’s shared history', async () => {
    const prefix = uniquePrefix('rc-resume');
    const nodeA = await startInProcessNode({ name: 'a', cluster: cluster.nodes, prefix });
    await using nodeB = await startInProcessNode({ name: 'b', cluster: cluster.nodes, prefix });
    let url = nodeA.url;
    await using client = closing(
      createClient(clusterApi, {
        url: () => url,
        logger: quietClientLogger,
        reconnect: { minDelayMs: 20, maxDelayMs: 100 },
      }),
    );
    const { seqs, gaps } = await follow(client, nodeA, ['lobby']);
    for (let seq = 1; seq <= 10; seq++) await nodeA.emit('lobby', seq);
    await vi.waitFor(() => expect(seqs.get('lobby')).toHaveLength(10));
    // Node A goes away; what is emitted meanwhile is in the cluster's history for node B to replay.
    url = nodeB.url;
    await nodeA.close();
    for (let seq = 11; seq <= 30; seq++) await nodeB.emit('lobby', seq);
    await vi.waitFor(() => expect(seqs.get('lobby')).toHaveLength(30), { timeout: 10_000 });
    expect(checkSequence(seqs.get('lobby')!, 30)).toEqual(perfectSequence(30));
    expect(gaps()).toBe(0);
  }, 60_000);

  it('a primary’s failover mid-stream: every event once and in order, or a gap notice', async () => {
    const prefix = uniquePrefix('rc-failover');
    // Each emit resolves once a replica holds the event: what the emitter was told about survives.
    await using emitter = await startInProcessNode({ name: 'emitter', cluster: cluster.nodes, prefix, replicas: 1 });
    await using relay = await startInProcessNode({ name: 'relay', cluster: cluster.nodes, prefix });
    await using client = closing(createClient(clusterApi, { url: relay.url, logger: quietClientLogger }));
    const room = 'failover';
    const { seqs, gaps } = await follow(client, relay, [room]);
    const primary = await cluster.primaryOf(historyName(prefix, room));

    // A continuous stream: one event every 5 ms, through the failover and after it. An emit that
    // rejects is one the emitter knows was not acknowledged; those that resolve must arrive.
    const acknowledged: number[] = [];
    let stop = false;
    let seq = 0;
    const stream = (async () => {
      while (!stop) {
        seq++;
        try {
          await emitter.emit(room, seq);
          acknowledged.push(seq);
        } catch {
          // Not acknowledged: the primary was gone, or its replica was not serving yet.
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    await vi.waitFor(() => expect(seqs.get(room)!.length).toBeGreaterThan(50), { timeout: 10_000 });
    await cluster.failOver(primary);
    const afterFailover = acknowledged.length;
    await vi.waitFor(() => expect(acknowledged.length).toBeGreaterThan(afterFailover + 50), { timeout: 20_000 });
    stop = true;
    await stream;
    const lastAcknowledged = acknowledged.at(-1)!;
    await vi.waitFor(() => expect(seqs.get(room)!.at(-1)).toBe(lastAcknowledged), { timeout: 10_000 });

    const received = seqs.get(room)!;
    // Once and in order.
    expect(new Set(received).size).toBe(received.length);
    expect([...received].sort((a, b) => a - b)).toEqual(received);
    // Every acknowledged event arrived, unless the client was told of a gap.
    const missing = acknowledged.filter((each) => !received.includes(each));
    if (gaps() === 0) expect(missing).toEqual([]);
    expect(relay.logs.filter((entry) => entry.level === 'error')).toEqual([]);
  }, 90_000);
});
