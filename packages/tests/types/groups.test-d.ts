/* eslint-disable @typescript-eslint/no-unsafe-call -- calls of what does not exist, which must not compile */
/**
 * Type-level tests of nested contracts: a group's handlers are checked like the root's (a missing
 * or misspelled one is a compile error), a group's calls and messages are typed under its name,
 * and its events under `<group>.<event>`. Nothing here runs.
 */
import { createClient, type WirecallClient } from '@wirecall/client';
import { messages as clientMessages } from '@wirecall/client/messages';
import { defineContract } from '@wirecall/core';
import { createServer, type Handlers } from '@wirecall/server';
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';

const usersApi = defineContract({
  procedures: {
    get: { input: z.object({ id: z.string() }), output: z.object({ name: z.string(), since: z.date() }) },
  },
  events: { changed: { payload: z.object({ id: z.string() }), params: z.object({ id: z.string() }) } },
  messages: { viewing: { payload: z.object({ id: z.string() }) } },
});
const auditApi = defineContract({ procedures: { count: { input: z.null(), output: z.number() } } });
const adminApi = defineContract({ groups: { audit: auditApi } });
const api = defineContract({
  procedures: { ping: { input: z.null(), output: z.string() } },
  groups: { users: usersApi, admin: adminApi },
});

const usersHandlers: Handlers<typeof usersApi, { user: string }> = {
  get: ({ input, ctx }) => ({ name: `${input.id} seen by ${ctx.user}`, since: new Date() }),
};
const handlers = {
  ping: () => 'pong',
  users: usersHandlers,
  admin: { audit: { count: () => 1 } },
};
const messages = { users: { viewing: () => {} } };
const context = () => ({ user: 'ada' });

describe('groups on the server', () => {
  it('takes each group’s handlers as an object of its own, typed by the group’s contract', () => {
    const _build = () => createServer(api, { context, handlers, messages });
  });

  it('refuses a missing group, a missing handler inside a group, and a misspelled one', () => {
    const _noGroup = () =>
      // @ts-expect-error -- the users group has no handlers
      createServer(api, { context, handlers: { ping: () => 'pong', admin: handlers.admin }, messages });
    const _noHandler = () =>
      // @ts-expect-error -- admin.audit.count is missing
      createServer(api, { context, handlers: { ...handlers, admin: { audit: {} } }, messages });
    const _misspelled = () =>
      createServer(api, {
        context,
        // @ts-expect-error -- users has `get`, not `gett`
        handlers: { ...handlers, users: { gett: () => ({ name: 'x', since: new Date() }) } },
        messages,
      });
  });

  it('checks what a group’s handler returns', () => {
    // @ts-expect-error -- `since` must be a Date
    const _wrong: Handlers<typeof usersApi, unknown> = { get: () => ({ name: 'x', since: 'today' }) };
  });

  it('requires the handlers of a group’s messages', () => {
    // @ts-expect-error -- users.viewing has no handler
    const _noMessages = () => createServer(api, { context, handlers });
  });

  it('types emit of a group’s event under <group>.<event>', () => {
    const server = createServer(api, { context, handlers, messages });
    expectTypeOf(server.emit<'users.changed'>)
      .parameter(1)
      .toEqualTypeOf<{ id: string }>();
    // @ts-expect-error -- no such event: groups' events carry the group's name
    const _bare = () => server.emit('changed', { id: 'x' }, { params: { id: 'x' } });
  });
});

describe('groups on the client', () => {
  const client = {} as WirecallClient<typeof api>;

  it('calls a group’s procedures under its name, typed', () => {
    expectTypeOf(client.call.users.get).parameter(0).toEqualTypeOf<{ id: string }>();
    expectTypeOf(client.call.users.get).returns.resolves.toEqualTypeOf<{ name: string; since: Date }>();
    expectTypeOf(client.call.admin.audit.count).returns.resolves.toBeNumber();
    // @ts-expect-error -- wrong input type
    void client.call.users.get({ id: 1 });
    // @ts-expect-error -- not a procedure of the group
    void client.call.users.list(null);
    // @ts-expect-error -- a group's procedure is not on the root
    void client.call.get({ id: 'x' });
  });

  it('sends a group’s messages under its name', () => {
    expectTypeOf(client.send.users.viewing).parameter(0).toEqualTypeOf<{ id: string }>();
    // @ts-expect-error -- no such message
    client.send.users.typing({ id: 'x' });
  });

  it('subscribes to a group’s events as <group>.<event>, with their params', () => {
    client.on('users.changed', { id: 'u1' }, (payload) => expectTypeOf(payload).toEqualTypeOf<{ id: string }>());
    // @ts-expect-error -- misspelled event
    client.on('users.change', { id: 'u1' }, () => {});
    // @ts-expect-error -- params are required
    client.on('users.changed', () => {});
  });

  it('builds from a contract with groups like from any other', () => {
    expectTypeOf(createClient(api, { url: 'ws://x', messages: clientMessages })).toEqualTypeOf<
      WirecallClient<typeof api>
    >();
  });
});
