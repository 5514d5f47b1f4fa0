import type { Broker, BrokerEvent, HistoryOptions } from '@wirecall/server';
import { afterEach, describe, expect, it, vi } from 'vitest';

/**
 * One suite every broker passes (the memory broker, Redis, a Redis Cluster, …), the way one test
 * suite runs against every adapter: ids, ordering, history bounds, replay, gaps, and interest
 * routing for the brokers that route by interest. Each broker's own file gives a factory of nodes
 * on one shared backend (for the memory broker, one process: every node is the same broker).
 */
export interface BrokerBackend {
  /** A node's broker on the backend, with this history; fresh streams (a unique prefix) per test. */
  node(history?: HistoryOptions): Promise<Broker>;
  /**
   * Whether the broker delivers to a node only the streams it follows (and every node of the
   * backend is a separate process's view). The memory broker is one process: it delivers all.
   */
  interestRouting: boolean;
  /**
   * Whether history keeps exactly `maxEvents` (the memory broker) or about that many (Redis trims
   * with `MAXLEN ~`, whole blocks at a time): the bound tests then publish well past it.
   */
  exactTrim: boolean;
  /** Closes what the backend opened for one test (nodes, connections, keys). */
  cleanUp(): Promise<void>;
}

const value = (n: number) => ({ v: { n } });
const numberOf = (event: BrokerEvent): number => (event.value.v as { n: number }).n;

async function publishMany(broker: Broker, key: string, from: number, to: number): Promise<string[]> {
  const ids: string[] = [];
  for (let n = from; n <= to; n++) ids.push(await broker.publish(key, value(n)));
  return ids;
}

/** Listens on `broker` (following `keys`, for a broker that routes by interest). */
async function listen(broker: Broker, keys: readonly string[]): Promise<BrokerEvent[]> {
  const received: BrokerEvent[] = [];
  broker.listen((event) => received.push(event));
  for (const key of keys) await broker.follow?.(key);
  return received;
}

export function describeBrokerConformance(name: string, backend: () => BrokerBackend): void {
  describe(`${name}: broker conformance`, () => {
    let current: BrokerBackend;
    const start = (): BrokerBackend => (current = backend());
    afterEach(() => current?.cleanUp());

    it('assigns ids that increase within a stream, and orders them with compareIds', async () => {
      const broker = await start().node();
      const ids = await publishMany(broker, 'ids', 1, 20);
      expect(new Set(ids).size).toBe(20);
      for (let i = 1; i < ids.length; i++) {
        expect(broker.compareIds(ids[i - 1]!, ids[i]!)).toBeLessThan(0);
        expect(broker.compareIds(ids[i]!, ids[i - 1]!)).toBeGreaterThan(0);
      }
      expect(broker.compareIds(ids[3]!, ids[3]!)).toBe(0);
    });

    it('keeps the order of a node’s concurrent publishes of one stream', async () => {
      const broker = await start().node();
      const beginning = await broker.lastId('concurrent');
      const ids = await Promise.all([...Array(40).keys()].map((i) => broker.publish('concurrent', value(i + 1))));
      const replayed = await broker.replay('concurrent', beginning!);
      expect(replayed.events.map(numberOf)).toEqual([...Array(40).keys()].map((i) => i + 1));
      expect(replayed.events.map((event) => event.id)).toEqual(ids);
    });

    it('delivers every event of a followed stream once, in order, to every node', async () => {
      const backendNow = start();
      const publisher = await backendNow.node();
      const other = await backendNow.node();
      const onPublisher = await listen(publisher, ['a', 'b']);
      const onOther = await listen(other, ['a', 'b']);
      const ids: string[] = [];
      for (let n = 1; n <= 30; n++) ids.push(await publisher.publish(n % 3 === 0 ? 'b' : 'a', value(n)));
      for (const received of [onPublisher, onOther]) {
        await vi.waitFor(() => expect(received.filter((event) => ids.includes(event.id))).toHaveLength(30));
        const ofA = received.filter((event) => event.key === 'a').map(numberOf);
        expect(ofA).toEqual([...Array(30).keys()].map((i) => i + 1).filter((n) => n % 3 !== 0));
        expect(received.filter((event) => event.key === 'b').map(numberOf)).toEqual([
          3, 6, 9, 12, 15, 18, 21, 24, 27, 30,
        ]);
      }
    });

    it('replays the events after an id, in order, without a gap; from lastId of a fresh stream, all', async () => {
      const broker = await start().node();
      const beginning = await broker.lastId('replay');
      expect(beginning).toBeDefined();
      const ids = await publishMany(broker, 'replay', 1, 10);
      expect(await broker.lastId('replay')).toBe(ids[9]);
      const all = await broker.replay('replay', beginning!);
      expect(all.gap).toBe(false);
      expect(all.events.map((event) => event.id)).toEqual(ids);
      expect(all.events.map(numberOf)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      const after = await broker.replay('replay', ids[6]!);
      expect(after).toMatchObject({ gap: false });
      expect(after.events.map(numberOf)).toEqual([8, 9, 10]);
      expect((await broker.replay('replay', ids[9]!)).events).toEqual([]);
    });

    it('replays the same history on every node', async () => {
      const backendNow = start();
      const publisher = await backendNow.node();
      const other = await backendNow.node();
      const ids = await publishMany(publisher, 'shared', 1, 5);
      expect((await other.replay('shared', ids[1]!)).events.map((event) => event.id)).toEqual(ids.slice(2));
      expect(await other.lastId('shared')).toBe(ids[4]);
    });

    it('bounds history by count: a resume from trimmed history gets a gap and the newest events, contiguous', async () => {
      const { node, exactTrim } = start();
      const broker = await node({ maxEvents: 10 });
      const total = exactTrim ? 25 : 1_000;
      const ids = await publishMany(broker, 'bounded', 1, total);
      const replayed = await broker.replay('bounded', ids[0]!);
      expect(replayed.gap).toBe(true);
      const numbers = replayed.events.map(numberOf);
      if (exactTrim) expect(numbers).toEqual([16, 17, 18, 19, 20, 21, 22, 23, 24, 25]);
      expect(numbers.length).toBeGreaterThanOrEqual(10);
      expect(numbers.length).toBeLessThan(total - 1);
      // The newest, without holes, up to the last one.
      expect(numbers).toEqual(numbers.map((_, index) => total - numbers.length + 1 + index));
      // Resuming from where the gap says goes on without another gap.
      expect(replayed.resumeFrom).toBeDefined();
      const again = await broker.replay('bounded', replayed.events.at(-1)!.id);
      expect(again).toMatchObject({ events: [], gap: false });
    });

    it('bounds history by age: events older than maxAgeMs are not replayed, and their loss is a gap', async () => {
      const broker = await start().node({ maxAgeMs: 300 });
      const [first] = await publishMany(broker, 'aged', 1, 3);
      await new Promise((resolve) => setTimeout(resolve, 450));
      const ids = await publishMany(broker, 'aged', 4, 5);
      // A client that got event 1 and resumes now: 2 and 3 are gone.
      const replayed = await broker.replay('aged', first!);
      expect(replayed.events.map((event) => event.id)).toEqual(ids);
      expect(replayed.gap).toBe(true);
    });

    it('tells a resume from an id it never issued about a gap', async () => {
      const broker = await start().node();
      await publishMany(broker, 'unknown', 1, 3);
      const replayed = await broker.replay('unknown', 'not-an-id-of-this-broker');
      expect(replayed.gap).toBe(true);
    });

    it('routes by interest: a node hears only the streams it follows, from when it follows them', async () => {
      const backendNow = start();
      const publisher = await backendNow.node();
      const follower = await backendNow.node();
      const received = await listen(follower, ['wanted']);
      await publishMany(publisher, 'unwanted', 1, 20);
      const wanted = await publishMany(publisher, 'wanted', 1, 5);
      await vi.waitFor(() => expect(received.map((event) => event.id)).toEqual(expect.arrayContaining(wanted)));
      if (backendNow.interestRouting) {
        expect(received.filter((event) => event.key === 'unwanted')).toEqual([]);
        expect(follower.received?.events).toBe(5);
        // Unfollowed: nothing more of it arrives; followed again: it does.
        follower.unfollow!('wanted');
        await publishMany(publisher, 'wanted', 6, 8);
        await publisher.publish('marker', value(0)); // the follower does not hear this either
        await follower.follow!('wanted');
        const later = await publisher.publish('wanted', value(9));
        await vi.waitFor(() => expect(received.at(-1)?.id).toBe(later));
        expect(received.map(numberOf)).toEqual([1, 2, 3, 4, 5, 9]);
        // (Ids are per stream: another stream's event may carry the same id.)
        expect(received.some((event) => event.key === 'marker')).toBe(false);
      } else {
        expect(publisher.follow).toBeUndefined();
      }
    });
  });
}
