import { natsBroker, type NatsBroker } from '@wirecall/server/nats';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { closing } from '../helpers/chaos-kit.js';
import { connectClient, startTestServer } from '../helpers/test-server.js';
import { deleteStream, natsSuite, requireNats } from '../brokers/nats.js';
import { clusterApi } from './helpers/cluster-api.js';
import { uniquePrefix } from './helpers/redis.js';
import { checkSequence, perfectSequence } from './helpers/sequence.js';
import { RawClient } from '../helpers/raw-client.js';

/**
 * Server nodes sharing events through NATS JetStream: fan-out from any node, a node hears only the
 * streams its clients follow, and a client that moves to another node resumes from the shared
 * history without losing or repeating an event.
 */
const nats = await requireNats();
const brokers: NatsBroker[] = [];
const prefixes: string[] = [];

afterEach(async () => {
  await Promise.all(brokers.splice(0).map((broker) => broker.close()));
  for (const prefix of prefixes.splice(0)) await deleteStream(nats.url, prefix);
});

/** Runs of `charge` to their end, by id, on every node of the test (they share this process). */
const charged = new Map<string, number>();

/** A node of `prefix`: a wirecall server on its own NATS broker; `connections` collects who connects. */
async function startNode(prefix: string, name: string, connections: string[] = []) {
  const broker = natsBroker({ servers: nats.url, prefix, storage: 'memory', idempotency: { pollMs: 20 } });
  brokers.push(broker);
  await broker.ready();
  const node = await startTestServer(clusterApi, {
    broker,
    hooks: { onConnection: (connection) => connections.push(connection.id) },
    handlers: {
      whoami: () => name,
      ping: ({ input }) => input,
      charge: async ({ input }) => {
        await new Promise((resolve) => setTimeout(resolve, input.ms));
        const count = (charged.get(input.id) ?? 0) + 1;
        charged.set(input.id, count);
        return count;
      },
    },
  });
  const emit = (room: string, seq: number): Promise<string> =>
    node.server.emit('tick', { room, seq }, { params: { room } });
  return Object.assign(node, { emit });
}

function newPrefix(label: string): string {
  const prefix = uniquePrefix(label).replace(/[^A-Za-z0-9_-]/g, '_');
  prefixes.push(prefix);
  return prefix;
}

describe.skipIf(!nats.available)(natsSuite('server nodes on NATS JetStream', nats), () => {
  it('fans out from any node; a node hears only the streams its clients follow', async () => {
    const prefix = newPrefix('nats-fanout');
    await using nodeA = await startNode(prefix, 'a');
    await using nodeB = await startNode(prefix, 'b');
    await using client = closing(connectClient(clusterApi, nodeB.url));
    const seqs: number[] = [];
    client.on('tick', { room: 'x' }, (tick) => seqs.push(tick.seq));
    await vi.waitFor(() => expect(nodeB.server.stats().subscriptions).toBe(1));
    for (let seq = 1; seq <= 50; seq++) await (seq % 2 === 0 ? nodeA : nodeB).emit('x', seq);
    for (let seq = 1; seq <= 20; seq++) await nodeA.emit('elsewhere', seq);
    await vi.waitFor(() => expect(seqs).toHaveLength(50));
    expect(checkSequence(seqs, 50)).toEqual(perfectSequence(50));
    expect(nodeA.server.stats().broker.received.events).toBe(0);
    expect(nodeB.server.stats().broker.received.events).toBe(50);
  });

  it('a client that moves to another node resumes from the shared history, nothing lost or repeated', async () => {
    const prefix = newPrefix('nats-resume');
    const nodeA = await startNode(prefix, 'a');
    await using nodeB = await startNode(prefix, 'b');
    let url = nodeA.url;
    await using client = closing(
      connectClient(clusterApi, () => url, { reconnect: { minDelayMs: 20, maxDelayMs: 100 } }),
    );
    const seqs: number[] = [];
    let gaps = 0;
    client.on('tick', { room: 'lobby' }, (tick) => seqs.push(tick.seq), { onGap: () => gaps++ });
    await vi.waitFor(() => expect(nodeA.server.stats().subscriptions).toBe(1));
    for (let seq = 1; seq <= 10; seq++) await nodeA.emit('lobby', seq);
    await vi.waitFor(() => expect(seqs).toHaveLength(10));
    url = nodeB.url;
    await nodeA.server.close({ graceMs: 0 });
    for (let seq = 11; seq <= 30; seq++) await nodeB.emit('lobby', seq);
    await vi.waitFor(() => expect(seqs).toHaveLength(30), { timeout: 10_000 });
    expect(checkSequence(seqs, 30)).toEqual(perfectSequence(30));
    expect(gaps).toBe(0);
  });

  it('pushes to one connection on another node through NATS', async () => {
    const prefix = newPrefix('nats-push');
    const connections: string[] = [];
    await using nodeA = await startNode(prefix, 'a');
    await using nodeB = await startNode(prefix, 'b', connections);
    await using client = closing(connectClient(clusterApi, nodeB.url));
    const got: string[] = [];
    client.on('tick', { room: 'dm' }, (tick, meta) =>
      got.push(`${tick.seq} ${meta.id === undefined ? 'pushed' : 'event'}`),
    );
    await vi.waitFor(() => expect(nodeB.server.stats().subscriptions).toBe(1));
    // Emitted on node A, to a connection of node B only.
    await nodeA.server.emit('tick', { room: 'dm', seq: 1 }, { params: { room: 'dm' }, connection: connections[0]! });
    await vi.waitFor(() => expect(got).toEqual(['1 pushed']));
  });

  it('a retried call runs once on any node: the retry gets the answer of the attempt that finished', async () => {
    const prefix = newPrefix('nats-once');
    await using nodeA = await startNode(prefix, 'a');
    await using nodeB = await startNode(prefix, 'b');
    const call = { t: 'call', id: 1, p: 'charge', v: { id: `${prefix}-1`, ms: 0 }, ik: 'client-1:1' };
    await using onA = await RawClient.greeted(nodeA.url, clusterApi.fingerprint);
    expect(await onA.request(call)).toMatchObject({ t: 'result', v: 1 });
    await using onB = await RawClient.greeted(nodeB.url, clusterApi.fingerprint);
    expect(await onB.request(call)).toMatchObject({ t: 'result', v: 1 });
    // While the first attempt still runs on node A, a retry on node B waits for its answer.
    const slow = { ...call, id: 2, v: { id: `${prefix}-2`, ms: 500 }, ik: 'client-1:2' };
    const first = onA.request(slow);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const retried = onB.request({ ...slow, id: 3 });
    expect(await first).toMatchObject({ t: 'result', v: 1 });
    expect(await retried).toMatchObject({ t: 'result', v: 1 });
    expect(charged.get(`${prefix}-1`)).toBe(1);
    expect(charged.get(`${prefix}-2`)).toBe(1);
  });
});
