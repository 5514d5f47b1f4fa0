import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { presence, type Presence, type PresenceChange } from '@wirecall/client/presence';
import type { WirecallError } from '@wirecall/client';
import { CLOSE_CODES } from '@wirecall/core';
import { recordingClientLogger, type RecordingClientLogger } from '../helpers/chaos-kit.js';
import { fastReconnect, typedClient, type Client } from '../security/helpers.js';
import { killAllChildren } from './helpers/json-child.js';
import { presenceApi, type PresenceApi, type PresenceNodeConfig } from './helpers/presence-api.js';
import {
  closeAllPresenceNodes,
  startInProcessPresenceNode,
  startPresenceNodeProcess,
  type PresenceNode,
} from './helpers/presence-node.js';
import { deleteKeys, REDIS_URL, redisSuite, requireRedis, uniquePrefix } from './helpers/redis.js';

const redis = await requireRedis();

/**
 * Presence, personal events and pushes across server nodes on the Redis broker: real Redis, real
 * sockets on 127.0.0.1, and nodes in child processes where a test SIGKILLs one. (On one node, with
 * the memory broker: integration/presence.test.ts.)
 *
 * Every wait is for an outcome, with a generous timeout that only stops a hang; no test times how
 * fast something happens. To show that something was NOT announced, a test makes a later change
 * (a marker) and waits for it: notices reach every node in the order Redis made them.
 */

/** Generous: a test waits for an outcome, it does not time it. */
const WAIT = { timeout: 10_000, interval: 20 };
/**
 * A short heartbeat, so a dead node's members go within about a second: a lease is two intervals
 * (400 ms), and every node sweeps every quarter lease (100 ms). The timeout is generous, so a busy
 * test process does not drop its own clients.
 */
const SHORT_HEARTBEAT = { intervalMs: 200, timeoutMs: 5_000 };
/** How long a dropped connection stays present. */
const GRACE_MS = 1_500;
const ROOM = 'lobby';

type RoomData = { name: string };
type RoomPresence = Presence<RoomData, RoomData>;

/** A room's presence as one client sees it, with every change it reported and every error. */
interface Watched {
  room: RoomPresence;
  /** `sync`, `join <key>`, `update <key> <name>`, `leave <key>`, in order. */
  changes: string[];
  errors: WirecallError[];
}

function watch(client: Client<PresenceApi>, room = ROOM): Watched {
  const errors: WirecallError[] = [];
  const handle = client.presence('room', { room }, { onError: (error) => errors.push(error) });
  const changes: string[] = [];
  handle.subscribe((change: PresenceChange<RoomData>) => {
    changes.push(
      change.type === 'sync'
        ? 'sync'
        : change.type === 'leave'
          ? `leave ${change.key}`
          : change.type === 'update'
            ? `update ${change.member.key} ${change.member.data.name}`
            : `join ${change.member.key}`,
    );
  });
  return { room: handle, changes, errors };
}

/** Members by key, with their names, as a client sees them. */
function namesOf(room: RoomPresence): Record<string, string> {
  return Object.fromEntries([...room.members.values()].map((entry) => [entry.key, entry.data.name]));
}

/** The clients of one test: each records what it logs, so a test can check that nothing went wrong. */
function clientKit() {
  const loggers: { name: string; logger: RecordingClientLogger }[] = [];
  return {
    /** A client of `user` (anonymous without one) on `url`, or on the list `url` rotated on reconnect. */
    open(url: string | string[], user?: string, options: { reconnect?: false } = {}): Client<PresenceApi> {
      const logger = recordingClientLogger();
      loggers.push({ name: user ?? 'anonymous', logger });
      return typedClient(presenceApi, {
        url,
        presence,
        connectionParams: user === undefined ? {} : { user },
        reconnect: options.reconnect ?? fastReconnect,
        logger,
      });
    },
    /** What the clients logged, as `name level: message`. */
    problems: (): string[] =>
      loggers.flatMap(({ name, logger }) => logger.entries.map((entry) => `${name} ${entry.level}: ${entry.message}`)),
  };
}

/** The one member `key` of a node's presence page, or undefined. */
async function memberOn(node: PresenceNode, key: string) {
  return (await node.presenceOf(ROOM)).members.find((entry) => entry.key === key);
}

/** Each member's number of connections, as a node reads them from the broker. */
async function connectionCounts(node: PresenceNode): Promise<Record<string, number>> {
  const page = await node.presenceOf(ROOM);
  return Object.fromEntries(page.members.map((entry) => [entry.key, entry.connections]));
}

describe.skipIf(!redis.available)(redisSuite('presence across nodes (Redis broker)', redis), () => {
  const prefix = uniquePrefix('presence-cluster');
  let tests = 0;
  /** Nodes of one test share a prefix; each test has its own. */
  const config = (name: string, overrides: Partial<PresenceNodeConfig> = {}): PresenceNodeConfig => ({
    name,
    redisUrl: REDIS_URL,
    prefix: `${prefix}-${tests}`,
    heartbeat: SHORT_HEARTBEAT,
    graceMs: GRACE_MS,
    ...overrides,
  });
  afterEach(async () => {
    tests++;
    await killAllChildren();
    await closeAllPresenceNodes();
  });
  afterAll(() => deleteKeys(REDIS_URL, prefix));

  it('shows the members of both nodes to both, with joins, updates and leaves; a user on both counts once', async () => {
    const [nodeA, nodeB] = await Promise.all([
      startInProcessPresenceNode(config('node-a')),
      startInProcessPresenceNode(config('node-b')),
    ]);
    const kit = clientKit();
    await using ann = kit.open(nodeA.url, 'ann');
    await using bob = kit.open(nodeB.url, 'bob');
    const onA = watch(ann);
    const onB = watch(bob);
    await vi.waitFor(() => expect([onA.room.me, onB.room.me]).toEqual(['ann', 'bob']), WAIT);

    onA.room.join({ name: 'Ann' });
    await vi.waitFor(() => expect(namesOf(onB.room)).toEqual({ ann: 'Ann' }), WAIT);
    onB.room.join({ name: 'Bob' });
    for (const seen of [onA, onB]) {
      await vi.waitFor(() => expect(namesOf(seen.room)).toEqual({ ann: 'Ann', bob: 'Bob' }), WAIT);
      expect(seen.room.count).toBe(2);
    }
    const both = {
      count: 2,
      members: [
        { key: 'ann', connections: 1, name: 'Ann' },
        { key: 'bob', connections: 1, name: 'Bob' },
      ],
    };
    expect(await nodeA.presenceOf(ROOM)).toEqual(both);
    expect(await nodeB.presenceOf(ROOM)).toEqual(both);

    // An update on node B reaches node A.
    onB.room.join({ name: 'Robert' });
    await vi.waitFor(() => expect(onA.room.members.get('bob')?.data.name).toBe('Robert'), WAIT);

    // carol is connected to both nodes, and joins from both: one member, with two connections.
    await using carolOnA = kit.open(nodeA.url, 'carol');
    await using carolOnB = kit.open(nodeB.url, 'carol');
    const carolA = watch(carolOnA);
    const carolB = watch(carolOnB);
    carolA.room.join({ name: 'Carol' });
    carolB.room.join({ name: 'Carol' });
    await vi.waitFor(async () => expect((await memberOn(nodeA, 'carol'))?.connections).toBe(2), WAIT);
    expect(await memberOn(nodeB, 'carol')).toEqual({ key: 'carol', connections: 2, name: 'Carol' });
    await vi.waitFor(() => expect([onA.room.count, onB.room.count]).toEqual([3, 3]), WAIT);
    await vi.waitFor(() => expect(carolA.room.count).toBe(3), WAIT);
    expect(namesOf(carolA.room)).toEqual({ ann: 'Ann', bob: 'Robert', carol: 'Carol' });

    // Her connection on node A goes (a normal close): she is still there, on node B.
    await carolOnA.close();
    await vi.waitFor(async () => expect((await memberOn(nodeB, 'carol'))?.connections).toBe(1), WAIT);
    expect((await nodeA.presenceOf(ROOM)).count).toBe(3);
    // A marker: once dave's join has arrived, any leave of carol announced before it would have too.
    await using dave = kit.open(nodeB.url, 'dave');
    watch(dave).room.join({ name: 'Dave' });
    for (const seen of [onA, onB]) await vi.waitFor(() => expect(seen.room.members.has('dave')).toBe(true), WAIT);
    expect([onA.room.count, onB.room.count]).toEqual([4, 4]);
    expect(onA.room.members.has('carol')).toBe(true);

    // Her last connection, on the other node, goes: now she leaves, for the observers of both nodes.
    await carolOnB.close();
    for (const seen of [onA, onB]) await vi.waitFor(() => expect(seen.room.members.has('carol')).toBe(false), WAIT);
    // bob leaves on purpose (his connection stays): node A's observer sees it.
    onB.room.leave();
    await vi.waitFor(() => expect(onA.room.members.has('bob')).toBe(false), WAIT);
    await vi.waitFor(() => expect(onB.room.count).toBe(2), WAIT);

    const expected = [
      'sync',
      'join ann',
      'join bob',
      'update bob Robert',
      'join carol',
      'join dave',
      'leave carol',
      'leave bob',
    ];
    expect(onA.changes).toEqual(expected);
    expect(onB.changes).toEqual(expected);
    expect(namesOf(onA.room)).toEqual({ ann: 'Ann', dave: 'Dave' });
    const left = {
      count: 2,
      members: [
        { key: 'ann', connections: 1, name: 'Ann' },
        { key: 'dave', connections: 1, name: 'Dave' },
      ],
    };
    expect(await nodeA.presenceOf(ROOM)).toEqual(left);
    expect(await nodeB.presenceOf(ROOM)).toEqual(left);
    expect([...onA.errors, ...onB.errors, ...carolA.errors, ...carolB.errors]).toEqual([]);
    expect(kit.problems()).toEqual([]);
    expect([...nodeA.problems(), ...nodeB.problems()]).toEqual([]);
  });

  it('takes the members of a node that dies (SIGKILL) out once its lease ends; the others stay', async ({
    annotate,
  }) => {
    const [victim, survivor] = await Promise.all([
      startPresenceNodeProcess(config('victim')),
      startInProcessPresenceNode(config('survivor')),
    ]);
    const kit = clientKit();
    // Observers on the surviving node; members on the victim alone, and carol on both.
    await using watcher = kit.open(survivor.url, 'watcher');
    const seen = watch(watcher);
    let lastLeaveAt = 0;
    seen.room.subscribe((change) => {
      if (change.type === 'leave') lastLeaveAt = performance.now();
    });
    await vi.waitFor(() => expect(seen.room.me).toBe('watcher'), WAIT);
    await using vic = kit.open(victim.url, 'vic', { reconnect: false });
    await using guest = kit.open(victim.url, undefined, { reconnect: false });
    await using carolOnVictim = kit.open(victim.url, 'carol', { reconnect: false });
    await using carolOnSurvivor = kit.open(survivor.url, 'carol');
    const guestRoom = watch(guest).room;
    watch(vic).room.join({ name: 'Vic' });
    await vi.waitFor(() => expect(seen.room.members.has('vic')).toBe(true), WAIT);
    guestRoom.join({ name: 'Guest' });
    await vi.waitFor(() => expect(seen.room.count).toBe(2), WAIT);
    const guestKey = guestRoom.me!;
    expect(guestKey).toMatch(/^anon-/);
    watch(carolOnVictim).room.join({ name: 'Carol' });
    await vi.waitFor(() => expect(seen.room.members.has('carol')).toBe(true), WAIT);
    watch(carolOnSurvivor).room.join({ name: 'Carol' });
    await vi.waitFor(async () => expect((await memberOn(survivor, 'carol'))?.connections).toBe(2), WAIT);
    expect(namesOf(seen.room)).toEqual({ vic: 'Vic', [guestKey]: 'Guest', carol: 'Carol' });
    const carolConnections = await survivor.connectionsOf('carol');
    expect(new Set(carolConnections.map((entry) => entry.node))).toEqual(new Set([victim.nodeId, survivor.nodeId]));
    expect((await survivor.connectionsOf('vic')).map((entry) => entry.node)).toEqual([victim.nodeId]);

    // The victim dies without a word: no close frames, no leaves. Its lease runs out; the survivor sweeps.
    await victim.kill('SIGKILL');
    const killedAt = performance.now();
    await vi.waitFor(() => expect(namesOf(seen.room)).toEqual({ carol: 'Carol' }), WAIT);
    // For the report, not asserted: about 2.5 heartbeat intervals (500 ms) at most is documented.
    await annotate(`the dead node's members left ${Math.round(lastLeaveAt - killedAt)} ms after the kill`);
    expect(seen.room.count).toBe(1);
    expect(seen.changes.slice(0, 4)).toEqual(['sync', 'join vic', `join ${guestKey}`, 'join carol']);
    expect(seen.changes.slice(4).sort()).toEqual([`leave ${guestKey}`, 'leave vic'].sort());
    // carol's entry on the victim may have been written after the others' last refresh: its lease
    // can end a little later. It goes too, without a leave: her connection on the survivor stays.
    await vi.waitFor(
      async () =>
        expect(await survivor.presenceOf(ROOM)).toEqual({
          count: 1,
          members: [{ key: 'carol', connections: 1, name: 'Carol' }],
        }),
      WAIT,
    );
    // The dead node's connections are gone from the user directory too.
    const carolLeft = carolConnections.filter((entry) => entry.node === survivor.nodeId);
    expect(carolLeft).toHaveLength(1);
    await vi.waitFor(async () => expect(await survivor.connectionsOf('carol')).toEqual(carolLeft), WAIT);
    expect(await survivor.connectionsOf('vic')).toEqual([]);
    // A marker: nothing else (a leave of carol) was announced meanwhile.
    await using dave = kit.open(survivor.url, 'dave');
    watch(dave).room.join({ name: 'Dave' });
    await vi.waitFor(() => expect(seen.room.members.has('dave')).toBe(true), WAIT);
    expect(seen.changes.slice(6)).toEqual(['join dave']);
    expect(seen.errors).toEqual([]);
    expect(kit.problems()).toEqual([]);
    expect(survivor.problems()).toEqual([]);
  });

  it('keeps a client that reconnects to another node within the grace period present, without a flicker', async () => {
    const [nodeA, nodeB] = await Promise.all([
      startInProcessPresenceNode(config('node-a')),
      startInProcessPresenceNode(config('node-b')),
    ]);
    const kit = clientKit();
    await using watcherA = kit.open(nodeA.url, 'watcher-a');
    await using watcherB = kit.open(nodeB.url, 'watcher-b');
    const onA = watch(watcherA);
    const onB = watch(watcherB);
    await vi.waitFor(() => expect([onA.room.me, onB.room.me]).toEqual(['watcher-a', 'watcher-b']), WAIT);
    // Both start on node A; a reconnect moves them to node B (the list rotates).
    await using ann = kit.open([nodeA.url, nodeB.url], 'ann');
    await using guest = kit.open([nodeA.url, nodeB.url]);
    const annRoom = watch(ann).room;
    const guestRoom = watch(guest).room;
    // One after the other: two clients' joins may reach the observers in either order.
    annRoom.join({ name: 'Ann' });
    for (const seen of [onA, onB]) await vi.waitFor(() => expect(seen.room.members.has('ann')).toBe(true), WAIT);
    guestRoom.join({ name: 'Guest' });
    for (const seen of [onA, onB]) await vi.waitFor(() => expect(seen.room.count).toBe(2), WAIT);
    const guestKey = guestRoom.me!;
    expect((await ann.call.whoami(null)).node).toBe('node-a');
    expect((await guest.call.whoami(null)).node).toBe('node-a');

    // Dropped (not closed): node A keeps them for the grace period; they come back on node B.
    ann.reconnect();
    guest.reconnect();
    expect((await ann.call.whoami(null)).node).toBe('node-b');
    expect((await guest.call.whoami(null)).node).toBe('node-b');
    // Each is one member with two connections (the dropped one, kept for the grace period, and the
    // new one), then, once the grace period is over, with one.
    await vi.waitFor(async () => expect(await connectionCounts(nodeB)).toEqual({ ann: 2, [guestKey]: 2 }), WAIT);
    await vi.waitFor(async () => expect(await connectionCounts(nodeA)).toEqual({ ann: 1, [guestKey]: 1 }), WAIT);
    // The grace period is over; a marker shows that no leave (or join) was announced meanwhile.
    await using dave = kit.open(nodeB.url, 'dave');
    watch(dave).room.join({ name: 'Dave' });
    for (const seen of [onA, onB]) await vi.waitFor(() => expect(seen.room.members.has('dave')).toBe(true), WAIT);
    for (const seen of [onA, onB]) {
      expect(seen.changes).toEqual(['sync', 'join ann', `join ${guestKey}`, 'join dave']);
      expect(namesOf(seen.room)).toEqual({ ann: 'Ann', [guestKey]: 'Guest', dave: 'Dave' });
      expect(seen.room.count).toBe(3);
    }
    // Present exactly once, as itself (an anonymous client keeps its key across nodes).
    expect([annRoom.me, guestRoom.me, annRoom.count, guestRoom.count]).toEqual(['ann', guestKey, 3, 3]);
    expect(await nodeA.presenceOf(ROOM)).toEqual(await nodeB.presenceOf(ROOM));
    expect((await nodeB.presenceOf(ROOM)).count).toBe(3);
    expect(await nodeA.connectionsOf('ann')).toEqual([
      expect.objectContaining({ id: (await ann.call.whoami(null)).connection, node: nodeB.nodeId }),
    ]);
    expect([...onA.errors, ...onB.errors]).toEqual([]);
    expect(kit.problems()).toEqual([]);
    expect([...nodeA.problems(), ...nodeB.problems()]).toEqual([]);
  });

  it('keeps a client whose node dies present while it moves to another node within the lease', async () => {
    // A longer lease (1 s) than the other tests': the client must be back before it ends.
    const heartbeat = { intervalMs: 500, timeoutMs: 5_000 };
    const [victim, survivor] = await Promise.all([
      startPresenceNodeProcess(config('victim', { heartbeat })),
      startInProcessPresenceNode(config('survivor', { heartbeat })),
    ]);
    const kit = clientKit();
    await using watcher = kit.open(survivor.url, 'watcher');
    const seen = watch(watcher);
    await vi.waitFor(() => expect(seen.room.me).toBe('watcher'), WAIT);
    await using ann = kit.open([victim.url, survivor.url], 'ann');
    await using guest = kit.open([victim.url, survivor.url]);
    const annRoom = watch(ann).room;
    const guestRoom = watch(guest).room;
    // One after the other: two clients' joins may reach the observer in either order.
    annRoom.join({ name: 'Ann' });
    await vi.waitFor(() => expect(seen.room.members.has('ann')).toBe(true), WAIT);
    guestRoom.join({ name: 'Guest' });
    await vi.waitFor(() => expect(seen.room.count).toBe(2), WAIT);
    const guestKey = guestRoom.me!;
    expect((await ann.call.whoami(null)).node).toBe('victim');

    await victim.kill('SIGKILL');
    expect((await ann.call.whoami(null)).node).toBe('survivor');
    expect((await guest.call.whoami(null)).node).toBe('survivor');
    // The dead node's entries run out and are swept: one connection each is left, the new one.
    await vi.waitFor(async () => expect(await connectionCounts(survivor)).toEqual({ ann: 1, [guestKey]: 1 }), WAIT);
    await vi.waitFor(async () => expect(await survivor.connectionsOf('ann')).toHaveLength(1), WAIT);
    await using dave = kit.open(survivor.url, 'dave');
    watch(dave).room.join({ name: 'Dave' });
    await vi.waitFor(() => expect(seen.room.members.has('dave')).toBe(true), WAIT);
    expect(seen.changes).toEqual(['sync', 'join ann', `join ${guestKey}`, 'join dave']);
    expect(seen.room.count).toBe(3);
    expect(seen.errors).toEqual([]);
    expect(kit.problems()).toEqual([]);
    expect(survivor.problems()).toEqual([]);
  });

  it('pushes to one connection on another node, sends personal events to every node, lists and disconnects a user', async () => {
    // The emitting node in the test process, the other in a child: every push crosses processes.
    const [nodeA, nodeB] = await Promise.all([
      startInProcessPresenceNode(config('node-a')),
      startPresenceNodeProcess(config('node-b')),
    ]);
    const kit = clientKit();
    await using phone = kit.open(nodeA.url, 'ann', { reconnect: false });
    await using laptop = kit.open(nodeB.url, 'ann', { reconnect: false });
    await using bob = kit.open(nodeB.url, 'bob');
    const got: Record<string, string[]> = { phone: [], laptop: [], bob: [] };
    for (const [name, client] of [
      ['phone', phone],
      ['laptop', laptop],
      ['bob', bob],
    ] as const) {
      client.on('room', { room: ROOM }, (event, meta) =>
        got[name]!.push(`${event.text}${meta.id === undefined ? ' (pushed)' : ''}`),
      );
      client.on('notice', (notice) => got[name]!.push(`notice ${notice.text}`));
    }
    const [phoneIs, laptopIs, bobIs] = await Promise.all([
      phone.call.whoami(null),
      laptop.call.whoami(null),
      bob.call.whoami(null),
    ]);
    expect([phoneIs.node, laptopIs.node, bobIs.node]).toEqual(['node-a', 'node-b', 'node-b']);
    await vi.waitFor(async () => expect((await nodeA.stats()).subscriptions).toBe(2), WAIT);
    await vi.waitFor(async () => expect((await nodeB.stats()).subscriptions).toBe(4), WAIT);

    // connectionsOf lists a user's connections on every node, from either node.
    const annConnections = [
      { id: phoneIs.connection, node: nodeA.nodeId },
      { id: laptopIs.connection, node: nodeB.nodeId },
    ].sort((a, b) => a.id.localeCompare(b.id));
    for (const node of [nodeA, nodeB]) {
      const listed = (await node.connectionsOf('ann'))
        .map(({ id, node: on }) => ({ id, node: on }))
        .sort((a, b) => a.id.localeCompare(b.id));
      expect(listed).toEqual(annConnections);
      expect((await node.connectionsOf('bob')).map((entry) => entry.id)).toEqual([bobIs.connection]);
    }

    // A push from node A to the laptop's connection on node B: it alone gets it, without an id.
    expect(await nodeA.emit(ROOM, 'for the laptop', [laptopIs.connection])).toBe('');
    // A push to two connections, one on each node.
    await nodeA.emit(ROOM, 'for phone and bob', [phoneIs.connection, bobIs.connection]);
    // A marker to everyone: whoever got a push got it before this.
    await nodeA.emit(ROOM, 'everyone');
    for (const name of ['phone', 'laptop', 'bob']) {
      await vi.waitFor(() => expect(got[name]).toContain('everyone'), WAIT);
    }
    expect(got).toEqual({
      phone: ['for phone and bob (pushed)', 'everyone'],
      laptop: ['for the laptop (pushed)', 'everyone'],
      bob: ['for phone and bob (pushed)', 'everyone'],
    });

    // A personal event to ann, from either node, reaches both her connections, and not bob.
    await nodeA.notify(['ann'], 'outbid');
    await nodeB.notify(['ann'], 'outbid again');
    await nodeA.notify(['bob'], 'for bob');
    await vi.waitFor(() => expect(got.bob).toContain('notice for bob'), WAIT);
    for (const name of ['phone', 'laptop']) {
      await vi.waitFor(() => expect(got[name]).toContain('notice outbid again'), WAIT);
    }
    expect(got).toEqual({
      phone: ['for phone and bob (pushed)', 'everyone', 'notice outbid', 'notice outbid again'],
      laptop: ['for the laptop (pushed)', 'everyone', 'notice outbid', 'notice outbid again'],
      bob: ['for phone and bob (pushed)', 'everyone', 'notice for bob'],
    });

    // disconnectUser on node A closes ann's connections on both nodes with 4401; bob stays.
    await nodeA.disconnectUser('ann');
    await vi.waitFor(() => expect([phone.state, laptop.state]).toEqual(['closed', 'closed']), WAIT);
    expect(phone.states.at(-1)).toMatchObject({ state: 'closed', closeCode: CLOSE_CODES.UNAUTHORIZED });
    expect(laptop.states.at(-1)).toMatchObject({ state: 'closed', closeCode: CLOSE_CODES.UNAUTHORIZED });
    for (const node of [nodeA, nodeB]) {
      await vi.waitFor(async () => expect(await node.connectionsOf('ann')).toEqual([]), WAIT);
    }
    expect(bob.state).toBe('open');
    expect((await bob.call.whoami(null)).connection).toBe(bobIs.connection);
    expect((await nodeB.connectionsOf('bob')).map((entry) => entry.id)).toEqual([bobIs.connection]);
    expect(kit.problems()).toEqual([]);
    expect([...nodeA.problems(), ...nodeB.problems()]).toEqual([]);
  });
});
