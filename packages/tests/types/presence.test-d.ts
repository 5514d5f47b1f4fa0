/**
 * Type-level tests of presence and personal events: `presence` required on a client of a contract
 * that declares it, `client.presence` typed by the event (join takes the schema's sending side,
 * members show its parsed side), `emit` targets, `presenceOf` and `identify`. Nothing here runs:
 * clients and servers are only declared or built inside functions that are never called.
 */
import { createClient, type EventMeta, type WirecallClient } from '@wirecall/client';
import { presence, type Presence, type PresenceChange, type PresenceMember } from '@wirecall/client/presence';
import { defineContract, type inferPresence, type inferPresenceInput, type PresenceEventName } from '@wirecall/core';
import { createServer, type DefaultContext, type PresenceSnapshot, type WirecallServer } from '@wirecall/server';
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';

const api = defineContract({
  procedures: { ping: { input: z.null(), output: z.null() } },
  events: {
    // Presence with a transform (members show a number) and a default (optional when joining).
    lobby: {
      payload: z.object({ text: z.string() }),
      presence: z.object({
        name: z.string(),
        age: z.string().transform(Number),
        status: z.enum(['online', 'away']).default('online'),
      }),
    },
    room: {
      payload: z.object({ text: z.string() }),
      params: z.object({ room: z.string() }),
      presence: z.object({ name: z.string() }),
    },
    tick: { payload: z.number() },
    scoped: { payload: z.number(), params: z.object({ id: z.string() }) },
    inbox: { payload: z.object({ from: z.string() }), to: 'user' },
    threadInbox: { payload: z.string(), params: z.object({ thread: z.string() }), to: 'user' },
  },
});
type Api = typeof api;

type LobbyData = { name: string; age: number; status: 'online' | 'away' };

const plainApi = defineContract({
  procedures: { ping: { input: z.null(), output: z.null() } },
  events: { tick: { payload: z.number() } },
});

/** Only declared: the tests below are type-checked, never run, so no client or server exists. */
declare const client: WirecallClient<Api>;
declare const server: WirecallServer<Api>;

describe('contract presence types', () => {
  it('name only the events that declare presence', () => {
    expectTypeOf<PresenceEventName<Api>>().toEqualTypeOf<'lobby' | 'room'>();
    expectTypeOf<PresenceEventName<typeof plainApi>>().toBeNever();
  });

  it('take the input side to join and give the output side to observers', () => {
    expectTypeOf<inferPresenceInput<Api, 'lobby'>>().toEqualTypeOf<{
      name: string;
      age: string;
      status?: 'online' | 'away' | undefined;
    }>();
    expectTypeOf<inferPresence<Api, 'lobby'>>().toEqualTypeOf<LobbyData>();
    expectTypeOf<inferPresence<Api, 'tick'>>().toBeNever();
  });
});

describe('createClient presence option', () => {
  it('is required for a contract that declares presence', () => {
    // @ts-expect-error presence is missing
    const _missing = () => createClient(api, { url: 'ws://x' });
    const _fine = () => createClient(api, { url: 'ws://x', presence });
    expectTypeOf(_fine).returns.toEqualTypeOf<WirecallClient<Api>>();
  });

  it('is optional for a contract that declares none', () => {
    const _without = () => createClient(plainApi, { url: 'ws://x' });
    const _with = () => createClient(plainApi, { url: 'ws://x', presence });
  });
});

describe('client.presence', () => {
  it('is typed by the event: members show the output side, join takes the input side', () => {
    const lobby = client.presence('lobby');
    expectTypeOf(lobby).toEqualTypeOf<Presence<LobbyData, inferPresenceInput<Api, 'lobby'>>>();
    expectTypeOf(lobby.members).toEqualTypeOf<ReadonlyMap<string, PresenceMember<LobbyData>>>();
    const member = lobby.members.get('k');
    expectTypeOf(member).toEqualTypeOf<PresenceMember<LobbyData> | undefined>();
    if (member !== undefined) {
      // The transform's output, and the default's field always present.
      expectTypeOf(member.data.age).toEqualTypeOf<number>();
      expectTypeOf(member.data.status).toEqualTypeOf<'online' | 'away'>();
    }
    expectTypeOf(lobby.count).toEqualTypeOf<number>();
    expectTypeOf(lobby.me).toEqualTypeOf<string | undefined>();
    lobby.subscribe((change) => {
      expectTypeOf(change).toEqualTypeOf<PresenceChange<LobbyData>>();
      if (change.type === 'join') expectTypeOf(change.member.data).toEqualTypeOf<LobbyData>();
      if (change.type === 'leave') {
        expectTypeOf(change.key).toEqualTypeOf<string>();
        expectTypeOf(change.member).toEqualTypeOf<PresenceMember<LobbyData> | undefined>();
      }
    });
  });

  it('joins with the input side: the defaulted field optional, the transformed one as sent', () => {
    const lobby = client.presence('lobby');
    lobby.join({ name: 'Ada', age: '36' });
    lobby.join({ name: 'Ada', age: '36', status: 'away' });
    // @ts-expect-error age is sent as a string (the transform makes it a number on receipt)
    lobby.join({ name: 'Ada', age: 36 });
    // @ts-expect-error name is a string
    lobby.join({ name: 1, age: '36' });
    // @ts-expect-error status is one of the enum's values
    lobby.join({ name: 'Ada', age: '36', status: 'busy' });
    // @ts-expect-error name is required
    lobby.join({ age: '36' });
  });

  it('takes params exactly when the event declares them', () => {
    const room = client.presence('room', { room: 'a' });
    expectTypeOf(room).toEqualTypeOf<Presence<{ name: string }, { name: string }>>();
    const _withOptions = client.presence('room', { room: 'a' }, { onError: () => undefined });
    const _lobbyOptions = client.presence('lobby', { onError: () => undefined });
    // @ts-expect-error room declares params
    client.presence('room');
    // @ts-expect-error the params' room is a string
    client.presence('room', { room: 1 });
    // @ts-expect-error lobby declares no params
    client.presence('lobby', { room: 'a' });
  });

  it('refuses events without presence and unknown names', () => {
    // @ts-expect-error tick declares no presence
    client.presence('tick');
    // @ts-expect-error scoped declares no presence (even with its params)
    client.presence('scoped', { id: 'a' });
    // @ts-expect-error not an event of the contract
    client.presence('lobyy');
  });

  it('gives event meta an id that is undefined for a push to one connection', () => {
    client.on('inbox', (payload, meta) => {
      expectTypeOf(payload).toEqualTypeOf<{ from: string }>();
      expectTypeOf(meta).toEqualTypeOf<EventMeta>();
      expectTypeOf(meta.id).toEqualTypeOf<string | undefined>();
    });
  });
});

describe('server.emit targets', () => {
  it('requires a target for a personal event: user or connection, one or many', () => {
    expectTypeOf(server.emit('inbox', { from: 'a' }, { user: 'u' })).toEqualTypeOf<Promise<string>>();
    void server.emit('inbox', { from: 'a' }, { user: ['a', 'b'] });
    void server.emit('inbox', { from: 'a' }, { connection: 'id' });
    void server.emit('inbox', { from: 'a' }, { connection: ['id1', 'id2'] });
    // @ts-expect-error a personal event needs options with a target
    void server.emit('inbox', { from: 'a' });
    // @ts-expect-error the options need user or connection
    void server.emit('inbox', { from: 'a' }, {});
    // @ts-expect-error user or connection, not both
    void server.emit('inbox', { from: 'a' }, { user: 'u', connection: 'id' });
    // @ts-expect-error a user id is a string
    void server.emit('inbox', { from: 'a' }, { user: 1 });
  });

  it('requires params and a target for a personal event with params', () => {
    void server.emit('threadInbox', 'hi', { params: { thread: 't' }, user: 'u' });
    void server.emit('threadInbox', 'hi', { params: { thread: 't' }, connection: 'id' });
    // @ts-expect-error the target is missing
    void server.emit('threadInbox', 'hi', { params: { thread: 't' } });
    // @ts-expect-error the params are missing
    void server.emit('threadInbox', 'hi', { user: 'u' });
    // @ts-expect-error user or connection, not both
    void server.emit('threadInbox', 'hi', { params: { thread: 't' }, user: 'u', connection: 'id' });
  });

  it('lets any other event go to every subscriber or to connections, never to a user', () => {
    void server.emit('tick', 1);
    void server.emit('tick', 1, {});
    void server.emit('tick', 1, { connection: 'id' });
    void server.emit('tick', 1, { connection: ['id1', 'id2'] });
    // @ts-expect-error only personal events go to a user
    void server.emit('tick', 1, { user: 'u' });
    void server.emit('scoped', 1, { params: { id: 'a' } });
    void server.emit('scoped', 1, { params: { id: 'a' }, connection: 'id' });
    // @ts-expect-error only personal events go to a user
    void server.emit('scoped', 1, { params: { id: 'a' }, user: 'u' });
    // @ts-expect-error scoped declares params
    void server.emit('scoped', 1, { connection: 'id' });
  });
});

describe('server.presenceOf', () => {
  it('reads members with the output side', () => {
    const lobby = server.presenceOf('lobby');
    expectTypeOf(lobby).toEqualTypeOf<Promise<PresenceSnapshot<LobbyData>>>();
    const _paged = server.presenceOf('lobby', { limit: 10, cursor: 'c' });
    const _members = async () => {
      const snapshot = await server.presenceOf('room', { params: { room: 'a' }, limit: 10 });
      expectTypeOf(snapshot.count).toEqualTypeOf<number>();
      expectTypeOf(snapshot.cursor).toEqualTypeOf<string | undefined>();
      expectTypeOf(snapshot.members).toEqualTypeOf<{ key: string; connections: number; data: { name: string } }[]>();
      const first = (await lobby).members[0];
      if (first !== undefined) expectTypeOf(first.data.age).toEqualTypeOf<number>();
    };
  });

  it('refuses events without presence, unknown names, and wrong params', () => {
    // @ts-expect-error tick declares no presence
    void server.presenceOf('tick');
    // @ts-expect-error inbox declares no presence
    void server.presenceOf('inbox');
    // @ts-expect-error not an event of the contract
    void server.presenceOf('lobyy');
    // @ts-expect-error room declares params
    void server.presenceOf('room');
    // @ts-expect-error room declares params
    void server.presenceOf('room', { limit: 10 });
    // @ts-expect-error lobby declares no params
    void server.presenceOf('lobby', { params: { room: 'a' } });
  });
});

describe('identify and canJoin', () => {
  it('read the context type', () => {
    const _build = () =>
      createServer(api, {
        context: (): { userId: string | undefined; team: string } => ({ userId: 'u1', team: 't' }),
        identify: (ctx) => {
          expectTypeOf(ctx).toEqualTypeOf<{ userId: string | undefined; team: string }>();
          return ctx.userId;
        },
        canJoin: ({ ctx, data, event }) => {
          expectTypeOf(ctx).toEqualTypeOf<{ userId: string | undefined; team: string }>();
          expectTypeOf(data).toBeUnknown();
          expectTypeOf(event).toEqualTypeOf<'lobby' | 'room' | 'tick' | 'scoped' | 'inbox' | 'threadInbox'>();
          return ctx.team === 't';
        },
        handlers: { ping: () => null },
      });
    expectTypeOf(_build).returns.toEqualTypeOf<WirecallServer<Api, { userId: string | undefined; team: string }>>();
  });

  it('read the default context (auth, connection params) without a context option', () => {
    const _build = () =>
      createServer(api, {
        authenticate: () => ({ userId: 'u1' }),
        identify: (ctx) => {
          expectTypeOf(ctx).toEqualTypeOf<DefaultContext<Api, { userId: string }>>();
          expectTypeOf(ctx.auth).toEqualTypeOf<{ userId: string }>();
          return ctx.auth.userId;
        },
        handlers: { ping: () => null },
      });
  });

  it('must return a string or undefined', () => {
    const _build = () =>
      createServer(api, {
        context: () => ({ userId: 1 }),
        // @ts-expect-error identify returns the user id as a string
        identify: (ctx) => ctx.userId,
        handlers: { ping: () => null },
      });
  });
});
