import { defineContract, WirecallError } from '@wirecall/core';
import { type Middleware, type SubscribeCheckArgs } from '@wirecall/server';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { RawClient } from '../helpers/raw-client.js';
import { rejectionOf } from '../helpers/rejection.js';
import { connectClient, startTestServer } from '../helpers/test-server.js';

const appApi = defineContract({
  procedures: {
    profile: { input: z.object({}), output: z.object({ user: z.string() }) },
    deleteUser: { input: z.object({ id: z.string() }), output: z.boolean() },
    balance: { input: z.object({}), output: z.object({ amount: z.number(), audited: z.boolean().optional() }) },
  },
  events: {
    room: { payload: z.object({ text: z.string() }), params: z.object({ room: z.string() }) },
  },
  connectionParams: z.object({ user: z.string(), role: z.enum(['admin', 'member']) }),
});
type AppApi = typeof appApi;
type Ctx = { user: string; role: 'admin' | 'member' };

const member = { user: 'mia', role: 'member' } as const;
const admin = { user: 'ada', role: 'admin' } as const;

async function appServer(
  options: {
    middleware?: Middleware<Ctx>[];
    canSubscribe?: (args: SubscribeCheckArgs<AppApi, Ctx>) => boolean | Promise<boolean>;
    profile?: (ctx: Ctx) => { user: string };
  } = {},
) {
  const runs: string[] = [];
  const served = await startTestServer<AppApi, undefined, Ctx>(appApi, {
    context: ({ connectionParams }) => ({ user: connectionParams.user, role: connectionParams.role }),
    ...(options.middleware === undefined ? {} : { middleware: options.middleware }),
    ...(options.canSubscribe === undefined ? {} : { canSubscribe: options.canSubscribe }),
    handlers: {
      profile: ({ ctx }) => {
        runs.push(`profile:${ctx.user}`);
        return options.profile?.(ctx) ?? { user: ctx.user };
      },
      deleteUser: ({ ctx, input }) => {
        runs.push(`deleteUser:${ctx.user}:${input.id}`);
        return true;
      },
      balance: ({ ctx }) => {
        runs.push(`balance:${ctx.user}`);
        return { amount: 10 };
      },
    },
  });
  return Object.assign(served, { runs });
}

/** Raw socket greeted with connection params. */
async function rawAs(url: string, params: Ctx): Promise<RawClient> {
  const raw = await RawClient.connect(url);
  raw.send({ t: 'hello', fp: appApi.fingerprint, v: params });
  await raw.waitFor((frame) => frame.t === 'welcome');
  return raw;
}

describe('middleware (what a connection may call)', () => {
  it('refuses a procedure with FORBIDDEN based on ctx and meta.procedure, and allows the others', async () => {
    const seen: string[] = [];
    const adminOnly: Middleware<Ctx> = ({ ctx, meta }, next) => {
      seen.push(`${meta.procedure}:${ctx.user}`);
      if (meta.procedure === 'deleteUser' && ctx.role !== 'admin') {
        throw new WirecallError('FORBIDDEN', 'admins only');
      }
      return next();
    };
    await using ctx = await appServer({ middleware: [adminOnly] });
    await using mia = connectClient(appApi, ctx.url, { connectionParams: member });
    await using ada = connectClient(appApi, ctx.url, { connectionParams: admin });

    const refused = await rejectionOf(mia.call.deleteUser({ id: 'u1' }));
    expect({ code: refused.code, message: refused.message }).toEqual({ code: 'FORBIDDEN', message: 'admins only' });
    expect(await mia.call.profile({})).toEqual({ user: 'mia' });
    expect(await ada.call.deleteUser({ id: 'u2' })).toBe(true);

    // The refused call never reached its handler; the refusal did not cost the connection.
    expect(ctx.runs).toEqual(['profile:mia', 'deleteUser:ada:u2']);
    expect(seen).toEqual(['deleteUser:mia', 'profile:mia', 'deleteUser:ada']);
    expect(mia.state).toBe('open');
    expect(ctx.server.stats().errors).toEqual({ FORBIDDEN: 1 });
  });

  it('runs in order, sees the result of next() and may replace it', async () => {
    const order: string[] = [];
    const results: unknown[] = [];
    const outer: Middleware<Ctx> = async ({ meta }, next) => {
      order.push(`outer>${meta.procedure}`);
      const result = await next();
      order.push(`outer<${meta.procedure}`);
      return result;
    };
    const audit: Middleware<Ctx> = async ({ meta }, next) => {
      order.push(`audit>${meta.procedure}`);
      const result = await next();
      results.push(result);
      return meta.procedure === 'balance' ? { ...(result as object), audited: true } : result;
    };
    await using ctx = await appServer({ middleware: [outer, audit] });
    await using mia = connectClient(appApi, ctx.url, { connectionParams: member });

    expect(await mia.call.balance({})).toEqual({ amount: 10, audited: true });
    expect(await mia.call.profile({})).toEqual({ user: 'mia' });

    expect(results).toEqual([{ amount: 10 }, { user: 'mia' }]);
    expect(order).toEqual([
      'outer>balance',
      'audit>balance',
      'outer<balance',
      'outer>profile',
      'audit>profile',
      'outer<profile',
    ]);
  });

  it('UNAUTHORIZED from middleware reaches the caller; a plain Error becomes INTERNAL without its message', async () => {
    const gate: Middleware<Ctx> = ({ meta }, next) => {
      if (meta.procedure === 'balance') throw new WirecallError('UNAUTHORIZED', 'sign in again');
      if (meta.procedure === 'deleteUser') throw new Error('acl table password is hunter2');
      return next();
    };
    await using ctx = await appServer({ middleware: [gate] });
    await using mia = connectClient(appApi, ctx.url, { connectionParams: member });

    expect((await rejectionOf(mia.call.balance({}))).code).toBe('UNAUTHORIZED');
    const internal = await rejectionOf(mia.call.deleteUser({ id: 'u1' }));
    expect(internal.code).toBe('INTERNAL');
    expect(internal.message).not.toContain('hunter2');
    expect(ctx.runs).toEqual([]);
    expect(ctx.logs.some((entry) => String((entry.details as { err?: unknown }).err).includes('hunter2'))).toBe(true);
    expect(await mia.call.profile({})).toEqual({ user: 'mia' });
  });

  it('fields a handler returns beyond the output schema never leave the server', async () => {
    await using ctx = await appServer({
      profile: (user) => ({ user: user.user, passwordHash: '$2b$10$secret' }) as { user: string },
    });
    await using raw = await rawAs(ctx.url, member);

    const answer = await raw.request({ t: 'call', id: 1, p: 'profile', v: {} });

    expect(answer).toEqual({ t: 'result', id: 1, v: { user: 'mia' } });
    expect(raw.texts.join('\n')).not.toContain('secret');
  });
});

describe('canSubscribe (what a connection may listen to)', () => {
  const decisions: { event: string; params: unknown; user: string; connection: string }[] = [];
  const rule = ({ event, params, ctx, connection }: SubscribeCheckArgs<AppApi, Ctx>): boolean => {
    decisions.push({ event, params, user: ctx.user, connection: connection.id });
    return ctx.role === 'admin' || (params as { room: string }).room !== 'secret';
  };

  it.each<[string, (args: SubscribeCheckArgs<AppApi, Ctx>) => boolean | Promise<boolean>]>([
    ['sync', rule],
    [
      'async',
      async (args) => {
        await new Promise((resolve) => setImmediate(resolve));
        return rule(args);
      },
    ],
  ])('a %s check refuses room "secret" with FORBIDDEN and no secret event ever arrives', async (_label, check) => {
    decisions.length = 0;
    await using ctx = await appServer({ canSubscribe: check });
    await using mia = connectClient(appApi, ctx.url, { connectionParams: member });
    await using ada = connectClient(appApi, ctx.url, { connectionParams: admin });
    const got: string[] = [];
    const errors: string[] = [];
    mia.on('room', { room: 'secret' }, ({ text }) => got.push(`mia secret ${text}`), {
      onError: (error) => errors.push(`${error.code}: ${error.message}`),
    });
    mia.on('room', { room: 'a' }, ({ text }) => got.push(`mia a ${text}`));
    ada.on('room', { room: 'secret' }, ({ text }) => got.push(`ada secret ${text}`));

    await vi.waitFor(() => expect(errors).toEqual(['FORBIDDEN: Not allowed to subscribe to room']));
    await vi.waitFor(() => expect(ctx.server.stats().subscriptions).toBe(2));
    for (let i = 1; i <= 3; i++) {
      await ctx.server.emit('room', { text: `s${i}` }, { params: { room: 'secret' } });
      await ctx.server.emit('room', { text: `a${i}` }, { params: { room: 'a' } });
    }

    // Events of one server reach each socket in emit order: once a3 arrived, any secret one would have.
    await vi.waitFor(() => expect(got).toContain('mia a a3'));
    await vi.waitFor(() => expect(got).toContain('ada secret s3'));
    expect(got.filter((entry) => entry.startsWith('mia'))).toEqual(['mia a a1', 'mia a a2', 'mia a a3']);
    expect(got.filter((entry) => entry.startsWith('ada'))).toEqual(['ada secret s1', 'ada secret s2', 'ada secret s3']);
    expect(decisions).toEqual(
      expect.arrayContaining([
        { event: 'room', params: { room: 'secret' }, user: 'mia', connection: expect.any(String) as string },
        { event: 'room', params: { room: 'a' }, user: 'mia', connection: expect.any(String) as string },
        { event: 'room', params: { room: 'secret' }, user: 'ada', connection: expect.any(String) as string },
      ]),
    );
    expect(decisions).toHaveLength(3);
    expect(mia.state).toBe('open');
  });

  it('a raw subscription to a forbidden stream gets an error frame and no events', async () => {
    await using ctx = await appServer({ canSubscribe: rule });
    await using raw = await rawAs(ctx.url, member);

    raw.send({ t: 'sub', id: 1, e: 'room', v: { room: 'secret' } });
    expect(await raw.waitFor((frame) => frame.id === 1)).toEqual({
      t: 'error',
      id: 1,
      e: { code: 'FORBIDDEN', message: 'Not allowed to subscribe to room' },
    });
    await ctx.server.emit('room', { text: 'leak?' }, { params: { room: 'secret' } });
    await raw.barrier();
    expect(raw.frames.filter((frame) => frame.t === 'event')).toEqual([]);
    expect(ctx.server.stats().subscriptions).toBe(0);
  });

  it('a check that throws refuses the subscription: INTERNAL without the details (logged), a WirecallError as is', async () => {
    await using ctx = await appServer({
      canSubscribe: ({ params }) => {
        if ((params as { room: string }).room === 'vip') throw new WirecallError('UNAUTHORIZED', 'sign in again');
        throw new Error('permission service password is hunter2');
      },
    });
    await using mia = connectClient(appApi, ctx.url, { connectionParams: member });
    const errors: WirecallError[] = [];
    const got: string[] = [];
    mia.on('room', { room: 'a' }, ({ text }) => got.push(text), { onError: (error) => errors.push(error) });
    mia.on('room', { room: 'vip' }, ({ text }) => got.push(text), { onError: (error) => errors.push(error) });

    await vi.waitFor(() => expect(errors).toHaveLength(2));
    const byCode = Object.fromEntries(errors.map((error) => [error.code, error.message]));
    expect(Object.keys(byCode).sort()).toEqual(['INTERNAL', 'UNAUTHORIZED']);
    expect(byCode.UNAUTHORIZED).toBe('sign in again');
    expect(byCode.INTERNAL).not.toContain('hunter2');
    expect(ctx.logs.some((entry) => String((entry.details as { err?: unknown }).err).includes('hunter2'))).toBe(true);
    expect(ctx.server.stats().subscriptions).toBe(0);
    await ctx.server.emit('room', { text: 'leak?' }, { params: { room: 'a' } });
    expect(await mia.call.profile({})).toEqual({ user: 'mia' }); // a round trip after the emit
    expect(got).toEqual([]);
  });

  it('a subscription withdrawn or whose socket closed while an async check runs is never registered', async () => {
    const releases: (() => void)[] = [];
    await using ctx = await appServer({
      canSubscribe: () => new Promise<boolean>((resolve) => releases.push(() => resolve(true))),
    });
    await using withdrawn = await rawAs(ctx.url, member);
    const leaving = await rawAs(ctx.url, member);

    withdrawn.send({ t: 'sub', id: 1, e: 'room', v: { room: 'a' } });
    withdrawn.send({ t: 'unsub', id: 1 });
    leaving.send({ t: 'sub', id: 1, e: 'room', v: { room: 'a' } });
    await vi.waitFor(() => expect(releases).toHaveLength(2));
    await leaving[Symbol.asyncDispose]();
    await vi.waitFor(() => expect(ctx.server.stats().connections).toBe(1));
    for (const release of releases) release();

    await withdrawn.barrier();
    expect(ctx.server.stats().subscriptions).toBe(0);
    await ctx.server.emit('room', { text: 'after' }, { params: { room: 'a' } });
    await withdrawn.barrier();
    expect(withdrawn.frames.filter((frame) => frame.t === 'event' || frame.t === 'subscribed')).toEqual([]);
  });
});
