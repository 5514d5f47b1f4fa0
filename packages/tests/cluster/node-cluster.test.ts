import type { WirecallClient } from '@wirecall/client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { closing } from '../helpers/chaos-kit.js';
import { RawClient } from '../helpers/raw-client.js';
import { presence } from '@wirecall/client/presence';
import { connectClient } from '../helpers/test-server.js';
import { killAllChildren, startJsonChild } from './helpers/json-child.js';
import { nodeClusterApi } from './helpers/node-cluster-api.js';
import { checkSequence, perfectSequence } from './helpers/sequence.js';

/**
 * One server process per core on one port (node:cluster), sharing events, history, presence and
 * idempotency keys through the primary (`setupPrimary` / `workerBroker`), without Redis. The
 * deployment runs in a child process of its own: a primary and two workers.
 */
afterEach(() => killAllChildren());

type Client = WirecallClient<typeof nodeClusterApi>;

async function startDeployment() {
  const child = await startJsonChild<{ port: number }>('node-cluster-main.ts', {});
  return Object.assign(child, { url: `ws://127.0.0.1:${child.ready.port}` });
}

/** Connects clients until there is one on each of the two workers (node:cluster deals them round-robin). */
async function onEachWorker(url: string): Promise<[Client, Client]> {
  const byWorker = new Map<number, Client>();
  for (let attempt = 0; attempt < 10 && byWorker.size < 2; attempt++) {
    const client = connectClient(nodeClusterApi, url, { presence });
    const worker = await client.call.worker(null);
    if (byWorker.has(worker)) await client.close();
    else byWorker.set(worker, client);
  }
  expect(byWorker.size).toBe(2);
  return [...byWorker.values()] as [Client, Client];
}

describe('node:cluster workers sharing one in-machine broker', () => {
  it('an event emitted on one worker reaches subscribers on the other; a worker hears only what it follows', async () => {
    await using deployment = await startDeployment();
    const [first, second] = await onEachWorker(deployment.url);
    await using _first = closing(first);
    await using _second = closing(second);
    const seqs: number[] = [];
    let warmUps = 0;
    // Seq 0 only shows that the subscription is in place (it may be emitted, and arrive, more than once).
    second.on('tick', { room: 'a' }, (tick) => (tick.seq === 0 ? warmUps++ : seqs.push(tick.seq)));
    await vi.waitFor(async () => {
      await first.call.emit({ room: 'warm-up', seq: 0 });
      expect(await second.call.received(null)).toBe(0); // it follows room a only
    });
    await vi.waitFor(async () => {
      await first.call.emit({ room: 'a', seq: 0 });
      expect(warmUps).toBeGreaterThan(0);
    });
    for (let seq = 1; seq <= 50; seq++) await first.call.emit({ room: 'a', seq });
    await vi.waitFor(() => expect(seqs).toHaveLength(50));
    expect(checkSequence(seqs, 50)).toEqual(perfectSequence(50));
    // The emitting worker follows nothing: the primary sent it none of those events.
    expect(await first.call.received(null)).toBe(0);
  });

  it('a client that reconnects, to either worker, resumes from the shared history', async () => {
    await using deployment = await startDeployment();
    await using emitter = closing(connectClient(nodeClusterApi, deployment.url, { presence }));
    await using listener = closing(
      connectClient(nodeClusterApi, deployment.url, { presence, reconnect: { minDelayMs: 5, maxDelayMs: 20 } }),
    );
    const seqs: number[] = [];
    let gaps = 0;
    listener.on('tick', { room: 'r' }, (tick) => seqs.push(tick.seq), { onGap: () => gaps++ });
    const workers = new Set<number>();
    for (let seq = 1; seq <= 100; seq++) {
      await emitter.call.emit({ room: 'r', seq });
      if (seq % 20 === 0) {
        listener.reconnect();
        workers.add(await listener.call.worker(null));
      }
    }
    await vi.waitFor(() => expect(seqs.at(-1)).toBe(100));
    // The first events may precede the subscription; from its first event on, none is missing.
    const from = seqs[0]!;
    expect(
      checkSequence(
        seqs.map((seq) => seq - from + 1),
        101 - from,
      ),
    ).toEqual(perfectSequence(101 - from));
    expect(gaps).toBe(0);
    expect(workers.size).toBe(2); // it did move between the workers
  });

  it('shows the members of a room to clients on every worker', async () => {
    await using deployment = await startDeployment();
    const [first, second] = await onEachWorker(deployment.url);
    await using _first = closing(first);
    await using _second = closing(second);
    const observed = second.presence('tick', { room: 'lobby' });
    first.presence('tick', { room: 'lobby' }).join({ name: 'ann' });
    await vi.waitFor(() =>
      expect([...observed.members.values()].map((member) => member.data)).toEqual([{ name: 'ann' }]),
    );
  });

  it('a retried call runs once on any worker: the retry gets the answer of the attempt that finished', async () => {
    await using deployment = await startDeployment();
    const raws: RawClient[] = [];
    const workers = new Map<number, RawClient>();
    for (let attempt = 0; attempt < 10 && workers.size < 2; attempt++) {
      const raw = await RawClient.greeted(deployment.url, nodeClusterApi.fingerprint);
      raws.push(raw);
      const answer = await raw.request({ t: 'call', id: 1, p: 'worker', v: null });
      workers.set(answer.v as number, raw);
    }
    try {
      const [onOne, onOther] = [...workers.values()] as [RawClient, RawClient];
      const call = { t: 'call', id: 2, p: 'charge', v: { id: 'order', ms: 300 }, ik: 'client:1' };
      const first = onOne.request(call);
      await new Promise((resolve) => setTimeout(resolve, 100)); // it runs on the first worker now
      const retried = onOther.request({ ...call, id: 3 });
      expect(await first).toMatchObject({ t: 'result', v: 1 });
      expect(await retried).toMatchObject({ t: 'result', v: 1 });
      expect(await deployment.request('charges', { id: 'order' })).toBe(1);
    } finally {
      for (const raw of raws) raw.socket.close();
    }
  });
});
