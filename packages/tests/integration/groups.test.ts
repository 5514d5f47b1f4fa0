import { createClient, isCallError } from '@wirecall/client';
import { messages } from '@wirecall/client/messages';
import { streams } from '@wirecall/client/streams';
import { defineContract, WirecallError } from '@wirecall/core';
import type { Handlers, MessageHandlers } from '@wirecall/server';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { recordingWebSocket, type WireEntry } from '../helpers/raw-client.js';
import { quietClientLogger, startTestServer } from '../helpers/test-server.js';

/**
 * Nested contracts: each team's part is a contract of its own, grouped under a name. Called as
 * `client.call.users.get(...)`, implemented per group, and on the wire as `users.get`.
 */
const usersApi = defineContract({
  procedures: {
    get: { input: z.object({ id: z.string() }), output: z.object({ id: z.string(), name: z.string() }) },
    rename: {
      input: z.object({ id: z.string(), name: z.string().min(1) }),
      output: z.null(),
      errors: { NO_SUCH_USER: z.object({ id: z.string() }) },
    },
  },
  events: {
    changed: { payload: z.object({ id: z.string(), name: z.string() }), params: z.object({ id: z.string() }) },
  },
  messages: { viewing: { payload: z.object({ id: z.string() }) } },
});

const auditApi = defineContract({
  procedures: { tail: { input: z.object({ n: z.number().int() }), stream: z.string() } },
});

/** A group of groups: `admin.audit.tail`. */
const adminApi = defineContract({
  procedures: { stats: { input: z.null(), output: z.object({ users: z.number() }) } },
  groups: { audit: auditApi },
});

const api = defineContract({
  procedures: { ping: { input: z.null(), output: z.literal('pong') } },
  events: { tick: { payload: z.number() } },
  groups: { users: usersApi, admin: adminApi },
});

type Ctx = { user: string };
const people = new Map([['u1', 'Ada']]);

/** The users team's file: typed by its own contract alone. */
const usersHandlers: Handlers<typeof usersApi, Ctx> = {
  get: ({ input }) => ({ id: input.id, name: people.get(input.id) ?? '?' }),
  rename: ({ input }) => {
    // `as never`: this project registers another contract for `new WirecallError`'s codes (register.test-d.ts).
    if (!people.has(input.id))
      throw new WirecallError('NO_SUCH_USER' as never, 'no such user', { data: { id: input.id } } as never);
    people.set(input.id, input.name);
    return null;
  },
};

function startServer(seen: { message: string; payload: unknown; ctx: unknown }[] = []) {
  const usersMessages: MessageHandlers<typeof usersApi, Ctx> = {
    viewing: ({ payload, ctx, meta }) => void seen.push({ message: meta.message, payload, ctx }),
  };
  return startTestServer(api, {
    context: (): Ctx => ({ user: 'ada' }),
    handlers: {
      ping: () => 'pong' as const,
      users: usersHandlers,
      admin: {
        stats: () => ({ users: people.size }),
        audit: {
          tail: async function* ({ input }) {
            for (let i = 1; i <= input.n; i++) yield `entry ${i}`;
            await Promise.resolve();
          },
        },
      },
    },
    messages: { users: usersMessages },
  });
}

describe('nested contracts (groups)', () => {
  it('calls a group’s procedures as client.call.<group>.<name>, sent on the wire as <group>.<name>', async () => {
    await using ctx = await startServer();
    const wire: WireEntry[] = [];
    const client = createClient(api, { url: ctx.url, WebSocket: recordingWebSocket(wire), streams, messages });
    try {
      expect(await client.call.ping(null)).toBe('pong');
      expect(await client.call.users.get({ id: 'u1' })).toEqual({ id: 'u1', name: 'Ada' });
      expect(await client.call.admin.stats(null)).toEqual({ users: 1 });
      const items: string[] = [];
      for await (const item of client.call.admin.audit.tail({ n: 3 })) items.push(item);
      expect(items).toEqual(['entry 1', 'entry 2', 'entry 3']);
      const called = wire.filter((entry) => entry.dir === 'out' && entry.frame.t === 'call').map((e) => e.frame.p);
      expect(called).toEqual(['ping', 'users.get', 'admin.stats', 'admin.audit.tail']);
    } finally {
      await client.close();
    }
  });

  it('validates a group’s input and carries its declared errors, typed', async () => {
    await using ctx = await startServer();
    const client = createClient(api, { url: ctx.url, streams, messages, logger: quietClientLogger });
    try {
      const invalid = await client.call.users.rename({ id: 'u1', name: '' }).catch((error: unknown) => error);
      expect(invalid).toMatchObject({ code: 'BAD_REQUEST' });
      const missing = await client.call.users.rename({ id: 'nobody', name: 'X' }).catch((error: unknown) => error);
      // A group's errors are narrowed with the group's own contract.
      expect(isCallError(usersApi, 'rename', missing)).toBe(true);
      expect(missing).toMatchObject({ code: 'NO_SUCH_USER', data: { id: 'nobody' } });
    } finally {
      await client.close();
    }
  });

  it('delivers a group’s events under <group>.<event>, with their params', async () => {
    await using ctx = await startServer();
    const client = createClient(api, { url: ctx.url, streams, messages });
    try {
      const got: unknown[] = [];
      const unsubscribe = client.on('users.changed', { id: 'u1' }, (payload) => got.push(payload));
      await client.call.ping(null); // the subscription is in place once a later call is answered
      await ctx.server.emit('users.changed', { id: 'u2', name: 'Bob' }, { params: { id: 'u2' } });
      await ctx.server.emit('users.changed', { id: 'u1', name: 'Ada L.' }, { params: { id: 'u1' } });
      await vi.waitFor(() => expect(got).toEqual([{ id: 'u1', name: 'Ada L.' }]));
      unsubscribe();
    } finally {
      await client.close();
    }
  });

  it('sends a group’s messages as client.send.<group>.<name> to the group’s handler', async () => {
    const seen: { message: string; payload: unknown; ctx: unknown }[] = [];
    await using ctx = await startServer(seen);
    const client = createClient(api, { url: ctx.url, streams, messages });
    try {
      await client.call.ping(null);
      client.send.users.viewing({ id: 'u1' });
      await vi.waitFor(() =>
        expect(seen).toEqual([{ message: 'users.viewing', payload: { id: 'u1' }, ctx: { user: 'ada' } }]),
      );
    } finally {
      await client.close();
    }
  });

  it('refuses at startup a server that misses a group’s handler, naming it by its wire name', () => {
    const { users: _users, ...withoutUsers } = {
      ping: () => 'pong' as const,
      users: usersHandlers,
      admin: { stats: () => ({ users: 0 }), audit: { tail: async function* () {} } },
    };
    // The compiler refuses this too (see groups.test-d.ts); a JavaScript caller gets the runtime check.
    const started = startTestServer(api, {
      handlers: withoutUsers as never,
      messages: { users: { viewing: () => {} } },
    });
    return expect(started).rejects.toThrow('wirecall: no handler for procedure users.get');
  });

  it('refuses contracts whose groups would clash', () => {
    const procedure = { input: z.null(), output: z.null() };
    expect(() => defineContract({ procedures: { users: procedure }, groups: { users: usersApi } })).toThrow(
      'wirecall: group users has the name of a procedure or message of the same contract',
    );
    expect(() =>
      defineContract({ events: { 'users.changed': { payload: z.null() } }, groups: { users: usersApi } }),
    ).toThrow('wirecall: event users.changed is declared twice');
    expect(() => defineContract({ procedures: { 'users.get': procedure }, groups: { users: usersApi } })).toThrow(
      'wirecall: procedure users.get is declared twice',
    );
    expect(() =>
      defineContract({ groups: { users: defineContract({ connectionParams: z.object({ token: z.string() }) }) } }),
    ).toThrow('wirecall: group users declares connectionParams; only the root contract may');
    expect(() => defineContract({ groups: { 'bad name': usersApi } })).toThrow('wirecall: group name "bad name"');
    expect(() => defineContract({ groups: { users: { procedures: 1 } as never } })).toThrow(
      'wirecall: group users is not a contract',
    );
  });

  it('tells contracts apart by their groups (the fingerprint covers them)', () => {
    const other = defineContract({
      procedures: { ping: { input: z.null(), output: z.literal('pong') } },
      events: { tick: { payload: z.number() } },
      groups: { users: usersApi, admin: defineContract({ procedures: adminApi.procedures }) },
    });
    expect(other.fingerprint).not.toBe(api.fingerprint);
  });
});
