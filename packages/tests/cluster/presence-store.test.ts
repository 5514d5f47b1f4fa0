import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { memoryBroker, type Broker } from '@wirecall/server';
import { redisBroker, type RedisBroker, type RedisBrokerOptions } from '@wirecall/server/redis';
import { natsBroker, type NatsBroker } from '@wirecall/server/nats';
import { deleteStream, natsSuite, requireNats } from '../brokers/nats.js';
import { startRedisCluster, type RedisClusterProcess } from './helpers/redis-cluster.js';
import { requireRedisServerBinary } from './helpers/redis-server.js';
import {
  countKeys,
  deleteKeys,
  REDIS_URL,
  redisSuite,
  requireRedis,
  suiteTitle,
  uniquePrefix,
} from './helpers/redis.js';

const redis = await requireRedis();

/**
 * One conformance suite for the presence stores and signal buses of the brokers (the memory one,
 * which defines the rules, and the Redis one, shared by every node of a prefix): the same tests,
 * the same expectations. Redis delivers notices asynchronously, so expectations wait for them; to
 * show that something was NOT announced, a test announces a marker afterwards and waits for it
 * (notices reach a node in the order they were made).
 */

type PresenceStore = NonNullable<Broker['presence']>;
type SignalBus = NonNullable<Broker['signals']>;
type PresenceNotice = Parameters<Parameters<PresenceStore['listen']>[0]>[1];

/** What one node of a deployment sees: its broker's presence and signals. */
interface Node {
  presence: PresenceStore;
  signals: SignalBus;
}

interface StoreKind {
  /** Two nodes of one deployment; the memory broker is one process, so both are the same broker. */
  nodes(): Promise<[Node, Node]>;
  cleanup(): Promise<void>;
}

interface Heard {
  key: string;
  notice: PresenceNotice;
}

/** Generous: a behaviour test waits for an outcome, it does not time it. */
const WAIT = { timeout: 10_000, interval: 20 };
/** Data as JSON text may hold anything a JSON string can: it must come back unchanged. */
const DATA = '{"v":{"text":"é/✓ \\"quoted\\"\\n\\u0000","n":12345678901234567890}}';
/** A lease that does not run out during a test. */
const LONG = 60_000;

function nodeOf(broker: Broker): Node {
  const { presence, signals } = broker;
  if (presence === undefined || signals === undefined) throw new Error('this broker has no presence or signals');
  return { presence, signals };
}

/** Stream keys are `event?canonicalJSONparams`: braces included, which a Redis hash tag must survive. */
const room = (name: string): string => `room?{"id":"${name}","odd":"}{"}`;

function hear(store: PresenceStore): Heard[] {
  const heard: Heard[] = [];
  store.listen((key, notice) => heard.push({ key, notice }));
  return heard;
}

/** The member `settle` joins for a moment (its notices are the test's, not the store's). */
const MARKER = '__settle';

const noticesOf = (heard: readonly Heard[], key: string): PresenceNotice[] =>
  heard.filter((entry) => entry.key === key && entry.notice.member !== MARKER).map((entry) => entry.notice);

let markers = 0;

/** Waits until every notice made before this call has reached `heard`'s listener (through `node`). */
/**
 * Waits until every notice `node` made for stream `key` so far was heard: a marker joins the same
 * stream and, once its join is heard, leaves. Notices of one stream arrive in the order they were
 * made (on a Redis Cluster, those of different streams come from different shards, in any order).
 */
async function settle(node: Node, heard: readonly Heard[], key: string): Promise<void> {
  const conn = `marker-${++markers}`;
  await node.presence.set(key, { conn, member: MARKER, data: '{}' }, LONG);
  await vi.waitFor(
    () => expect(heard.some((entry) => entry.key === key && entry.notice.member === MARKER)).toBe(true),
    WAIT,
  );
  await node.presence.remove(key, conn);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function presenceConformance(kind: StoreKind): void {
  afterEach(() => kind.cleanup());

  it('announces join, update and leave with the member count, under the original stream key', async () => {
    const [{ presence }] = await kind.nodes();
    const heard = hear(presence);
    const key = room('notices');
    await presence.set(key, { conn: 'c1', member: 'alice', data: '{"v":1}' }, LONG);
    await presence.set(key, { conn: 'c2', member: 'bob', data: '{"v":2}' }, LONG);
    await presence.set(key, { conn: 'c1', member: 'alice', data: DATA }, LONG);
    await presence.remove(key, 'c2');
    await presence.remove(key, 'c1');
    await vi.waitFor(
      () =>
        expect(noticesOf(heard, key)).toEqual([
          { op: 'join', member: 'alice', count: 1, data: '{"v":1}' },
          { op: 'join', member: 'bob', count: 2, data: '{"v":2}' },
          { op: 'update', member: 'alice', count: 2, data: DATA },
          { op: 'leave', member: 'bob', count: 1 },
          { op: 'leave', member: 'alice', count: 0 },
        ]),
      WAIT,
    );
    for (const { notice } of heard) if (notice.op === 'leave') expect(notice).not.toHaveProperty('data');
    expect(await presence.list(key, { limit: 10 })).toEqual({ count: 0, members: [] });
  });

  it('keeps streams apart, keys with braces included', async () => {
    const [{ presence }] = await kind.nodes();
    const heard = hear(presence);
    const keys = ['chat?{"a":"}{b"}', 'chat?{"a":"}{c"}', 'chat?{}', '{', '}'];
    for (const [index, key] of keys.entries()) {
      await presence.set(key, { conn: `c${index}`, member: `m${index}`, data: `${index}` }, LONG);
    }
    for (const [index, key] of keys.entries()) {
      expect(await presence.list(key, { limit: 10 })).toEqual({
        count: 1,
        members: [{ key: `m${index}`, connections: 1, data: `${index}` }],
      });
    }
    await vi.waitFor(() => {
      for (const [index, key] of keys.entries()) {
        expect(noticesOf(heard, key)).toEqual([{ op: 'join', member: `m${index}`, count: 1, data: `${index}` }]);
      }
    }, WAIT);
  });

  it('counts a member with two connections once: it joins once, and leaves when its last connection goes', async () => {
    const [node] = await kind.nodes();
    const { presence } = node;
    const heard = hear(presence);
    const key = room('two-tabs');
    await presence.set(key, { conn: 'tab-1', member: 'alice', data: 'A' }, LONG);
    await presence.set(key, { conn: 'tab-2', member: 'alice', data: 'A' }, LONG);
    expect(await presence.list(key, { limit: 10 })).toEqual({
      count: 1,
      members: [{ key: 'alice', connections: 2, data: 'A' }],
    });
    await presence.remove(key, 'tab-1');
    expect(await presence.list(key, { limit: 10 })).toEqual({
      count: 1,
      members: [{ key: 'alice', connections: 1, data: 'A' }],
    });
    await settle(node, heard, key);
    expect(noticesOf(heard, key)).toEqual([{ op: 'join', member: 'alice', count: 1, data: 'A' }]);
    await presence.remove(key, 'tab-2');
    await vi.waitFor(
      () =>
        expect(noticesOf(heard, key)).toEqual([
          { op: 'join', member: 'alice', count: 1, data: 'A' },
          { op: 'leave', member: 'alice', count: 0 },
        ]),
      WAIT,
    );
    expect(await presence.list(key, { limit: 10 })).toEqual({ count: 0, members: [] });
  });

  it('announces an update only when the data changes', async () => {
    const [node] = await kind.nodes();
    const { presence } = node;
    const heard = hear(presence);
    const key = room('updates');
    await presence.set(key, { conn: 'c1', member: 'alice', data: 'first' }, LONG);
    await presence.set(key, { conn: 'c1', member: 'alice', data: 'first' }, LONG); // same data again
    await presence.set(key, { conn: 'c2', member: 'alice', data: 'first' }, LONG); // a second tab, same data
    await presence.set(key, { conn: 'c2', member: 'alice', data: 'second' }, LONG); // changed
    await presence.set(key, { conn: 'c1', member: 'alice', data: 'second' }, LONG); // already so
    await settle(node, heard, key);
    expect(noticesOf(heard, key)).toEqual([
      { op: 'join', member: 'alice', count: 1, data: 'first' },
      { op: 'update', member: 'alice', count: 1, data: 'second' },
    ]);
    expect(await presence.list(key, { limit: 10 })).toEqual({
      count: 1,
      members: [{ key: 'alice', connections: 2, data: 'second' }],
    });
  });

  it('removes idempotently: removing again, or what was never there, announces nothing', async () => {
    const [a, b] = await kind.nodes();
    const heard = hear(a.presence);
    const key = room('idempotent');
    await a.presence.remove(room('never-used'), 'nobody');
    await a.presence.set(key, { conn: 'c1', member: 'alice', data: 'A' }, LONG);
    await a.presence.set(key, { conn: 'c2', member: 'bob', data: 'B' }, LONG);
    // The same removal from both nodes at once, and again.
    await Promise.all([a.presence.remove(key, 'c1'), b.presence.remove(key, 'c1'), a.presence.remove(key, 'c1')]);
    await a.presence.remove(key, 'c1');
    await a.presence.remove(key, 'unknown');
    await settle(a, heard, key);
    expect(noticesOf(heard, key)).toEqual([
      { op: 'join', member: 'alice', count: 1, data: 'A' },
      { op: 'join', member: 'bob', count: 2, data: 'B' },
      { op: 'leave', member: 'alice', count: 1 },
    ]);
    expect(await a.presence.list(key, { limit: 10 })).toEqual({
      count: 1,
      members: [{ key: 'bob', connections: 1, data: 'B' }],
    });
  });

  it('sweeps an entry whose lease ran out, announcing its leave; a list never shows it', async () => {
    const [{ presence }] = await kind.nodes();
    const heard = hear(presence);
    const key = room('expiry');
    await presence.set(key, { conn: 'c1', member: 'alice', data: 'A' }, 100);
    await presence.set(key, { conn: 'c2', member: 'bob', data: 'B' }, LONG);
    await vi.waitFor(async () => {
      await presence.sweep(key);
      expect(noticesOf(heard, key)).toContainEqual({ op: 'leave', member: 'alice', count: 1 });
    }, WAIT);
    expect(await presence.list(key, { limit: 10 })).toEqual({
      count: 1,
      members: [{ key: 'bob', connections: 1, data: 'B' }],
    });

    // A list sweeps first: an entry whose node died does not show, even if nothing swept it yet.
    await presence.set(key, { conn: 'c3', member: 'carol', data: 'C' }, 100);
    await vi.waitFor(async () => expect((await presence.list(key, { limit: 10 })).count).toBe(1), WAIT);
    await vi.waitFor(
      () =>
        expect(noticesOf(heard, key)).toEqual([
          { op: 'join', member: 'alice', count: 1, data: 'A' },
          { op: 'join', member: 'bob', count: 2, data: 'B' },
          { op: 'leave', member: 'alice', count: 1 },
          { op: 'join', member: 'carol', count: 2, data: 'C' },
          { op: 'leave', member: 'carol', count: 1 },
        ]),
      WAIT,
    );
  });

  it('keeps a refreshed entry alive past its first lease, and refreshes only entries that exist', async () => {
    const [node] = await kind.nodes();
    const { presence } = node;
    const heard = hear(presence);
    const key = room('refreshed');
    await presence.set(key, { conn: 'c1', member: 'alice', data: 'A' }, 150);
    await presence.refresh(key, ['ghost'], LONG);
    const start = Date.now();
    // Well past the first lease: each sweep follows a refresh by a round trip, far within its lease.
    while (Date.now() - start < 750) {
      await presence.refresh(key, ['c1', 'ghost'], 1_000);
      await presence.sweep(key);
      await sleep(50);
    }
    await presence.refresh(key, ['c1'], LONG);
    await settle(node, heard, key);
    expect(noticesOf(heard, key)).toEqual([{ op: 'join', member: 'alice', count: 1, data: 'A' }]);
    expect(await presence.list(key, { limit: 10 })).toEqual({
      count: 1,
      members: [{ key: 'alice', connections: 1, data: 'A' }],
    });
  });

  it('expires an entry sooner when a refresh shortens its lease (a grace period)', async () => {
    const [{ presence }] = await kind.nodes();
    const heard = hear(presence);
    const key = room('grace');
    await presence.set(key, { conn: 'c1', member: 'alice', data: 'A' }, LONG);
    await presence.set(key, { conn: 'c2', member: 'bob', data: 'B' }, LONG);
    await presence.refresh(key, ['c1'], 50);
    await vi.waitFor(async () => {
      await presence.sweep(key);
      expect(noticesOf(heard, key)).toContainEqual({ op: 'leave', member: 'alice', count: 1 });
    }, WAIT);
    expect(await presence.list(key, { limit: 10 })).toEqual({
      count: 1,
      members: [{ key: 'bob', connections: 1, data: 'B' }],
    });
  });

  it('lists in pages capped by the limit that cover every member once', async () => {
    const [{ presence }] = await kind.nodes();
    const key = room('crowd');
    const names = Array.from({ length: 250 }, (_, index) => `member-${index}`);
    for (let start = 0; start < names.length; start += 50) {
      await Promise.all(
        names
          .slice(start, start + 50)
          .map((member) => presence.set(key, { conn: `conn-${member}`, member, data: `"${member}"` }, LONG)),
      );
    }
    const pages = await allPages(presence, key, 100);
    expect(pages.map((page) => page.members.length)).toEqual([100, 100, 50]);
    expect(pages.map((page) => page.count)).toEqual([250, 250, 250]);
    expect(pages.map((page) => page.cursor === undefined)).toEqual([false, false, true]);
    const listed = pages.flatMap((page) => page.members);
    expect(listed.map((member) => member.key).sort()).toEqual([...names].sort());
    for (const member of listed) expect(member).toEqual({ key: member.key, connections: 1, data: `"${member.key}"` });
    // A limit that does not divide anything: pages end inside what Redis scans at once.
    const small = await allPages(presence, key, 7, 100);
    expect(small.map((page) => page.members.length)).toEqual([...Array.from({ length: 35 }, () => 7), 5]);
    expect(small.flatMap((page) => page.members.map((member) => member.key)).sort()).toEqual([...names].sort());
  });

  it('lists a small stream in one page, or in pages of a small limit', async () => {
    const [{ presence }] = await kind.nodes();
    const key = room('few');
    const names = ['ann', 'ben', 'cat', 'dan', 'eve'];
    for (const member of names) await presence.set(key, { conn: `${member}-1`, member, data: member }, LONG);
    await presence.set(key, { conn: 'ann-2', member: 'ann', data: 'ann' }, LONG);
    const whole = await presence.list(key, { limit: 100 });
    expect(whole.cursor).toBeUndefined();
    expect(whole.count).toBe(5);
    expect(whole.members.map((member) => member.key).sort()).toEqual(names);
    expect(whole.members.find((member) => member.key === 'ann')?.connections).toBe(2);
    const pages = await allPages(presence, key, 2);
    expect(pages.map((page) => page.members.length)).toEqual([2, 2, 1]);
    expect(pages.map((page) => page.count)).toEqual([5, 5, 5]);
    expect(pages.flatMap((page) => page.members.map((member) => member.key)).sort()).toEqual(names);
    expect(await presence.list(room('empty'), { limit: 10 })).toEqual({ count: 0, members: [] });
  });

  it("delivers one node's notices to the listeners of every node", async () => {
    const [a, b] = await kind.nodes();
    const heardA = hear(a.presence);
    const heardB = hear(b.presence);
    const key = room('across');
    await a.presence.set(key, { conn: 'on-a', member: 'alice', data: 'A' }, LONG);
    await b.presence.set(key, { conn: 'on-b', member: 'bob', data: 'B' }, LONG);
    await b.presence.remove(key, 'on-a');
    const expected = [
      { op: 'join', member: 'alice', count: 1, data: 'A' },
      { op: 'join', member: 'bob', count: 2, data: 'B' },
      { op: 'leave', member: 'alice', count: 1 },
    ];
    await vi.waitFor(() => {
      expect(noticesOf(heardA, key)).toEqual(expected);
      expect(noticesOf(heardB, key)).toEqual(expected);
    }, WAIT);
    // Both nodes see the same members.
    expect(await a.presence.list(key, { limit: 10 })).toEqual(await b.presence.list(key, { limit: 10 }));
  });

  it('announces each leave once when two nodes sweep the same expired entries at once', async () => {
    const [a, b] = await kind.nodes();
    const heardA = hear(a.presence);
    const heardB = hear(b.presence);
    const key = room('race');
    const expiring = Array.from({ length: 20 }, (_, index) => `short-${index}`);
    await a.presence.set(key, { conn: 'stay', member: 'stay', data: 'S' }, LONG);
    await Promise.all(expiring.map((member) => a.presence.set(key, { conn: member, member, data: 'X' }, 100)));
    await sleep(150);
    await vi.waitFor(async () => {
      const sweeps = Array.from({ length: 8 }, (_, index) => (index % 2 === 0 ? a : b).presence.sweep(key));
      await Promise.all([...sweeps, a.presence.list(key, { limit: 5 }), b.presence.list(key, { limit: 5 })]);
      expect((await b.presence.list(key, { limit: 5 })).count).toBe(1);
    }, WAIT);
    await settle(a, heardA, key);
    await settle(b, heardB, key);
    for (const heard of [heardA, heardB]) {
      const leaves = noticesOf(heard, key).filter((notice) => notice.op === 'leave');
      expect(leaves.map((notice) => notice.member).sort()).toEqual([...expiring].sort());
      // One leave per member, and each saw a different count: no two scripts removed the same entry.
      expect(leaves.map((notice) => notice.count).sort((x, y) => x - y)).toEqual(
        Array.from({ length: 20 }, (_, index) => index + 1),
      );
    }
  });

  it('hands signals to every node, the sender included, and keeps none for later listeners', async () => {
    const [a, b] = await kind.nodes();
    const gotA: string[] = [];
    const gotB: string[] = [];
    a.signals.listen((message) => gotA.push(message));
    b.signals.listen((message) => gotB.push(message));
    await a.signals.send('one');
    await b.signals.send('two');
    await vi.waitFor(() => {
      expect(gotA).toEqual(['one', 'two']);
      expect(gotB).toEqual(['one', 'two']);
    }, WAIT);
    const late: string[] = [];
    const stop = b.signals.listen((message) => late.push(message));
    await a.signals.send('three');
    await vi.waitFor(() => expect(late).toEqual(['three']), WAIT);
    stop();
    await a.signals.send('four');
    await vi.waitFor(() => expect(gotB).toEqual(['one', 'two', 'three', 'four']), WAIT);
    expect(late).toEqual(['three']);
  });

  it('keeps a notice or signal from the other listeners when one listener throws, and stops on unlisten', async () => {
    const [node] = await kind.nodes();
    node.presence.listen(() => {
      throw new Error('a faulty listener');
    });
    node.signals.listen(() => {
      throw new Error('a faulty listener');
    });
    const heard = hear(node.presence);
    const dropped: Heard[] = [];
    const stop = node.presence.listen((key, notice) => dropped.push({ key, notice }));
    stop();
    const got: string[] = [];
    node.signals.listen((message) => got.push(message));
    const key = room('faulty');
    await node.presence.set(key, { conn: 'c1', member: 'alice', data: 'A' }, LONG);
    await node.signals.send('hello');
    await vi.waitFor(() => {
      expect(noticesOf(heard, key)).toEqual([{ op: 'join', member: 'alice', count: 1, data: 'A' }]);
      expect(got).toEqual(['hello']);
    }, WAIT);
    expect(dropped).toEqual([]);
  });
}

/** Every page of a stream's members, following the cursors; at most `rounds` pages. */
async function allPages(presence: PresenceStore, key: string, limit: number, rounds = 50) {
  const pages: Awaited<ReturnType<PresenceStore['list']>>[] = [];
  let cursor: string | undefined;
  // Bounded: a store that never ends its pages fails here instead of hanging.
  for (let round = 0; round < rounds; round++) {
    const page = await presence.list(key, { limit, cursor });
    pages.push(page);
    cursor = page.cursor;
    if (cursor === undefined) break;
  }
  return pages;
}

describe('presence store conformance: memory broker', () => {
  const brokers: Broker[] = [];
  presenceConformance({
    nodes() {
      const broker = memoryBroker();
      brokers.push(broker);
      return Promise.resolve([nodeOf(broker), nodeOf(broker)]);
    },
    async cleanup() {
      for (const broker of brokers.splice(0)) await broker.close();
    },
  });
});

let prefixes = 0;

/** Brokers of the Redis suites and the prefixes they used, closed and deleted after each test. */
function redisBrokers() {
  const brokers: RedisBroker[] = [];
  const used: string[] = [];
  return {
    prefix(): string {
      const prefix = `${uniquePrefix('presence')}-${++prefixes}`;
      used.push(prefix);
      return prefix;
    },
    async start(prefix: string, options: RedisBrokerOptions = {}): Promise<RedisBroker> {
      const broker = redisBroker({ url: REDIS_URL, prefix, ...options });
      brokers.push(broker);
      await broker.ready();
      // `ready()` waits for the subscription only; the command connection connects on its own and,
      // without an offline queue, rejects commands until it has.
      await vi.waitFor(() => expect(broker.connected).toBe(true), WAIT);
      return broker;
    },
    async cleanup(): Promise<void> {
      for (const broker of brokers.splice(0)) await broker.close();
      for (const prefix of used.splice(0)) await deleteKeys(REDIS_URL, prefix);
    },
  };
}

describe.skipIf(!redis.available)(redisSuite('presence store conformance: Redis broker', redis), () => {
  const redisNodes = redisBrokers();
  presenceConformance({
    async nodes() {
      // Two brokers on one prefix: two nodes of one deployment.
      const prefix = redisNodes.prefix();
      const [a, b] = await Promise.all([redisNodes.start(prefix), redisNodes.start(prefix)]);
      return [nodeOf(a), nodeOf(b)];
    },
    cleanup: () => redisNodes.cleanup(),
  });
});

describe.skipIf(!redis.available)(redisSuite('Redis presence: keys, channels, subscription', redis), () => {
  const redisNodes = redisBrokers();
  const admins: Redis[] = [];
  afterEach(async () => {
    for (const admin of admins.splice(0)) admin.disconnect();
    await redisNodes.cleanup();
  });

  function admin(): Redis {
    const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: 0 });
    connection.on('error', () => {});
    admins.push(connection);
    return connection;
  }

  it("keeps a stream's four keys in one hash slot, with an expiry, and deletes them with its last entry", async () => {
    const prefix = redisNodes.prefix();
    const { presence } = await redisNodes.start(prefix);
    const key = room('layout');
    await presence.set(key, { conn: 'c1', member: 'alice', data: 'A' }, 5_000);
    await presence.set(key, { conn: 'c2', member: 'bob', data: 'B' }, 1_000);
    const keys = await admin().keys(`${prefix}:presence:*`);
    expect(keys).toHaveLength(4);
    const tags = keys.map((name) => {
      // Redis Cluster's rule: the slot is of what lies between the first `{` and the next `}`.
      const open = name.indexOf('{');
      return name.slice(open + 1, name.indexOf('}', open + 1));
    });
    expect(tags[0]).not.toBe('');
    expect(new Set(tags).size).toBe(1);
    expect(keys.map((name) => name.slice(name.lastIndexOf(':') + 1)).sort()).toEqual([
      'data',
      'entries',
      'leases',
      'members',
    ]);
    for (const name of keys) {
      const ttl = await admin().pttl(name);
      // Beyond the longest lease (5 s), and not forever.
      expect(ttl, name).toBeGreaterThan(5_000);
      expect(ttl, name).toBeLessThanOrEqual(5_000 + 60_000);
    }
    await presence.remove(key, 'c1');
    await presence.remove(key, 'c2');
    expect(await countKeys(REDIS_URL, `${prefix}:presence:`)).toBe(0);
    // A refresh of a stream without entries creates nothing.
    await presence.refresh(key, ['c1'], 1_000);
    expect(await countKeys(REDIS_URL, `${prefix}:presence:`)).toBe(0);
  });

  it('ignores messages on the presence channel that are not notices', async () => {
    const prefix = redisNodes.prefix();
    const broker = await redisNodes.start(prefix);
    const heard = hear(broker.presence);
    const channel = `${prefix}:presence`;
    const publisher = admin();
    for (const junk of [
      'not json',
      'null',
      '[]',
      '{"k":1,"op":"join","member":"m","count":1,"data":"d"}',
      '{"k":"x","op":"dance","member":"m","count":1}',
      '{"k":"x","op":"join","member":"m","count":1}',
      '{"k":"x","op":"leave","member":"m","count":"1"}',
    ]) {
      await publisher.publish(channel, junk);
    }
    await publisher.publish(channel, '{"k":"x","op":"leave","member":"m","count":0}');
    await vi.waitFor(() => expect(heard).toHaveLength(1), WAIT);
    expect(heard).toEqual([{ key: 'x', notice: { op: 'leave', member: 'm', count: 0 } }]);
  });

  it('subscribes to presence and signals again after its subscription drops', async () => {
    const prefix = redisNodes.prefix();
    const name = `${prefix}-dropped`;
    const dropped = await redisNodes.start(prefix, { redisOptions: { connectionName: name } });
    const other = await redisNodes.start(prefix);
    const heard = hear(dropped.presence);
    const got: string[] = [];
    dropped.signals.listen((message) => got.push(message));

    const connection = admin();
    const clients = String(await connection.client('LIST'))
      .split('\n')
      .filter((line) => line.includes(` name=${name} `) && !/ sub=0 /.test(line));
    expect(clients).toHaveLength(1);
    const id = /^id=(\d+) /.exec(clients[0]!)![1]!;
    expect(await connection.client('KILL', 'ID', id)).toBe(1);

    // Sent while it was away, they are missed (not history); once it is back, they arrive again.
    let sent = 0;
    await vi.waitFor(async () => {
      await other.signals.send(`ping-${++sent}`);
      await sleep(20);
      expect(got.length).toBeGreaterThan(0);
    }, WAIT);
    const key = room('after-drop');
    await other.presence.set(key, { conn: 'c1', member: 'alice', data: 'A' }, LONG);
    await vi.waitFor(
      () => expect(noticesOf(heard, key)).toEqual([{ op: 'join', member: 'alice', count: 1, data: 'A' }]),
      WAIT,
    );
    expect(dropped.connected).toBe(true);
  });

  it('stops handing notices and signals to listeners once the broker is closed', async () => {
    const prefix = redisNodes.prefix();
    const broker = await redisNodes.start(prefix);
    const heard = hear(broker.presence);
    const got: string[] = [];
    broker.signals.listen((message) => got.push(message));
    await broker.close();
    broker.presence.receive('{"k":"x","op":"leave","member":"m","count":0}');
    broker.signals.receive('hello');
    expect(heard).toEqual([]);
    expect(got).toEqual([]);
  });
});

const nats = await requireNats();

describe.skipIf(!nats.available)(natsSuite('presence store conformance: NATS broker', nats), () => {
  const brokers: NatsBroker[] = [];
  const used: string[] = [];
  presenceConformance({
    async nodes() {
      // Two brokers on one prefix: two nodes of one deployment.
      const prefix = `${uniquePrefix('presence')}-${++prefixes}`.replace(/[^A-Za-z0-9_-]/g, '_');
      used.push(prefix);
      const [a, b] = [0, 1].map(() => natsBroker({ servers: nats.url, prefix, storage: 'memory' }));
      brokers.push(a!, b!);
      await Promise.all([a!.ready(), b!.ready()]);
      return [nodeOf(a!), nodeOf(b!)];
    },
    async cleanup() {
      for (const broker of brokers.splice(0)) await broker.close();
      for (const prefix of used.splice(0)) await deleteStream(nats.url, prefix);
    },
  });
});

const serverBinary = requireRedisServerBinary();

describe.skipIf(!serverBinary.available)(suiteTitle('presence store conformance: Redis Cluster', serverBinary), () => {
  let cluster: RedisClusterProcess;
  const brokers: RedisBroker[] = [];
  beforeAll(async () => {
    cluster = await startRedisCluster();
  }, 60_000);
  afterAll(() => cluster?.stop());
  presenceConformance({
    async nodes() {
      // Two brokers on one prefix: two nodes of one deployment, on a cluster of their own.
      const prefix = `${uniquePrefix('presence')}-${++prefixes}`;
      const [a, b] = [0, 1].map(() => redisBroker({ cluster: { nodes: cluster.nodes }, prefix }));
      brokers.push(a!, b!);
      await Promise.all([a!.ready(), b!.ready()]);
      await vi.waitFor(() => expect(a!.connected && b!.connected).toBe(true), WAIT);
      return [nodeOf(a!), nodeOf(b!)];
    },
    async cleanup() {
      for (const broker of brokers.splice(0)) await broker.close();
    },
  });
});
