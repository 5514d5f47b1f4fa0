import { type WirecallError } from '@wirecall/core';
import { type ConnectionInfo } from '@wirecall/server';
import { describe, expect, it, vi } from 'vitest';
import { RawClient } from '../helpers/raw-client.js';
import { connectClient, startTestServer } from '../helpers/test-server.js';
import { rejectionOf } from '../helpers/rejection.js';
import { testApiOptions } from '../helpers/test-handlers.js';
import { testApi } from '../helpers/fixtures.js';

function errText(details: object): string {
  const err = (details as { err?: unknown }).err;
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

describe('logger', () => {
  it('receives the details of an INTERNAL error that the client never sees', async () => {
    await using ctx = await startTestServer(testApi, testApiOptions());
    await using client = connectClient(testApi, ctx.url);

    const error = await rejectionOf(client.call.fail({ kind: 'plain' }));

    expect(error.code).toBe('INTERNAL');
    expect(error.message).not.toContain('hunter2');
    const logged = ctx.logs.filter((entry) => entry.level === 'error');
    expect(logged).toHaveLength(1);
    expect(logged[0]!.message).toBe('call failed');
    expect(logged[0]!.details).toMatchObject({ procedure: 'fail' });
    expect(errText(logged[0]!.details)).toBe('Error: db password is hunter2');
    // A typed refusal is an answer, not a fault: nothing is logged as an error for it.
    expect((await rejectionOf(client.call.fail({ kind: 'typed' }))).code).toBe('FORBIDDEN');
    expect(ctx.logs.filter((entry) => entry.level === 'error')).toHaveLength(1);
  });
});

describe('hooks', () => {
  it('onConnection, onDisconnect (with the close code) and onError (with the procedure) fire', async () => {
    const events: string[] = [];
    const connections: ConnectionInfo[] = [];
    const failures: { error: WirecallError; procedure: string | undefined; connection: string | undefined }[] = [];
    await using ctx = await startTestServer(testApi, {
      ...testApiOptions(),
      hooks: {
        onConnection: (connection) => {
          connections.push(connection);
          events.push(`connect ${connection.id}`);
        },
        onDisconnect: (connection, { code, reason }) => events.push(`disconnect ${connection.id} ${code} ${reason}`),
        onError: (error, { procedure, connection }) =>
          failures.push({ error: error as WirecallError, procedure, connection: connection?.id }),
      },
    });
    const client = connectClient(testApi, `${ctx.url}/app?tenant=t1`);
    expect(await client.call.add({ a: 1, b: 2 })).toBe(3);

    expect(connections).toHaveLength(1);
    const [connection] = connections;
    expect(connection!.remoteAddress).toBe('127.0.0.1');
    expect(connection!.url).toBe('/app?tenant=t1');

    await rejectionOf(client.call.fail({ kind: 'typed' }));
    await rejectionOf(client.call.fail({ kind: 'plain' }));
    expect(failures.map(({ error, procedure, connection: id }) => ({ code: error.code, procedure, id }))).toEqual([
      { code: 'FORBIDDEN', procedure: 'fail', id: connection!.id },
      { code: 'INTERNAL', procedure: 'fail', id: connection!.id },
    ]);
    // The hook gets what the client does not: the original error.
    expect(String(failures[1]!.error.cause)).toContain('hunter2');

    await client.close();
    await vi.waitFor(() =>
      expect(events).toEqual([`connect ${connection!.id}`, `disconnect ${connection!.id} 1000 client closed`]),
    );
  });

  it('onError hears of bad frames answered with an error', async () => {
    // options.ts: onError gets "every error the server answers with or swallows (handler failures, bad frames, …)".
    const codes: string[] = [];
    await using ctx = await startTestServer(testApi, {
      ...testApiOptions(),
      hooks: { onError: (error) => codes.push((error as WirecallError).code) },
    });
    await using raw = await RawClient.greeted(ctx.url);

    expect((await raw.request({ t: 'shout', id: 1 })).e?.code).toBe('BAD_REQUEST');
    expect((await raw.request({ t: 'call', id: 2, p: 'add', v: { a: 1, b: 2 }, tm: -1 })).e?.code).toBe('BAD_REQUEST');

    expect(codes).toEqual(['BAD_REQUEST', 'BAD_REQUEST']);
  });

  it('a hook that throws is logged and breaks nothing', async () => {
    await using ctx = await startTestServer(testApi, {
      ...testApiOptions(),
      hooks: {
        onConnection: () => {
          throw new Error('metrics backend down (connect)');
        },
        onDisconnect: () => {
          throw new Error('metrics backend down (disconnect)');
        },
        onError: () => {
          throw new Error('metrics backend down (error)');
        },
      },
    });
    const client = connectClient(testApi, ctx.url);

    expect(await client.call.add({ a: 2, b: 3 })).toBe(5);
    expect((await rejectionOf(client.call.fail({ kind: 'typed' }))).code).toBe('FORBIDDEN');
    expect(await client.call.add({ a: 4, b: 5 })).toBe(9);
    await client.close();
    await vi.waitFor(() => expect(ctx.server.stats().connections).toBe(0));

    const hookLogs = ctx.logs
      .filter((entry) => entry.message === 'a server hook threw')
      .map((entry) => ({
        level: entry.level,
        hook: (entry.details as { hook?: string }).hook,
        err: errText(entry.details),
      }));
    expect(hookLogs).toEqual([
      { level: 'error', hook: 'onConnection', err: 'Error: metrics backend down (connect)' },
      { level: 'error', hook: 'onError', err: 'Error: metrics backend down (error)' },
      { level: 'error', hook: 'onDisconnect', err: 'Error: metrics backend down (disconnect)' },
    ]);
    // The server still accepts and serves new connections.
    await using again = connectClient(testApi, ctx.url);
    expect(await again.call.add({ a: 1, b: 1 })).toBe(2);
  });
});

describe('server.stats()', () => {
  it('starts at zero', async () => {
    await using ctx = await startTestServer(testApi, testApiOptions());

    expect(ctx.server.stats()).toEqual({
      connections: 0,
      inFlightCalls: 0,
      subscriptions: 0,
      messagesIn: 0,
      messagesOut: 0,
      bytesIn: 0,
      bytesOut: 0,
      errors: {},
      broker: { connected: true, received: { events: 0, bytes: 0 } },
    });
  });

  it('counts messages and bytes exactly as they crossed the socket, and errors by code', async () => {
    await using ctx = await startTestServer(testApi, testApiOptions());
    await using raw = await RawClient.connect(ctx.url);
    const sent: string[] = [];
    const send = (frame: object): void => {
      sent.push(JSON.stringify(frame));
      raw.send(frame);
    };
    const bytes = (texts: string[]): number => texts.reduce((total, text) => total + Buffer.byteLength(text), 0);

    send({ t: 'hello', fp: ctx.server.contract.fingerprint });
    await raw.waitFor((frame) => frame.t === 'welcome');
    send({ t: 'call', id: 1, p: 'echo', v: 'héllo wörld ✓' });
    send({ t: 'call', id: 2, p: 'add', v: { a: 'x' } });
    send({ t: 'call', id: 3, p: 'nope', v: {} });
    send({ t: 'call', id: 4, p: 'getUser', v: { id: 'missing' } });
    send({ t: 'ping' });
    await raw.waitFor((frame) => frame.t === 'pong');

    expect(raw.frames.map((frame) => [frame.t, frame.e?.code])).toEqual([
      ['welcome', undefined],
      ['result', undefined],
      ['error', 'BAD_REQUEST'],
      ['error', 'NOT_FOUND'],
      ['error', 'NOT_FOUND'],
      ['pong', undefined],
    ]);
    expect(ctx.server.stats()).toMatchObject({
      connections: 1,
      messagesIn: sent.length,
      messagesOut: raw.texts.length,
      bytesIn: bytes(sent),
      bytesOut: bytes(raw.texts),
      errors: { BAD_REQUEST: 1, NOT_FOUND: 2 },
    });

    // A frame that is not a wirecall envelope closes the socket and counts as PROTOCOL.
    raw.sendText('{not json');
    expect((await raw.waitForClose()).code).toBe(1002);
    await vi.waitFor(() => expect(ctx.server.stats().connections).toBe(0));
    expect(ctx.server.stats().errors).toEqual({ BAD_REQUEST: 1, NOT_FOUND: 2, PROTOCOL: 1 });
  });

  it('counts connections, in-flight calls and subscriptions, and returns to zero', async () => {
    await using ctx = await startTestServer(testApi, testApiOptions());
    const first = connectClient(testApi, ctx.url);
    const second = connectClient(testApi, ctx.url);
    const offTick = first.on('tick', () => {});
    first.on('chatMessage', { room: 'a' }, () => {});
    second.on('tick', () => {});
    const abort = new AbortController();
    const held = rejectionOf(first.call.waitForAbort({ key: 'stats' }, { signal: abort.signal }));

    await vi.waitFor(() =>
      expect(ctx.server.stats()).toMatchObject({ connections: 2, inFlightCalls: 1, subscriptions: 3 }),
    );

    abort.abort();
    expect((await held).code).toBe('CANCELLED');
    offTick();
    await vi.waitFor(() =>
      expect(ctx.server.stats()).toMatchObject({ connections: 2, inFlightCalls: 0, subscriptions: 2 }),
    );

    await first.close();
    await second.close();
    await vi.waitFor(() =>
      expect(ctx.server.stats()).toMatchObject({ connections: 0, inFlightCalls: 0, subscriptions: 0 }),
    );
    expect(ctx.server.stats().errors).toEqual({ CANCELLED: 1 });
  });
});
