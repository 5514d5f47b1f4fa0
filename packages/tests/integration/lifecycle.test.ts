import {
  createClient,
  isWirecallError,
  type StateChange,
  type WirecallClient,
  type WirecallError,
} from '@wirecall/client';
import { defineContract } from '@wirecall/core';
import { createServer, memoryBroker } from '@wirecall/server';
import { z } from 'zod';
import { describe, expect, it, vi } from 'vitest';
import { idempotentApi, idempotentHandlers } from '../helpers/extra-fixtures.js';
import { RawClient } from '../helpers/raw-client.js';
import { connectClient, startTestServer } from '../helpers/test-server.js';
import { newObserved, testApiOptions } from '../helpers/test-handlers.js';
import { testApi } from '../helpers/fixtures.js';

/** Captures a rejection right away (no unhandled-rejection window); resolves with the error. */
function rejectionOf(promise: Promise<unknown>): Promise<WirecallError> {
  return promise.then(
    () => {
      throw new Error('expected the promise to reject, but it resolved');
    },
    (error: unknown) => {
      expect(isWirecallError(error)).toBe(true);
      return error as WirecallError;
    },
  );
}

describe('lifecycle', () => {
  describe('closing the client', () => {
    it('rejects pending calls with CLOSED and ends in state closed', async () => {
      await using ctx = await startTestServer(testApi, testApiOptions());
      const client = connectClient(testApi, ctx.url);
      await client.call.add({ a: 0, b: 0 });

      const pending = rejectionOf(client.call.sleep({ ms: 10_000 }));
      const second = rejectionOf(client.call.sleep({ ms: 10_000, tag: 'second' }));
      expect(client.pending.calls).toBe(2);
      await client.close();

      expect((await pending).code).toBe('CLOSED');
      expect((await second).code).toBe('CLOSED');
      expect(client.state).toBe('closed');
      expect(client.pending.calls).toBe(0);
      await vi.waitFor(() => expect(ctx.server.stats()).toMatchObject({ connections: 0, inFlightCalls: 0 }));
    });

    it('rejects calls made after close() at once with CLOSED', async () => {
      await using ctx = await startTestServer(testApi, testApiOptions());
      const client = connectClient(testApi, ctx.url);
      await client.call.add({ a: 0, b: 0 });
      await client.close();

      // A short timeout, so a call that waits instead of failing shows up as TIMEOUT, not a hang.
      const error = await rejectionOf(client.call.add({ a: 1, b: 1 }, { timeoutMs: 1_000 }));

      expect(error.code).toBe('CLOSED');
      expect(client.pending.calls).toBe(0);
    });

    it('ends in closed, through no other state, and drops its server connection', async () => {
      await using ctx = await startTestServer(testApi, testApiOptions());
      const client = connectClient(testApi, ctx.url);
      const changes: StateChange[] = [];
      client.onStateChange((change) => changes.push(change));
      await client.call.add({ a: 0, b: 0 });

      await client.close();
      await client.close(); // a second close is a no-op

      await vi.waitFor(() => expect(ctx.server.stats().connections).toBe(0));
      expect(changes.map((change) => change.state)).toEqual(['open', 'closed']);
      expect(client.state).toBe('closed');
    });

    it('frees everything on the server when clients leave', async () => {
      const observed = newObserved();
      await using ctx = await startTestServer(testApi, testApiOptions(observed));
      const clients = Array.from({ length: 10 }, () => connectClient(testApi, ctx.url));
      clients.forEach((client, index) => {
        client.on('tick', () => {});
        client.on('chatMessage', { room: `r${index % 3}` }, () => {});
        void client.call.waitForAbort({ key: `leaving-${index}` }).catch(() => {});
      });
      await vi.waitFor(() =>
        expect(ctx.server.stats()).toMatchObject({ connections: 10, inFlightCalls: 10, subscriptions: 20 }),
      );

      await Promise.all(clients.map((client) => client.close()));

      await vi.waitFor(() =>
        expect(ctx.server.stats()).toMatchObject({ connections: 0, inFlightCalls: 0, subscriptions: 0 }),
      );
      expect(observed.aborts.size).toBe(10);
    });
  });

  describe('closing the server', () => {
    it('with graceMs 0 rejects in-flight calls and the client ends closed when it may not reconnect', async () => {
      await using ctx = await startTestServer(testApi, testApiOptions());
      await using client = connectClient(testApi, ctx.url, { reconnect: false });
      const changes: StateChange[] = [];
      client.onStateChange((change) => changes.push(change));
      await client.call.add({ a: 0, b: 0 });

      const pending = rejectionOf(client.call.sleep({ ms: 10_000 }));
      await vi.waitFor(() => expect(ctx.server.stats().inFlightCalls).toBe(1));
      await ctx.server.close({ graceMs: 0 });

      expect((await pending).code).toBe('CONNECTION_LOST');
      await vi.waitFor(() => expect(client.state).toBe('closed'));
      expect(changes.at(-1)).toMatchObject({ state: 'closed', previous: 'open', closeCode: 1001 });
      // Nothing will ever send it: a new call fails at once rather than waiting out its timeout.
      const late = await rejectionOf(client.call.add({ a: 1, b: 1 }, { timeoutMs: 1_000 }));
      expect(late.code).not.toBe('TIMEOUT');
    });

    it('with graceMs 0 sends a reconnecting client into reconnecting', async () => {
      await using ctx = await startTestServer(testApi, testApiOptions());
      await using client = connectClient(testApi, ctx.url, { reconnect: { minDelayMs: 50, maxDelayMs: 100 } });
      const changes: StateChange[] = [];
      client.onStateChange((change) => changes.push(change));
      await client.call.add({ a: 0, b: 0 });

      const pending = rejectionOf(client.call.sleep({ ms: 10_000 }));
      await vi.waitFor(() => expect(ctx.server.stats().inFlightCalls).toBe(1));
      await ctx.server.close({ graceMs: 0 });

      expect((await pending).code).toBe('CONNECTION_LOST');
      await vi.waitFor(() => expect(changes.some((change) => change.previous === 'open')).toBe(true));
      expect(client.state).not.toBe('open');
      expect(changes.find((change) => change.previous === 'open')).toMatchObject({
        state: 'reconnecting',
        closeCode: 1001,
      });
    });

    it('with graceMs lets an in-flight call finish and deliver its result, then closes with 1001', async () => {
      await using ctx = await startTestServer(testApi, testApiOptions());
      await using raw = await RawClient.greeted(ctx.url);
      await using client = connectClient(testApi, ctx.url, { reconnect: false });
      await client.call.add({ a: 0, b: 0 });

      raw.send({ t: 'call', id: 1, p: 'sleep', v: { ms: 200, tag: 'raw done' } });
      const typed = client.call.sleep({ ms: 200, tag: 'typed done' });
      await vi.waitFor(() => expect(ctx.server.stats().inFlightCalls).toBe(2));
      const closing = ctx.server.close({ graceMs: 2_000 });

      // Frames arrive in order: if the socket had closed first, this would reject.
      expect(await raw.waitFor((frame) => frame.id === 1)).toEqual({ t: 'result', id: 1, v: 'raw done' });
      expect(await typed).toBe('typed done');
      expect(await raw.waitForClose()).toMatchObject({ code: 1001 });
      await closing;
      await vi.waitFor(() => expect(client.state).toBe('closed'));
    });

    it('answers calls that arrive during the grace period with UNAVAILABLE', async () => {
      await using ctx = await startTestServer(testApi, testApiOptions());
      await using raw = await RawClient.greeted(ctx.url);

      raw.send({ t: 'call', id: 1, p: 'sleep', v: { ms: 300, tag: 'in flight' } });
      await vi.waitFor(() => expect(ctx.server.stats().inFlightCalls).toBe(1));
      const closing = ctx.server.close({ graceMs: 2_000 });
      const late = await raw.request({ t: 'call', id: 2, p: 'add', v: { a: 1, b: 1 } });

      expect(late).toMatchObject({ t: 'error', id: 2, e: { code: 'UNAVAILABLE' } });
      expect(await raw.waitFor((frame) => frame.id === 1)).toMatchObject({ t: 'result', v: 'in flight' });
      expect((await raw.waitForClose()).code).toBe(1001);
      await closing;
    });

    it('aborts the signal of every handler still running when the grace period ends', async () => {
      const observed = newObserved();
      await using ctx = await startTestServer(testApi, testApiOptions(observed));
      await using raw = await RawClient.greeted(ctx.url);
      const key = `shutdown-${Math.random()}`;

      raw.send({ t: 'call', id: 1, p: 'waitForAbort', v: { key }, tm: 10_000 });
      await vi.waitFor(() => expect(ctx.server.stats().inFlightCalls).toBe(1));
      await ctx.server.close({ graceMs: 0 });

      await vi.waitFor(() => expect(observed.aborts.has(key)).toBe(true), { timeout: 3_000 });
      expect(observed.aborts.get(key)).toMatchObject({ code: 'CONNECTION_LOST' });
      expect((await raw.waitForClose()).code).toBe(1001);
    });

    it('aborts the signal of a running idempotent handler too: no retry can reach a closed server', async () => {
      const aborts = new Map<string, unknown>();
      await using srv = await startTestServer(idempotentApi, { handlers: idempotentHandlers(aborts) });
      await using raw = await RawClient.greeted(srv.url, idempotentApi.fingerprint);
      const key = `idempotent-shutdown-${Math.random()}`;

      // What a typed client sends for an idempotent procedure: an idempotency key and its deadline.
      raw.send({ t: 'call', id: 1, p: 'holdIdempotent', v: { key }, ik: `raw:${key}`, tm: 10_000 });
      await vi.waitFor(() => expect(srv.server.stats().inFlightCalls).toBe(1));
      await srv.server.close({ graceMs: 0 });
      expect((await raw.waitForClose()).code).toBe(1001);

      // The handler's signal promises to abort when "the connection closes"; it is only
      // exempted while a retry may still arrive, which a closed server can never receive.
      await vi.waitFor(() => expect(aborts.has(key)).toBe(true), { timeout: 3_000 });
    });

    it('refuses new connections once closing', async () => {
      await using ctx = await startTestServer(testApi, testApiOptions());
      await ctx.server.close({ graceMs: 0 });

      await expect(RawClient.connect(ctx.url)).rejects.toThrow();
    });
  });
});

describe('await using', () => {
  it('closes a server and a client at the end of their scope', async () => {
    const api = defineContract({
      procedures: { add: { input: z.object({ a: z.number(), b: z.number() }), output: z.number() } },
    });
    const closed: string[] = [];
    let client: WirecallClient<typeof api> | undefined;
    let address: string | undefined;
    {
      await using server = createServer(api, {
        handlers: { add: ({ input }) => input.a + input.b },
        hooks: { onDisconnect: () => void closed.push('connection') },
      });
      const { url } = await server.listen({ port: 0, host: '127.0.0.1' });
      address = url;
      await using scoped = createClient(api, { url });
      client = scoped;
      expect(await scoped.call.add({ a: 1, b: 2 })).toBe(3);
    }
    // Disposed in reverse order: the client first (its connection ends), then the server.
    expect(client.state).toBe('closed');
    await vi.waitFor(() => expect(closed).toEqual(['connection']));
    await expect(RawClient.connect(address)).rejects.toThrow(); // the server stopped listening
  });
});

describe('options that cannot apply', () => {
  it('refuses `history` beside a broker of the app’s own, instead of ignoring it', () => {
    const api = defineContract({ events: { tick: { payload: z.number() } } });
    const broker = memoryBroker();
    expect(() => createServer(api, { handlers: {}, broker, history: { maxEvents: 5 } })).toThrow(
      'wirecall: `history` configures the default broker; give it to your broker instead',
    );
    expect(() => createServer(api, { handlers: {}, history: { maxEvents: 5 } })).not.toThrow();
  });
});
