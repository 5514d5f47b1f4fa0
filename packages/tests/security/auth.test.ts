import { CLOSE_CODES, defineContract, WirecallError, type ErrorCode } from '@wirecall/core';
import { closeCodeBehavior } from '@wirecall/core/internal';
import { type ConnectionInfo, type ServerHooks } from '@wirecall/server';
import WebSocket from 'ws';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { RawClient, UpgradeRefused } from '../helpers/raw-client.js';
import { fastReconnect, tryUpgrade } from './helpers.js';
import { rejectionOf } from '../helpers/rejection.js';
import { connectClient, startTestServer } from '../helpers/test-server.js';
import { recordStates } from '../helpers/chaos-kit.js';

/** No connection params: who connects is decided by `authenticate` on the HTTP upgrade. */
const sessionApi = defineContract({
  procedures: {
    whoami: { input: z.object({}), output: z.unknown() },
  },
});

/** Browser-style auth: a token in the `hello` frame, checked against the contract's schema. */
const tokenApi = defineContract({
  procedures: {
    whoami: { input: z.object({}), output: z.unknown() },
    expire: { input: z.object({}), output: z.string() },
  },
  connectionParams: z.object({ token: z.string().min(2) }),
});

/** The `user` query parameter of an upgrade request (what a session cookie would be in a browser). */
function userOf(url: string | undefined): string | null {
  return new URL(url ?? '/', 'http://upgrade.invalid').searchParams.get('user');
}

/** Hooks that count upgrades that became connections, to prove refused clients do not storm. */
function connectionCounter(): { hooks: ServerHooks; opened: ConnectionInfo[]; closes: number[] } {
  const opened: ConnectionInfo[] = [];
  const closes: number[] = [];
  return {
    opened,
    closes,
    hooks: {
      onConnection: (connection) => opened.push(connection),
      onDisconnect: (_connection, { code }) => closes.push(code),
    },
  };
}

describe('authenticate: refusals at the HTTP upgrade', () => {
  it.each<[ErrorCode, number]>([
    ['UNAUTHORIZED', 401],
    ['FORBIDDEN', 403],
  ])('throwing %s answers HTTP %i and opens no WebSocket', async (code, status) => {
    const counter = connectionCounter();
    await using ctx = await startTestServer(sessionApi, {
      handlers: { whoami: ({ ctx }) => ctx },
      hooks: counter.hooks,
      authenticate: ({ request }) => {
        const user = userOf(request.url);
        if (user === null) throw new WirecallError(code, 'no session cookie');
        return { user };
      },
    });

    // A plain ws socket sees the HTTP status through 'unexpected-response' and never opens.
    await using refused = await tryUpgrade(ctx.url);
    expect({ status: refused.status, body: refused.body, opened: refused.opened }).toEqual({
      status,
      body: 'no session cookie\n',
      opened: false,
    });
    expect(refused.headers.upgrade).toBeUndefined();

    const error = await RawClient.connect(ctx.url).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(UpgradeRefused);
    expect((error as UpgradeRefused).status).toBe(status);

    expect(counter.opened).toEqual([]);
    expect(ctx.server.stats()).toMatchObject({ connections: 0, errors: { [code]: 2 } });

    // The same server lets a request with a session in.
    await using accepted = await tryUpgrade(`${ctx.url}/?user=alice`);
    expect(accepted.status).toBe(101);
    await vi.waitFor(() => expect(counter.opened).toHaveLength(1));
  });

  it('answers HTTP 500 for a plain Error without leaking its message, and logs it', async () => {
    const counter = connectionCounter();
    await using ctx = await startTestServer(sessionApi, {
      handlers: { whoami: ({ ctx }) => ctx },
      hooks: counter.hooks,
      authenticate: () => {
        throw new Error('session store password is hunter2');
      },
    });

    await using refused = await tryUpgrade(ctx.url);

    expect(refused.status).toBe(500);
    expect(refused.opened).toBe(false);
    expect(refused.body).toBe('internal error\n');
    expect(JSON.stringify(refused.headers)).not.toContain('hunter2');
    expect(counter.opened).toEqual([]);
    const logged = ctx.logs.filter((entry) => entry.level === 'error');
    expect(logged).toHaveLength(1);
    expect(logged[0]!.message).toBe('authenticate failed');
    expect(String((logged[0]!.details as { err?: unknown }).err)).toContain('hunter2');
  });

  it('passes its result to `context` as `auth`', async () => {
    const seen: unknown[] = [];
    type Auth = { user: string | null; via: string };
    await using ctx = await startTestServer<typeof sessionApi, Auth, { user: string | null; role: string }>(
      sessionApi,
      {
        handlers: { whoami: ({ ctx }) => ctx },
        authenticate: async ({ request }) => {
          await Promise.resolve();
          return { user: userOf(request.url), via: 'cookie' };
        },
        context: ({ auth, connectionParams }) => {
          seen.push({ auth, connectionParams });
          return { user: auth.user, role: 'member' };
        },
      },
    );
    await using client = connectClient(sessionApi, `${ctx.url}/?user=alice`);

    expect(await client.call.whoami({})).toEqual({ user: 'alice', role: 'member' });
    expect(seen).toEqual([{ auth: { user: 'alice', via: 'cookie' }, connectionParams: undefined }]);
  });

  it('is `ctx.auth` when the server has no `context` option', async () => {
    await using ctx = await startTestServer(sessionApi, {
      handlers: { whoami: ({ ctx }) => ({ auth: ctx.auth }) },
      authenticate: ({ request }) => ({ user: userOf(request.url) }),
    });
    await using client = connectClient(sessionApi, `${ctx.url}/?user=bob`);

    expect(await client.call.whoami({})).toEqual({ auth: { user: 'bob' } });
  });
});

describe('connection params (auth in the hello frame)', () => {
  /** A token server: `context` sees the validated params; tokens in `refused` are turned away. */
  async function tokenServer(options: { refused?: Set<string>; forbidden?: Set<string> } = {}) {
    const counter = connectionCounter();
    const params: unknown[] = [];
    const refused = options.refused ?? new Set<string>();
    const forbidden = options.forbidden ?? new Set<string>();
    const served = await startTestServer(tokenApi, {
      hooks: counter.hooks,
      context: ({ connectionParams }) => {
        params.push(connectionParams);
        if (refused.has(connectionParams.token)) throw new WirecallError('UNAUTHORIZED', 'token expired');
        if (forbidden.has(connectionParams.token)) throw new WirecallError('FORBIDDEN', 'account suspended');
        return { token: connectionParams.token };
      },
      handlers: {
        whoami: ({ ctx }) => ctx,
        expire: ({ ctx, connection }) => {
          refused.add(ctx.token);
          connection.close(CLOSE_CODES.UNAUTHORIZED, 'token expired');
          return 'closed';
        },
      },
    });
    return Object.assign(served, { counter, params, refused });
  }

  it('delivers a value to `context`, validated', async () => {
    await using ctx = await tokenServer();
    await using client = connectClient(tokenApi, ctx.url, { connectionParams: { token: 'T1' } });

    expect(await client.call.whoami({})).toEqual({ token: 'T1' });
    expect(ctx.params).toEqual([{ token: 'T1' }]);
  });

  it('delivers what an async function returns', async () => {
    await using ctx = await tokenServer();
    const factory = vi.fn(async () => {
      await Promise.resolve();
      return { token: 'T2' };
    });
    await using client = connectClient(tokenApi, ctx.url, { connectionParams: factory });

    expect(await client.call.whoami({})).toEqual({ token: 'T2' });
    expect(ctx.params).toEqual([{ token: 'T2' }]);
    expect(factory).toHaveBeenCalledTimes(1);
  });

  it.each<[string, object]>([
    ['a token of the wrong type', { v: { token: 42 } }],
    ['a token the schema refuses', { v: { token: 'x' } }],
    ['no params at all', {}],
  ])('closes with 4401 for %s, before `context` runs', async (_label, value) => {
    await using ctx = await tokenServer();
    await using raw = await RawClient.connect(ctx.url);

    raw.send({ t: 'hello', fp: tokenApi.fingerprint, ...value });

    expect(await raw.waitForClose()).toEqual({ code: 4401, reason: 'invalid connection params' });
    expect(raw.frames).toEqual([]);
    expect(ctx.params).toEqual([]);
  });

  it('refuses params whose value metadata the decoder refuses as a bad hello (4400), before `context` runs', async () => {
    // A refusal the client counts towards maxRefusals, not a server fault (1011 would be retried forever).
    await using ctx = await tokenServer();
    await using raw = await RawClient.connect(ctx.url);

    raw.send({ t: 'hello', fp: tokenApi.fingerprint, v: { token: 'abc' }, m: { values: { token: ['regexp'] }, v: 1 } });

    const { code } = await raw.waitForClose();
    expect({ code, behavior: closeCodeBehavior(code) }).toEqual({ code: 4400, behavior: 'refused' });
    expect(raw.frames).toEqual([]);
    expect(ctx.params).toEqual([]);
  });

  it('closes with 4403 when `context` throws FORBIDDEN', async () => {
    await using ctx = await tokenServer({ forbidden: new Set(['suspended']) });
    await using raw = await RawClient.connect(ctx.url);

    raw.send({ t: 'hello', fp: tokenApi.fingerprint, v: { token: 'suspended' } });

    expect(await raw.waitForClose()).toEqual({ code: 4403, reason: 'account suspended' });
    expect(raw.frames).toEqual([]);
  });

  it('a typed client refuses invalid params itself: UNAUTHORIZED, no upgrade, stops after maxRefusals', async () => {
    await using ctx = await tokenServer();
    const factory = vi.fn(() => ({ token: 42 }) as unknown as { token: string });
    await using client = connectClient(tokenApi, ctx.url, {
      connectionParams: factory,
      reconnect: { ...fastReconnect, maxRefusals: 3 },
    });
    const states = recordStates(client);
    const pending = rejectionOf(client.call.whoami({}));

    await vi.waitFor(() => expect(client.state).toBe('closed'));

    const error = await pending;
    expect(error.code).toBe('UNAUTHORIZED');
    expect(error.message).toContain('invalid connection params at token');
    expect(states.map(({ state, closeCode, error }) => ({ state, closeCode, code: error?.code }))).toEqual([
      { state: 'reconnecting', closeCode: 4401, code: 'UNAUTHORIZED' },
      { state: 'reconnecting', closeCode: 4401, code: 'UNAUTHORIZED' },
      { state: 'closed', closeCode: 4401, code: 'UNAUTHORIZED' },
    ]);
    // Refused before any socket opened: the server never saw these params.
    expect(ctx.counter.opened).toHaveLength(0);
    expect(factory).toHaveBeenCalledTimes(3);
    expect(ctx.params).toEqual([]);
  });

  it('evaluates the params function on every connect, so a refreshed token is used', async () => {
    await using ctx = await tokenServer({ refused: new Set(['stale']) });
    const tokens = ['stale', 'fresh'];
    const factory = vi.fn(async () => {
      await Promise.resolve();
      return { token: tokens.shift() ?? 'exhausted' };
    });
    await using client = connectClient(tokenApi, ctx.url, {
      connectionParams: factory,
      reconnect: { ...fastReconnect, maxRefusals: 3 },
    });
    const states = recordStates(client);

    expect(await client.call.whoami({})).toEqual({ token: 'fresh' });

    expect(ctx.params).toEqual([{ token: 'stale' }, { token: 'fresh' }]);
    expect(factory).toHaveBeenCalledTimes(2);
    expect(states.map(({ state, closeCode, error }) => ({ state, closeCode, code: error?.code }))).toEqual([
      { state: 'reconnecting', closeCode: 4401, code: 'UNAUTHORIZED' },
      { state: 'open', closeCode: undefined, code: undefined },
    ]);
    expect(states[0]!.error?.message).toContain('token expired');
  });

  it('a handler closing with 4401 ends the connection; the client reports UNAUTHORIZED and stops', async () => {
    await using ctx = await tokenServer();
    await using client = connectClient(tokenApi, ctx.url, {
      connectionParams: { token: 'T3' },
      reconnect: { ...fastReconnect, maxRefusals: 3 },
    });
    const states = recordStates(client);
    expect(await client.call.whoami({})).toEqual({ token: 'T3' });

    const error = await rejectionOf(client.call.expire({}));

    expect(error.code).toBe('UNAUTHORIZED');
    expect(error.message).toContain('token expired');
    const down = states.find((change) => change.previous === 'open');
    expect(down).toMatchObject({ state: 'reconnecting', closeCode: 4401 });
    expect(down?.error?.code).toBe('UNAUTHORIZED');
    // The same (now revoked) token keeps being refused: two more attempts, then the client stops.
    await vi.waitFor(() => expect(client.state).toBe('closed'));
    expect(states.at(-1)).toMatchObject({ state: 'closed', closeCode: 4401 });
    expect(states.at(-1)?.error?.code).toBe('UNAUTHORIZED');
    expect(ctx.counter.opened).toHaveLength(3);
    await vi.waitFor(() => expect(ctx.counter.closes).toEqual([4401, 4401, 4401]));
  });

  it('a raw socket sees the handler-initiated 4401 close and its reason', async () => {
    await using ctx = await tokenServer();
    await using raw = await RawClient.connect(ctx.url);
    raw.send({ t: 'hello', fp: tokenApi.fingerprint, v: { token: 'T4' } });
    await raw.waitFor((frame) => frame.t === 'welcome');

    raw.send({ t: 'call', id: 1, p: 'expire', v: {} });

    expect(await raw.waitForClose()).toEqual({ code: 4401, reason: 'token expired' });
    // The handler's return value is never sent once the connection is closed.
    expect(raw.frames.filter((frame) => frame.id === 1)).toEqual([]);
    expect(raw.socket.readyState).toBe(WebSocket.CLOSED);
  });
});
