/* eslint-disable @typescript-eslint/no-unsafe-call -- a call of what does not exist, which must not compile */
/**
 * Type-level tests of typed middleware (guards) and the server-side caller: a guard narrows ctx for
 * what it guards only, and the caller is typed like the client. Nothing here runs.
 */
import { defineContract, WirecallError } from '@wirecall/core';
import { createServer, middleware, type Caller } from '@wirecall/server';
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';

interface User {
  id: string;
}
interface Ctx {
  user: User | undefined;
}

const teamApi = defineContract({
  procedures: { members: { input: z.object({ team: z.string() }), output: z.array(z.string()) } },
  messages: { wave: { payload: z.object({ to: z.string() }) } },
});
const api = defineContract({
  procedures: {
    me: { input: z.null(), output: z.string() },
    open: { input: z.null(), output: z.number() },
    count: { input: z.object({ to: z.number() }), stream: z.number() },
  },
  groups: { team: teamApi },
});

const authed = middleware<Ctx>()(({ ctx, next }) => {
  if (ctx.user === undefined) throw new WirecallError('UNAUTHORIZED', 'sign in first');
  return next({ ctx: { user: ctx.user } });
});
const context = (): Ctx => ({ user: undefined });

describe('guards', () => {
  it('turn ctx.user into a User for the handlers they guard, and only those', () => {
    const _server = () =>
      createServer(api, {
        context,
        handlers: {
          me: authed.handler(({ ctx }) => {
            expectTypeOf(ctx.user).toEqualTypeOf<User>();
            return ctx.user.id;
          }),
          open: ({ ctx }) => {
            expectTypeOf(ctx.user).toEqualTypeOf<User | undefined>();
            return 1;
          },
          count: authed.handler(async function* ({ input, ctx }) {
            expectTypeOf(ctx.user).toEqualTypeOf<User>();
            for (let i = 0; i < input.to; i++) yield i;
            await Promise.resolve();
          }),
          team: authed.handlers(teamApi, { members: ({ ctx }) => [ctx.user.id] }),
        },
        messages: { team: authed.messages(teamApi, { wave: ({ ctx }) => void ctx.user.id }) },
      });
  });

  it('keep the procedure’s types: a wrong result behind a guard is still an error', () => {
    const _server = () =>
      createServer(api, {
        context,
        handlers: {
          // @ts-expect-error -- me returns a string
          me: authed.handler(() => 42),
          open: () => 1,
          count: async function* () {},
          team: authed.handlers(teamApi, { members: () => [] }),
        },
        messages: { team: { wave: () => {} } },
      });
  });

  it('pipe into guards over the context they make', () => {
    const admin = middleware<{ user: User }>()(({ ctx, next }) => next({ ctx: { admin: ctx.user.id === 'root' } }));
    const both = authed.pipe(admin);
    const _handler = both.handlers(teamApi, {
      members: ({ ctx }) => {
        expectTypeOf(ctx.user).toEqualTypeOf<User>();
        expectTypeOf(ctx.admin).toEqualTypeOf<boolean>();
        return [];
      },
    });
    // @ts-expect-error -- admin needs a ctx with a User; the bare ctx has `User | undefined`
    middleware<Ctx>()(({ next }) => next()).pipe(admin);
  });
});

describe('the server-side caller', () => {
  const caller = {} as Caller<typeof api>;

  it('is typed like the client: input, output, streams and groups', () => {
    expectTypeOf(caller.me).parameter(0).toEqualTypeOf<null>();
    expectTypeOf(caller.me(null)).resolves.toBeString();
    expectTypeOf(caller.count({ to: 3 })).toEqualTypeOf<AsyncIterable<number>>();
    expectTypeOf(caller.team.members({ team: 'a' })).resolves.toEqualTypeOf<string[]>();
    // @ts-expect-error -- wrong input
    void caller.team.members({ team: 1 });
    // @ts-expect-error -- no such procedure
    void caller.team.leave(null);
  });

  it('takes the server’s ctx type', () => {
    const server = createServer(api, {
      context,
      handlers: {
        me: () => '',
        open: () => 1,
        count: async function* () {},
        team: { members: () => [] },
      },
      messages: { team: { wave: () => {} } },
    });
    expectTypeOf(server.createCaller).parameter(0).toEqualTypeOf<Ctx>();
  });
});
