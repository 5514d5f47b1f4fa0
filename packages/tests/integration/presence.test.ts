import { CLOSE_CODES, defineContract } from '@wirecall/core';
import { presence, type Presence, type PresenceChange } from '@wirecall/client/presence';
import type { WirecallClient, WirecallError } from '@wirecall/client';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { RawClient } from '../helpers/raw-client.js';
import { fastReconnect } from '../security/helpers.js';
import { connectClient, startTestServer } from '../helpers/test-server.js';
import { recordStates } from '../helpers/chaos-kit.js';

/**
 * Presence over real sockets on the in-memory broker: who is in a room, joins and leaves, one
 * member per user across connections, the grace period of a dropped connection, bounds, and who
 * may join. (Across nodes, on Redis: cluster/presence-cluster.test.ts.)
 */
const roomApi = defineContract({
  procedures: { whoami: { input: z.object({}), output: z.string().optional() } },
  events: {
    room: {
      payload: z.object({ text: z.string() }),
      params: z.object({ room: z.string() }),
      // What a member shows; the transform runs where the data is read (observers), once.
      presence: z.object({ name: z.string().transform((name) => name.trim()), typing: z.boolean().default(false) }),
    },
    lobby: { payload: z.object({ text: z.string() }), presence: z.object({ name: z.string() }) },
    notice: { payload: z.object({ text: z.string(), at: z.date() }), to: 'user' },
  },
  connectionParams: z.object({ user: z.string().optional() }),
});

type Context = { user: string | undefined };

function startRoomServer(options: { graceMs?: number; maxMembers?: number; banned?: string } = {}) {
  return startTestServer(roomApi, {
    context: ({ connectionParams }): Context => ({ user: connectionParams.user }),
    identify: (ctx) => ctx.user,
    handlers: { whoami: ({ ctx }) => ctx.user },
    canSubscribe: ({ params }) => (params as { room?: string } | undefined)?.room !== 'secret',
    canJoin: ({ ctx }) => options.banned === undefined || ctx.user !== options.banned,
    presence: { graceMs: options.graceMs ?? 10_000, maxMembers: options.maxMembers ?? 100 },
  });
}

function member(url: string, user?: string, extra: { reconnect?: false } = {}): WirecallClient<typeof roomApi> {
  return connectClient(roomApi, url, {
    presence,
    connectionParams: user === undefined ? {} : { user },
    reconnect: extra.reconnect ?? fastReconnect,
  });
}

/** A raw socket that says hello as `user` and waits for its welcome. */
async function rawMember(url: string, user: string): Promise<RawClient> {
  const raw = await RawClient.connect(url);
  raw.send({ t: 'hello', fp: roomApi.fingerprint, v: { user } });
  await raw.waitFor((frame) => frame.t === 'welcome');
  return raw;
}

/** Every change a presence reports, as short strings. */
function recordChanges<TData>(room: Presence<TData, unknown>): string[] {
  const changes: string[] = [];
  room.subscribe((change: PresenceChange<TData>) => {
    changes.push(
      change.type === 'sync'
        ? 'sync'
        : change.type === 'leave'
          ? `leave ${change.key}`
          : `${change.type} ${change.member.key}`,
    );
  });
  return changes;
}

function names(room: Presence<{ name: string }, unknown>): string[] {
  return [...room.members.values()].map((entry) => entry.data.name).sort();
}

describe('presence', () => {
  it('shows who is there, typed, with joins, updates and leaves, and parses member data once', async () => {
    await using ctx = await startRoomServer();
    await using ann = member(ctx.url, 'ann');
    await using bob = member(ctx.url, 'bob');
    const annRoom = ann.presence('room', { room: 'a' });
    const changes = recordChanges(annRoom);
    annRoom.join({ name: '  Ann ' });
    await vi.waitFor(() => expect(annRoom.count).toBe(1));
    expect(annRoom.me).toBe('ann');
    const bobRoom = bob.presence('room', { room: 'a' });
    bobRoom.join({ name: 'Bob', typing: true });
    await vi.waitFor(() => expect(annRoom.count).toBe(2));
    await vi.waitFor(() => expect(bobRoom.members.size).toBe(2));
    expect(annRoom.members.get('bob')).toEqual({ key: 'bob', data: { name: 'Bob', typing: true } });
    // The transform ran once, on the reading side: trimmed, not trimmed twice or sent trimmed.
    expect(bobRoom.members.get('ann')?.data).toEqual({ name: 'Ann', typing: false });
    expectTypeOfData(bobRoom);

    bobRoom.join({ name: 'Bob', typing: false }); // an update
    await vi.waitFor(() => expect(annRoom.members.get('bob')?.data.typing).toBe(false));
    bobRoom.leave();
    await vi.waitFor(() => expect(annRoom.count).toBe(1));
    expect([...annRoom.members.keys()]).toEqual(['ann']);
    expect(changes).toEqual(['sync', 'join ann', 'join bob', 'update bob', 'leave bob']);
    // Other rooms are other presences.
    const other = ann.presence('room', { room: 'b' });
    await vi.waitFor(() => expect(other.me).toBe('ann'));
    expect(other.count).toBe(0);
  });

  it('counts a user with several connections once, and lets them leave when the last one goes', async () => {
    await using ctx = await startRoomServer();
    await using watcher = member(ctx.url, 'watcher');
    await using tab1 = member(ctx.url, 'ann');
    await using tab2 = member(ctx.url, 'ann');
    const room = watcher.presence('lobby');
    const changes = recordChanges(room);
    tab1.presence('lobby').join({ name: 'Ann' });
    tab2.presence('lobby').join({ name: 'Ann' });
    await vi.waitFor(async () => expect((await ctx.server.presenceOf('lobby')).members[0]?.connections).toBe(2));
    expect(room.count).toBe(1);
    await tab1.close();
    await vi.waitFor(async () => expect((await ctx.server.presenceOf('lobby')).members[0]?.connections).toBe(1));
    expect(room.count).toBe(1);
    await tab2.close(); // a normal close: a departure, no grace
    await vi.waitFor(() => expect(room.count).toBe(0));
    expect(changes).toEqual(['sync', 'join ann', 'leave ann']);
  });

  it('keeps a dropped member for the grace period, so a reconnect does not flicker a leave and a join', async () => {
    await using ctx = await startRoomServer({ graceMs: 400 });
    await using watcher = member(ctx.url, 'watcher');
    await using anon = member(ctx.url); // no user: an anonymous member, by its client id
    const anonStates = recordStates(anon);
    const room = watcher.presence('lobby');
    const changes = recordChanges(room);
    const anonRoom = anon.presence('lobby');
    anonRoom.join({ name: 'Guest' });
    await vi.waitFor(() => expect(room.count).toBe(1));
    const key = [...room.members.keys()][0]!;
    expect(key).toMatch(/^anon-/);
    anon.reconnect(); // drops the socket (4000, not 1000) and comes back as the same member
    await vi.waitFor(() => expect(anonStates.filter((change) => change.state === 'open')).toHaveLength(2));
    await vi.waitFor(() => expect(anonRoom.count).toBe(1));
    await new Promise((resolve) => setTimeout(resolve, 700)); // past the grace of the old connection
    expect(room.count).toBe(1);
    expect(changes).toEqual(['sync', `join ${key}`]);
    // Gone for good: the member leaves once the grace period is over.
    const raw = await rawMember(ctx.url, 'ghost');
    raw.send({ t: 'psub', id: 1, e: 'lobby' });
    await raw.waitFor((frame) => frame.t === 'presence');
    raw.send({ t: 'pset', id: 1, v: { name: 'Ghost' } });
    await vi.waitFor(() => expect(room.count).toBe(2));
    raw.socket.terminate();
    expect(room.count).toBe(2); // still present during the grace period
    await vi.waitFor(() => expect(room.count).toBe(1));
    expect(changes.slice(-2)).toEqual(['join ghost', 'leave ghost']);
  });

  it('lists a capped number of members to a newcomer, with the exact count, and pages on the server', async () => {
    await using ctx = await startRoomServer({ maxMembers: 3 });
    const clients = Array.from({ length: 7 }, (_, index) => member(ctx.url, `user${index}`));
    try {
      for (const [index, client] of clients.entries()) client.presence('lobby').join({ name: `User ${index}` });
      await vi.waitFor(async () => expect((await ctx.server.presenceOf('lobby')).count).toBe(7));
      await using newcomer = member(ctx.url, 'newcomer');
      const room = newcomer.presence('lobby');
      await vi.waitFor(() => expect(room.count).toBe(7));
      expect(room.members.size).toBe(3);
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await ctx.server.presenceOf('lobby', { limit: 2, cursor });
        expect(page.count).toBe(7);
        seen.push(...page.members.map((entry) => entry.data.name));
        cursor = page.cursor;
      } while (cursor !== undefined);
      expect(seen.sort()).toEqual(clients.map((_, index) => `User ${index}`).sort());
    } finally {
      await Promise.all(clients.map((client) => client.close()));
    }
  });

  it('refuses a join canJoin refuses (observing goes on) and an observation canSubscribe refuses', async () => {
    await using ctx = await startRoomServer({ banned: 'mallory' });
    await using mallory = member(ctx.url, 'mallory');
    const errors: WirecallError[] = [];
    const room = mallory.presence('room', { room: 'a' }, { onError: (error) => errors.push(error) });
    room.join({ name: 'Mallory' });
    await vi.waitFor(() => expect(errors.map((error) => error.code)).toEqual(['FORBIDDEN']));
    expect(room.joined).toBe(false);
    await using ann = member(ctx.url, 'ann');
    ann.presence('room', { room: 'a' }).join({ name: 'Ann' });
    await vi.waitFor(() => expect(names(room as never)).toEqual(['Ann'])); // still observing
    mallory.presence('room', { room: 'secret' }, { onError: (error) => errors.push(error) });
    await vi.waitFor(() => expect(errors.map((error) => error.code)).toEqual(['FORBIDDEN', 'FORBIDDEN']));
    // Bad data never leaves the client; the server checks it again for other clients.
    expect(() => room.join({ name: 42 } as never)).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
    await using raw = await rawMember(ctx.url, 'raw');
    raw.send({ t: 'pset', id: 9, v: { name: 'Nobody' } });
    expect(await raw.waitFor((frame) => frame.t === 'error')).toMatchObject({
      id: 9,
      op: 'pset',
      e: { code: 'NOT_FOUND' },
    });
    raw.send({ t: 'psub', id: 1, e: 'room', v: { room: 'a' } });
    await raw.waitFor((frame) => frame.t === 'presence' && frame.op === 'sync');
    raw.send({ t: 'pset', id: 1, v: { name: 42 } });
    expect(await raw.waitFor((frame) => frame.t === 'error' && frame.id === 1)).toMatchObject({
      op: 'pset',
      e: { code: 'BAD_REQUEST' },
    });
    // One observation per stream and connection: notices carry the stream, not an id.
    raw.send({ t: 'psub', id: 3, e: 'room', v: { room: 'a' } });
    expect(await raw.waitFor((frame) => frame.t === 'error' && frame.id === 3)).toMatchObject({
      e: { code: 'BAD_REQUEST', message: expect.stringContaining('already observes') as unknown },
    });
    raw.send({ t: 'psub', id: 2, e: 'notice' });
    expect(await raw.waitFor((frame) => frame.t === 'error' && frame.id === 2)).toMatchObject({
      e: { code: 'BAD_REQUEST' },
    });
    // Ids are unique across subscriptions and presences: refused without the id, which names the presence.
    const from = raw.frames.length;
    raw.send({ t: 'sub', id: 1, e: 'lobby' });
    expect(await raw.waitFor((frame) => frame.t === 'error', { from })).toEqual({
      t: 'error',
      e: { code: 'BAD_REQUEST', message: 'This id is in use by a subscription or a call in flight' },
    });
  });
});

describe('push to one user, one connection, or a set', () => {
  it('sends a personal event to every connection of its user, on its own stream with history', async () => {
    await using ctx = await startRoomServer();
    await using phone = member(ctx.url, 'ann');
    await using laptop = member(ctx.url, 'ann');
    await using bob = member(ctx.url, 'bob');
    const got: Record<string, string[]> = { phone: [], laptop: [], bob: [] };
    for (const [name, client] of [
      ['phone', phone],
      ['laptop', laptop],
      ['bob', bob],
    ] as const) {
      client.on('notice', (notice, meta) => {
        expect(notice.at).toBeInstanceOf(Date);
        got[name]!.push(`${notice.text} ${meta.id === undefined ? 'pushed' : 'kept'}`);
      });
    }
    await Promise.all([phone, laptop, bob].map((client) => client.call.whoami({})));
    await vi.waitFor(() => expect(ctx.server.stats().subscriptions).toBe(3));
    await ctx.server.emit('notice', { text: 'outbid', at: new Date() }, { user: 'ann' });
    await ctx.server.emit('notice', { text: 'hi both', at: new Date() }, { user: ['ann', 'bob'] });
    await vi.waitFor(() => expect(got.bob).toEqual(['hi both kept']));
    await vi.waitFor(() => expect(got.phone).toEqual(['outbid kept', 'hi both kept']));
    expect(got.laptop).toEqual(['outbid kept', 'hi both kept']);
    // A personal event needs its target: a compile error, and a run-time refusal.
    // @ts-expect-error -- no user or connection
    await expect(ctx.server.emit('notice', { text: 'x', at: new Date() })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });

  it('pushes to one connection alone, on any node, without history', async () => {
    await using ctx = await startRoomServer();
    const connections: string[] = [];
    await using phone = member(ctx.url, 'ann');
    await using laptop = member(ctx.url, 'ann');
    const got: string[] = [];
    phone.on('room', { room: 'a' }, (event, meta) => got.push(`phone ${event.text} ${String(meta.id)}`));
    laptop.on('room', { room: 'a' }, (event) => got.push(`laptop ${event.text}`));
    await Promise.all([phone.call.whoami({}), laptop.call.whoami({})]);
    await vi.waitFor(() => expect(ctx.server.stats().subscriptions).toBe(2));
    const listed = await ctx.server.connectionsOf('ann');
    expect(listed).toHaveLength(2);
    connections.push(...listed.map((entry) => entry.id));
    expect(new Set(listed.map((entry) => entry.node))).toEqual(new Set([ctx.server.nodeId]));
    // Which connection is the phone's? Push to each in turn and see who gets it.
    await ctx.server.emit('room', { text: 'first' }, { params: { room: 'a' }, connection: connections[0]! });
    await vi.waitFor(() => expect(got).toHaveLength(1));
    await ctx.server.emit('room', { text: 'both' }, { params: { room: 'a' }, connection: connections });
    await vi.waitFor(() => expect(got).toHaveLength(3));
    expect(got.filter((entry) => entry.includes('first'))).toHaveLength(1);
    expect(got.filter((entry) => entry.startsWith('phone')).every((entry) => entry.endsWith('undefined'))).toBe(true);
    // A connection that does not listen to the stream gets nothing.
    await ctx.server.emit('room', { text: 'elsewhere' }, { params: { room: 'b' }, connection: connections });
    await phone.call.whoami({});
    expect(got).toHaveLength(3);
  });

  it('disconnects every connection of a user (a revoked session) and lists them', async () => {
    await using ctx = await startRoomServer();
    await using phone = member(ctx.url, 'ann', { reconnect: false });
    const phoneStates = recordStates(phone);
    await using laptop = member(ctx.url, 'ann', { reconnect: false });
    await using bob = member(ctx.url, 'bob', { reconnect: false });
    await Promise.all([phone, laptop, bob].map((client) => client.call.whoami({})));
    expect(await ctx.server.connectionsOf('ann')).toHaveLength(2);
    await ctx.server.disconnectUser('ann', { reason: 'password changed' });
    await vi.waitFor(() => expect([phone.state, laptop.state]).toEqual(['closed', 'closed']));
    expect(phoneStates.at(-1)).toMatchObject({ closeCode: CLOSE_CODES.UNAUTHORIZED });
    expect(bob.state).toBe('open');
    await vi.waitFor(async () => expect(await ctx.server.connectionsOf('ann')).toEqual([]));
    expect(await bob.call.whoami({})).toBe('bob');
  });
});

/** Member data is typed by the contract's presence schema (its output side). */
function expectTypeOfData(room: Presence<{ name: string; typing: boolean }, unknown>): void {
  const data = room.members.get('x')?.data;
  const name: string | undefined = data?.name;
  void name;
}
