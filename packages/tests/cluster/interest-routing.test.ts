import { createClient } from '@wirecall/client';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { closing } from '../helpers/chaos-kit.js';
import { RawClient, type RawFrame } from '../helpers/raw-client.js';
import { quietClientLogger } from '../helpers/test-server.js';
import { clusterApi } from './helpers/cluster-api.js';
import { closeAllInProcessNodes, startInProcessNode } from './helpers/in-process-node.js';
import { prefixesDeletedAfterAll, REDIS_URL, redisSuite, requireRedis } from './helpers/redis.js';
import { checkSequence, perfectSequence } from './helpers/sequence.js';

/**
 * Interest routing on a standalone Redis: a node subscribes to the channel of a stream only while
 * one of its connections does, so a node without subscribers of a stream receives none of its
 * traffic; subscriptions that come and go while events flow still miss nothing after their
 * `subscribed`; and a node that misses an announcement reads the event from history before the next.
 */
const redis = await requireRedis();
const prefixFor = prefixesDeletedAfterAll(redis);

afterEach(() => closeAllInProcessNodes());

const streamOf = (room: string): string => `tick {"room":"${room}"}`;

describe.skipIf(!redis.available)(redisSuite('interest routing (Redis broker)', redis), () => {
  it('a node without subscribers of a stream receives none of its traffic; one with them, all of it', async () => {
    const prefix = prefixFor('interest');
    await using quiet = await startInProcessNode({ name: 'quiet', redisUrl: REDIS_URL, prefix });
    await using busy = await startInProcessNode({ name: 'busy', redisUrl: REDIS_URL, prefix });
    await using client = closing(createClient(clusterApi, { url: busy.url, logger: quietClientLogger }));
    const seqs: number[] = [];
    client.on('tick', { room: 'x' }, (tick) => seqs.push(tick.seq));
    await vi.waitFor(() => expect(busy.server.stats().subscriptions).toBe(1));

    for (let seq = 1; seq <= 100; seq++) await quiet.emit('x', seq); // emitted on the quiet node, even
    await vi.waitFor(() => expect(seqs).toHaveLength(100));
    expect(checkSequence(seqs, 100)).toEqual(perfectSequence(100));
    expect(quiet.server.stats().broker.received).toEqual({ events: 0, bytes: 0 });
    expect(busy.server.stats().broker.received.events).toBe(100);

    // A subscriber arrives on the quiet node: from then on, it hears that stream (and only it).
    await using late = closing(createClient(clusterApi, { url: quiet.url, logger: quietClientLogger }));
    const lateSeqs: number[] = [];
    late.on('tick', { room: 'y' }, (tick) => lateSeqs.push(tick.seq));
    await vi.waitFor(() => expect(quiet.server.stats().subscriptions).toBe(1));
    for (let seq = 1; seq <= 10; seq++) await busy.emit('y', seq);
    for (let seq = 101; seq <= 110; seq++) await busy.emit('x', seq);
    await vi.waitFor(() => expect(lateSeqs).toHaveLength(10));
    await vi.waitFor(() => expect(seqs).toHaveLength(110));
    expect(quiet.server.stats().broker.received.events).toBe(10);
    expect(busy.server.stats().broker.received.events).toBe(110);
  });

  it('subscriptions that come and go while events flow each get every event after their `subscribed`', async () => {
    const prefix = prefixFor('churn');
    await using emitter = await startInProcessNode({ name: 'emitter', redisUrl: REDIS_URL, prefix });
    await using relay = await startInProcessNode({ name: 'relay', redisUrl: REDIS_URL, prefix });
    const seqOf = new Map<string, number>();
    let stop = false;
    let seq = 0;
    const stream = (async () => {
      // Bounded: ends with the test even if a check hangs.
      while (!stop && seq < 100_000) {
        seq++;
        seqOf.set(await emitter.emit('churn', seq), seq);
        if (seq % 4 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    await using raw = await RawClient.greeted(relay.url, clusterApi.fingerprint);
    try {
      // Each round is the relay's only subscriber, so the node follows and leaves the stream each time.
      for (let round = 1; round <= 25; round++) {
        raw.send({ t: 'sub', id: round, e: 'tick', v: { room: 'churn' } });
        const subscribed = await raw.waitFor((frame) => frame.t === 'subscribed' && frame.id === round);
        // What came before it belongs to the round before (sent before that unsubscribe took effect).
        const start = raw.frames.indexOf(subscribed);
        await raw.waitFor(() => eventsSince(raw.frames, start).length >= 5);
        raw.send({ t: 'unsub', id: round });
        await vi.waitFor(() => expect(relay.server.stats().subscriptions).toBe(0));
        const received = eventsSince(raw.frames, start).map((frame) => seqOf.get(String(frame.eid)));
        // The event right after the one `subscribed` named is the first this round gets, then no hole.
        const first = (seqOf.get(String(subscribed.last)) ?? 0) + 1;
        const expected = Array.from({ length: received.length }, (_, index) => first + index);
        expect(received, `round ${round}`).toEqual(expected);
      }
    } finally {
      stop = true;
      await stream;
    }
  });

  it('a node that missed an announcement reads the event from history before the next one', async () => {
    const prefix = prefixFor('repair');
    await using node = await startInProcessNode({ name: 'node', redisUrl: REDIS_URL, prefix });
    await using client = closing(createClient(clusterApi, { url: node.url, logger: quietClientLogger }));
    const seqs: number[] = [];
    let gaps = 0;
    client.on('tick', { room: 'r' }, (tick) => seqs.push(tick.seq), { onGap: () => gaps++ });
    await vi.waitFor(() => expect(node.server.stats().subscriptions).toBe(1));
    await node.emit('r', 1);
    await vi.waitFor(() => expect(seqs).toEqual([1]));
    // Event 2 reaches history but its announcement is lost (as in a dropped link or a failover).
    const direct = new Redis(REDIS_URL);
    try {
      const value = JSON.stringify({ v: { room: 'r', seq: 2 } });
      await direct.xadd(`${prefix}:stream:{${streamOf('r')}}`, '*', 'd', value);
    } finally {
      direct.disconnect();
    }
    await node.emit('r', 3);
    await vi.waitFor(() => expect(seqs).toEqual([1, 2, 3]));
    expect(gaps).toBe(0);
  });
});

/** The event frames received from index `start` on. */
function eventsSince(frames: readonly RawFrame[], start: number): RawFrame[] {
  return frames.slice(start).filter((frame) => frame.t === 'event');
}
