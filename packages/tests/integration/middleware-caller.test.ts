import { createClient } from '@wirecall/client';
import { messages } from '@wirecall/client/messages';
import { streams } from '@wirecall/client/streams';
import { defineContract, WirecallError } from '@wirecall/core';
import { middleware, type ContextArgs } from '@wirecall/server';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { quietClientLogger, startTestServer } from '../helpers/test-server.js';

/**
 * Typed middleware (guards) on one procedure, a group, messages and subscriptions, in a documented
 * order; and the server-side caller, which runs the same validation, middleware and errors in process.
 */
interface User {
  id: string;
  admin: boolean;
}
interface Ctx {
  user: User | undefined;
  trail: string[];
}

const adminApi = defineContract({
  procedures: {
    stats: { input: z.null(), output: z.object({ by: z.string() }) },
    feed: { input: z.object({ n: z.number().int().max(5) }), stream: z.number() },
  },
  messages: { nudge: { payload: z.object({ who: z.string() }) } },
});

const api = defineContract({
  procedures: {
    open: { input: z.null(), output: z.string() },
    me: { input: z.null(), output: z.object({ id: z.string(), at: z.date() }) },
    broken: { input: z.null(), output: z.number() },
  },
  events: { secret: { payload: z.string(), params: z.object({ room: z.string() }) } },
  connectionParams: z.object({ user: z.string().optional() }),
  groups: { admin: adminApi },
});

/** Who was let in, in order: each guard writes its name. */
const log: string[] = [];

const authed = middleware<Ctx>()(({ ctx, kind, name, next }) => {
  log.push(`authed ${kind} ${name}`);
  if (ctx.user === undefined) throw new WirecallError('UNAUTHORIZED', 'sign in first');
  return next({ ctx: { user: ctx.user } });
});
const adminOnly = middleware<Ctx & { user: User }>()(({ ctx, name, next }) => {
  log.push(`adminOnly ${name}`);
  if (!ctx.user.admin) throw new WirecallError('FORBIDDEN', 'admins only');
  return next({ ctx: { adminSince: 2020 } });
});
const timed = middleware<Ctx>()(async ({ name, next }) => {
  log.push(`timed ${name}`);
  const passed = await next();
  log.push(`timed ${name} done`);
  return passed;
});
const admins = authed.pipe(adminOnly);

const seen: string[] = [];

/** The documented order for admin.stats: the server's middleware, the group's guards, the procedure's. */
const ADMIN_STATS_ORDER = [
  'global',
  'authed call admin.stats',
  'adminOnly admin.stats',
  'timed admin.stats',
  'timed admin.stats done',
];

function startServer() {
  return startTestServer(api, {
    // Typed argument: with a group that has both procedures and messages, TypeScript does not infer
    // ctx from a `context` whose argument is only contextually typed (docs/contracts.md).
    context: ({ connectionParams }: ContextArgs<typeof api>): Ctx => ({
      user:
        connectionParams.user === undefined
          ? undefined
          : { id: connectionParams.user, admin: connectionParams.user === 'root' },
      trail: [],
    }),
    middleware: [
      async (_args, next) => {
        log.push('global');
        return next();
      },
    ],
    handlers: {
      open: () => 'open',
      // One procedure: ctx.user is a User here (no `?.`): the guard proved it.
      me: authed.handler(({ ctx }) => ({ id: ctx.user.id, at: new Date(0) })),
      broken: () => 'not a number' as unknown as number,
      // A group, and a guard inside it: the group's runs first.
      admin: admins.handlers(adminApi, {
        stats: timed.handler(({ ctx }) => ({ by: `${ctx.user.id} since ${ctx.adminSince}` })),
        feed: async function* ({ input, ctx }) {
          for (let i = 1; i <= input.n; i++) yield i * (ctx.user.admin ? 1 : -1);
          await Promise.resolve();
        },
      }),
    },
    messages: {
      admin: admins.messages(adminApi, {
        nudge: ({ payload, ctx }) => void seen.push(`${ctx.user.id} nudged ${payload.who}`),
      }),
    },
    canSubscribe: authed.canSubscribe(({ ctx, params }) => (params as { room: string }).room === ctx.user.id),
  });
}

const errorOf = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

describe('typed middleware', () => {
  it('guards one procedure, extends ctx, and refuses with the guard’s error', async () => {
    await using ctx = await startServer();
    const anonymous = createClient(api, {
      url: ctx.url,
      connectionParams: {},
      streams,
      messages,
      logger: quietClientLogger,
    });
    const ada = createClient(api, { url: ctx.url, connectionParams: { user: 'ada' }, streams, messages });
    try {
      expect(await anonymous.call.open(null)).toBe('open');
      expect(await errorOf(anonymous.call.me(null))).toMatchObject({ code: 'UNAUTHORIZED', message: 'sign in first' });
      expect(await ada.call.me(null)).toEqual({ id: 'ada', at: new Date(0) });
    } finally {
      await Promise.all([anonymous.close(), ada.close()]);
    }
  });

  it('runs the server’s middleware, then the group’s guards, then the procedure’s, for calls and streams', async () => {
    await using ctx = await startServer();
    const root = createClient(api, { url: ctx.url, connectionParams: { user: 'root' }, streams, messages });
    const ada = createClient(api, {
      url: ctx.url,
      connectionParams: { user: 'ada' },
      streams,
      messages,
      logger: quietClientLogger,
    });
    try {
      log.length = 0;
      expect(await root.call.admin.stats(null)).toEqual({ by: 'root since 2020' });
      expect(log).toEqual(ADMIN_STATS_ORDER);
      const items: number[] = [];
      for await (const item of root.call.admin.feed({ n: 3 })) items.push(item);
      expect(items).toEqual([1, 2, 3]);
      expect(await errorOf(ada.call.admin.stats(null))).toMatchObject({ code: 'FORBIDDEN' });
      const refused = await errorOf(
        (async () => {
          for await (const _ of ada.call.admin.feed({ n: 1 })) void _;
        })(),
      );
      expect(refused).toMatchObject({ code: 'FORBIDDEN' });
    } finally {
      await Promise.all([root.close(), ada.close()]);
    }
  });

  it('guards messages: a refused one reaches the client’s onMessageError, an allowed one its handler with the extended ctx', async () => {
    await using ctx = await startServer();
    const refusals: unknown[] = [];
    const ada = createClient(api, {
      url: ctx.url,
      connectionParams: { user: 'ada' },
      streams,
      messages,
      onMessageError: (error) => refusals.push(error.code),
    });
    const root = createClient(api, { url: ctx.url, connectionParams: { user: 'root' }, streams, messages });
    try {
      await Promise.all([ada.call.open(null), root.call.open(null)]);
      seen.length = 0;
      ada.send.admin.nudge({ who: 'bob' });
      root.send.admin.nudge({ who: 'bob' });
      await vi.waitFor(() => expect(refusals).toEqual(['FORBIDDEN']));
      await vi.waitFor(() => expect(seen).toEqual(['root nudged bob']));
    } finally {
      await Promise.all([ada.close(), root.close()]);
    }
  });

  it('guards canSubscribe: an anonymous subscriber is refused with the guard’s error', async () => {
    await using ctx = await startServer();
    const anonymous = createClient(api, {
      url: ctx.url,
      connectionParams: {},
      streams,
      messages,
      logger: quietClientLogger,
    });
    const ada = createClient(api, { url: ctx.url, connectionParams: { user: 'ada' }, streams, messages });
    try {
      const errors: string[] = [];
      anonymous.on('secret', { room: 'ada' }, () => {}, { onError: (error) => errors.push(error.code) });
      const got: string[] = [];
      ada.on('secret', { room: 'ada' }, (payload) => got.push(payload));
      await vi.waitFor(() => expect(errors).toEqual(['UNAUTHORIZED']));
      await ada.call.open(null);
      await ctx.server.emit('secret', 'for ada', { params: { room: 'ada' } });
      await vi.waitFor(() => expect(got).toEqual(['for ada']));
    } finally {
      await Promise.all([anonymous.close(), ada.close()]);
    }
  });

  it('answers INTERNAL when a guard returns without next()’s result', async () => {
    // `Passed` has no public constructor, but its shape can be forged: the server checks the object.
    const sloppy = middleware<unknown>()(() => ({ result: 'forged' }));
    const oneApi = defineContract({ procedures: { p: { input: z.null(), output: z.string() } } });
    await using ctx = await startTestServer(oneApi, { handlers: sloppy.handlers(oneApi, { p: () => 'real' }) });
    const client = createClient(ctx.server.contract, { url: ctx.url, logger: quietClientLogger });
    try {
      expect(await errorOf(client.call.p(null))).toMatchObject({ code: 'INTERNAL' });
    } finally {
      await client.close();
    }
  });
});

describe('the server-side caller', () => {
  it('calls procedures and groups in process, with middleware, parsed output and typed errors', async () => {
    await using ctx = await startServer();
    const root = ctx.server.createCaller({ user: { id: 'root', admin: true }, trail: [] });
    const nobody = ctx.server.createCaller({ user: undefined, trail: [] });
    log.length = 0;
    expect(await root.admin.stats(null)).toEqual({ by: 'root since 2020' });
    expect(log).toEqual(ADMIN_STATS_ORDER);
    expect(await root.me(null)).toEqual({ id: 'root', at: new Date(0) });
    expect(await errorOf(nobody.me(null))).toMatchObject({ code: 'UNAUTHORIZED' });
    expect(await errorOf(nobody.admin.stats(null))).toBeInstanceOf(WirecallError);
  });

  it('checks the input as a client would and the output as the server does', async () => {
    await using ctx = await startServer();
    const root = ctx.server.createCaller({ user: { id: 'root', admin: true }, trail: [] });
    const invalid = await errorOf(root.admin.feed({ n: 99 })[Symbol.asyncIterator]().next());
    expect(invalid).toMatchObject({
      code: 'BAD_REQUEST',
      data: { issues: [expect.objectContaining({ path: ['n'] })] },
    });
    expect(await errorOf(root.broken(null))).toMatchObject({ code: 'INTERNAL' });
    expect(ctx.logs.some((entry) => entry.message === 'in-process call failed')).toBe(true);
  });

  it('streams a procedure’s items, and stops the handler when the caller stops', async () => {
    await using ctx = await startServer();
    const root = ctx.server.createCaller({ user: { id: 'root', admin: true }, trail: [] });
    const items: number[] = [];
    for await (const item of root.admin.feed({ n: 4 })) {
      items.push(item);
      if (item === 2) break;
    }
    expect(items).toEqual([1, 2]);
  });

  it('cancels with the caller’s signal: the handler’s signal fires and the call rejects with CANCELLED', async () => {
    let handlerSignal: AbortSignal | undefined;
    const slowApi = defineContract({ procedures: { wait: { input: z.null(), output: z.null() } } });
    await using ctx = await startTestServer(slowApi, {
      handlers: {
        wait: ({ signal }) => {
          handlerSignal = signal;
          return new Promise<null>(() => {});
        },
      },
    });
    const controller = new AbortController();
    const pending = errorOf(
      ctx.server
        .createCaller({ auth: undefined, connectionParams: undefined })
        .wait(null, { signal: controller.signal }),
    );
    await vi.waitFor(() => expect(handlerSignal).toBeDefined());
    controller.abort();
    expect(await pending).toMatchObject({ code: 'CANCELLED' });
    expect(handlerSignal!.aborted).toBe(true);
  });
});
