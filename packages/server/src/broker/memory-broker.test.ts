import type { WireValue } from '@wirecall/core/internal';
import { describe, expect, it } from 'vitest';
import type { BrokerEvent } from './broker.js';
import { MemoryBroker, memoryBroker, type MemoryBrokerOptions } from './memory-broker.js';

const value = (n: number): WireValue => ({ v: { n } });

/** The numeric part of an id (`<epoch>:<seq>`). */
const seqOf = (id: string): number => Number(id.slice(id.lastIndexOf(':') + 1));
const epochOf = (id: string): string => id.slice(0, id.lastIndexOf(':'));

async function publishMany(broker: MemoryBroker, key: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 1; i <= count; i++) ids.push(await broker.publish(key, value(i)));
  return ids;
}

/** A broker with a hand-driven clock. */
function withClock(options: MemoryBrokerOptions = {}): { broker: MemoryBroker; clock: { now: number } } {
  const clock = { now: 1_000_000 };
  return { broker: new MemoryBroker({ ...options, now: () => clock.now }), clock };
}

describe('MemoryBroker ids', () => {
  it('assigns increasing ids per stream, starting at 1', async () => {
    const broker = new MemoryBroker();
    const a = await publishMany(broker, 'a', 3);
    const b = await publishMany(broker, 'b', 2);
    expect(a.map(seqOf)).toEqual([1, 2, 3]);
    expect(b.map(seqOf)).toEqual([1, 2]);
    expect(new Set([...a, ...b].map(epochOf)).size).toBe(1);
  });

  it('uses a different epoch in every instance', async () => {
    const one = await new MemoryBroker().publish('a', value(1));
    const two = await new MemoryBroker().publish('a', value(1));
    expect(seqOf(one)).toBe(seqOf(two));
    expect(epochOf(one)).not.toBe(epochOf(two));
  });

  it('reports the last id per stream, and the beginning of a stream without events', async () => {
    const broker = new MemoryBroker();
    const beginning = await broker.lastId('a');
    expect(beginning).toMatch(/:0$/);
    const ids = await publishMany(broker, 'a', 4);
    expect(await broker.lastId('a')).toBe(ids[3]);
    expect(await broker.lastId('b')).toBe(beginning);
    // Resuming from the beginning replays everything, without a gap.
    expect(await broker.replay('a', beginning!)).toEqual({ events: expect.any(Array) as unknown, gap: false });
    expect((await broker.replay('a', beginning!)).events.map((event) => event.id)).toEqual(ids);
  });

  it('keeps the last id after the history is trimmed or disabled', async () => {
    const trimmed = new MemoryBroker({ history: { maxEvents: 1 } });
    const ids = await publishMany(trimmed, 'a', 5);
    expect(await trimmed.lastId('a')).toBe(ids[4]);
    const none = new MemoryBroker({ history: { maxEvents: 0 } });
    const noneIds = await publishMany(none, 'a', 2);
    expect(await none.lastId('a')).toBe(noneIds[1]);
  });
});

describe('MemoryBroker delivery', () => {
  it('delivers every event once to every listener, in order', async () => {
    const broker = new MemoryBroker();
    const first: BrokerEvent[] = [];
    const second: BrokerEvent[] = [];
    broker.listen((event) => first.push(event));
    broker.listen((event) => second.push(event));
    const ids = [
      await broker.publish('a', value(1)),
      await broker.publish('b', value(2)),
      await broker.publish('a', value(3)),
    ];
    for (const received of [first, second]) {
      expect(received.map((event) => event.id)).toEqual(ids);
      expect(received.map((event) => event.key)).toEqual(['a', 'b', 'a']);
      expect(received.map((event) => event.value)).toEqual([value(1), value(2), value(3)]);
    }
  });

  it('delivers even when history is disabled', async () => {
    const broker = new MemoryBroker({ history: { maxEvents: 0 } });
    const received: string[] = [];
    broker.listen((event) => received.push(event.id));
    const id = await broker.publish('a', value(1));
    expect(received).toEqual([id]);
  });

  it('delivers once to a listener registered twice', async () => {
    const broker = new MemoryBroker();
    const received: string[] = [];
    const listener = (event: BrokerEvent): void => {
      received.push(event.id);
    };
    broker.listen(listener);
    broker.listen(listener);
    await broker.publish('a', value(1));
    expect(received).toHaveLength(1);
  });

  it('stops delivering after the listener is removed', async () => {
    const broker = new MemoryBroker();
    const received: number[] = [];
    const stop = broker.listen((event) => received.push(seqOf(event.id)));
    await broker.publish('a', value(1));
    stop();
    await broker.publish('a', value(2));
    expect(received).toEqual([1]);
  });

  it('stops delivering after close', async () => {
    const broker = new MemoryBroker();
    const received: string[] = [];
    broker.listen((event) => received.push(event.id));
    await broker.close();
    await broker.publish('a', value(1));
    expect(received).toEqual([]);
  });

  it('is created by memoryBroker()', async () => {
    const broker = memoryBroker();
    expect(broker).toBeInstanceOf(MemoryBroker);
    expect(seqOf(await broker.publish('a', value(1)))).toBe(1);
  });
});

describe('MemoryBroker replay', () => {
  it('returns exactly the events after the id, in order, without a gap', async () => {
    const broker = new MemoryBroker();
    const ids = await publishMany(broker, 'a', 5);
    await publishMany(broker, 'b', 5);
    const result = await broker.replay('a', ids[1]!);
    expect(result.gap).toBe(false);
    expect(result.events.map((event) => event.id)).toEqual(ids.slice(2));
    expect(result.events.map((event) => event.key)).toEqual(['a', 'a', 'a']);
    expect(result.events.map((event) => event.value)).toEqual([value(3), value(4), value(5)]);
  });

  it('returns nothing and no gap after the newest id', async () => {
    const broker = new MemoryBroker();
    const ids = await publishMany(broker, 'a', 3);
    expect(await broker.replay('a', ids[2]!)).toEqual({ events: [], gap: false });
  });

  it('returns no gap for a stream with no events yet', async () => {
    const broker = new MemoryBroker();
    const [other] = await publishMany(broker, 'other', 1);
    const epoch0 = `${epochOf(other!)}:0`;
    expect(await broker.replay('empty', epoch0)).toEqual({ events: [], gap: false });
  });

  it('reports a gap plus the kept events after trimming by count', async () => {
    const broker = new MemoryBroker({ history: { maxEvents: 3 } });
    const ids = await publishMany(broker, 'a', 6);
    const fromOld = await broker.replay('a', ids[0]!);
    expect(fromOld.gap).toBe(true);
    expect(fromOld.events.map((event) => event.id)).toEqual(ids.slice(3));
    // Event 4 is the oldest kept: resuming right before it loses nothing.
    const fromEdge = await broker.replay('a', ids[2]!);
    expect(fromEdge.gap).toBe(false);
    expect(fromEdge.events.map((event) => event.id)).toEqual(ids.slice(3));
    const fromKept = await broker.replay('a', ids[4]!);
    expect(fromKept).toMatchObject({ gap: false });
    expect(fromKept.events.map((event) => event.id)).toEqual([ids[5]]);
  });

  it('keeps replaying correctly after many trims (compaction)', async () => {
    const broker = new MemoryBroker({ history: { maxEvents: 10 } });
    const ids = await publishMany(broker, 'a', 500);
    const kept = await broker.replay('a', ids[489]!);
    expect(kept.gap).toBe(false);
    expect(kept.events.map((event) => event.id)).toEqual(ids.slice(490));
    const lost = await broker.replay('a', ids[100]!);
    expect(lost.gap).toBe(true);
    expect(lost.events.map((event) => event.id)).toEqual(ids.slice(490));
  });

  it('trims by age with the injected clock', async () => {
    const { broker, clock } = withClock({ history: { maxAgeMs: 1_000 } });
    const first = await broker.publish('a', value(1));
    clock.now += 600;
    const second = await broker.publish('a', value(2));
    clock.now += 600; // first is 1200 ms old, second 600 ms
    const third = await broker.publish('a', value(3));
    const fromFirst = await broker.replay('a', first);
    expect(fromFirst.gap).toBe(false);
    expect(fromFirst.events.map((event) => event.id)).toEqual([second, third]);
    const beforeFirst = await broker.replay('a', `${epochOf(first)}:0`);
    expect(beforeFirst.gap).toBe(true);
    expect(beforeFirst.events.map((event) => event.id)).toEqual([second, third]);
  });

  it('expires events at replay time even without new publishes', async () => {
    const { broker, clock } = withClock({ history: { maxAgeMs: 1_000 } });
    const ids = await publishMany(broker, 'a', 3);
    clock.now += 999;
    expect((await broker.replay('a', ids[0]!)).events).toHaveLength(2);
    clock.now += 2;
    // Nothing is left to replay: the client resumes from the stream's head.
    expect(await broker.replay('a', ids[0]!)).toEqual({ events: [], gap: true, resumeFrom: ids[2] });
    expect(await broker.replay('a', ids[2]!)).toEqual({ events: [], gap: false });
  });

  it('reports a gap for an id from another broker (another epoch)', async () => {
    const old = new MemoryBroker();
    const [oldId] = await publishMany(old, 'a', 1);
    const broker = new MemoryBroker();
    const ids = await publishMany(broker, 'a', 2);
    const result = await broker.replay('a', oldId!);
    expect(result.gap).toBe(true);
    expect(result.events.map((event) => event.id)).toEqual(ids);
    // The position just before the first replayed event, in the new epoch.
    expect(result.resumeFrom).toBe(`${epochOf(ids[0]!)}:0`);
  });

  it('reports a gap for an id from another epoch on a stream with no events', async () => {
    const [oldId] = await publishMany(new MemoryBroker(), 'a', 1);
    const result = await new MemoryBroker().replay('a', oldId!);
    expect(result).toMatchObject({ events: [], gap: true });
    expect(result.resumeFrom).toMatch(/:0$/);
    expect(result.resumeFrom).not.toBe(oldId);
  });

  it('reports a gap for an id from the future', async () => {
    const broker = new MemoryBroker();
    const ids = await publishMany(broker, 'a', 2);
    const result = await broker.replay('a', `${epochOf(ids[0]!)}:99`);
    expect(result.gap).toBe(true);
    expect(result.events.map((event) => event.id)).toEqual(ids);
  });

  it.each(['', 'garbage', ':1', 'x:y:z', '1'])('reports a gap for the malformed id %j', async (afterId) => {
    const broker = new MemoryBroker();
    await publishMany(broker, 'a', 1);
    expect((await broker.replay('a', afterId)).gap).toBe(true);
  });

  it('reports a gap for a negative or fractional sequence of the right epoch', async () => {
    const broker = new MemoryBroker();
    const [id] = await publishMany(broker, 'a', 3);
    const epoch = epochOf(id!);
    expect((await broker.replay('a', `${epoch}:-1`)).gap).toBe(true);
    expect((await broker.replay('a', `${epoch}:1.5`)).gap).toBe(true);
  });

  it('with history disabled, reports a gap for anything but the newest id', async () => {
    const broker = new MemoryBroker({ history: { maxEvents: 0 } });
    const ids = await publishMany(broker, 'a', 3);
    expect(await broker.replay('a', ids[2]!)).toEqual({ events: [], gap: false });
    expect(await broker.replay('a', ids[1]!)).toEqual({ events: [], gap: true, resumeFrom: ids[2] });
  });

  it('forgets history on close', async () => {
    const broker = new MemoryBroker();
    const ids = await publishMany(broker, 'a', 2);
    await broker.close();
    expect(await broker.lastId('a')).toMatch(/:0$/);
    expect((await broker.replay('a', ids[0]!)).events).toEqual([]);
  });
});
