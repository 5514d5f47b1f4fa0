import { WirecallError } from '@wirecall/client';
import { describe, expect, it, vi } from 'vitest';
import { RawClient, recordingWebSocket, type WireEntry } from '../helpers/raw-client.js';
import { connectClient, startTestServer } from '../helpers/test-server.js';
import { rejectionOf } from '../helpers/rejection.js';
import { newObserved, type Observed, testApiOptions } from '../helpers/test-handlers.js';
import { testApi } from '../helpers/fixtures.js';

let keySeq = 0;
/** A key no other test uses, so `observed.aborts` entries cannot be confused. */
const uniqueKey = (label: string): string => `${label}-${++keySeq}-${Math.random().toString(36).slice(2)}`;

/** Waits until the handler of `key` saw its signal abort, and returns the abort reason's code. */
async function serverAbortCode(observed: Observed, key: string): Promise<string> {
  await vi.waitFor(() => expect(observed.aborts.has(key)).toBe(true), { timeout: 5_000 });
  const reason = observed.aborts.get(key);
  expect(reason).toBeInstanceOf(WirecallError);
  return (reason as WirecallError).code;
}

describe('cancellation', () => {
  describe('through the typed client', () => {
    it('rejects with CANCELLED when the signal aborts, and aborts the handler on the server', async () => {
      const observed = newObserved();
      await using ctx = await startTestServer(testApi, testApiOptions(observed));
      await using client = connectClient(testApi, ctx.url);
      await client.call.add({ a: 0, b: 0 }); // open, so the call goes out at once
      const key = uniqueKey('abort');
      const controller = new AbortController();

      const pending = client.call.waitForAbort({ key }, { signal: controller.signal });
      await vi.waitFor(() => expect(ctx.server.stats().inFlightCalls).toBe(1));
      controller.abort();

      expect((await rejectionOf(pending)).code).toBe('CANCELLED');
      expect(await serverAbortCode(observed, key)).toBe('CANCELLED');
      await vi.waitFor(() => expect(ctx.server.stats().inFlightCalls).toBe(0));
      expect(client.pending.calls).toBe(0);
    });

    it('keeps the abort reason as the cause of the CANCELLED error', async () => {
      await using ctx = await startTestServer(testApi, testApiOptions());
      await using client = connectClient(testApi, ctx.url);
      const controller = new AbortController();
      const reason = new Error('user navigated away');

      const pending = client.call.waitForAbort({ key: uniqueKey('reason') }, { signal: controller.signal });
      controller.abort(reason);

      const error = await rejectionOf(pending);
      expect(error.code).toBe('CANCELLED');
      expect(error.cause).toBe(reason);
    });

    it('rejects at once with CANCELLED for an already aborted signal, and never runs the handler', async () => {
      const observed = newObserved();
      await using ctx = await startTestServer(testApi, testApiOptions(observed));
      await using client = connectClient(testApi, ctx.url);
      await client.call.add({ a: 0, b: 0 });
      const id = uniqueKey('pre-aborted');

      const error = await rejectionOf(client.call.getUser({ id }, { signal: AbortSignal.abort() }));

      expect(error.code).toBe('CANCELLED');
      // A later call on the same socket has been handled, so an earlier one would have been too.
      await client.call.getUser({ id: 'after' });
      expect(observed.runs.get('getUser:after')).toBe(1);
      expect(observed.runs.has(`getUser:${id}`)).toBe(false);
    });

    it('rejects with TIMEOUT after timeoutMs, and the handler on the server sees its signal abort', async () => {
      const observed = newObserved();
      await using ctx = await startTestServer(testApi, testApiOptions(observed));
      await using client = connectClient(testApi, ctx.url);
      await client.call.add({ a: 0, b: 0 });
      const key = uniqueKey('timeout');

      const error = await rejectionOf(client.call.waitForAbort({ key }, { timeoutMs: 100 }));

      expect(error.code).toBe('TIMEOUT');
      // Whichever comes first, the client's cancel frame or the server's own copy of the deadline.
      expect(['CANCELLED', 'TIMEOUT']).toContain(await serverAbortCode(observed, key));
      expect(client.pending.calls).toBe(0);
    });

    it('sends the remaining time budget with the call as tm', async () => {
      await using ctx = await startTestServer(testApi, testApiOptions());
      const wire: WireEntry[] = [];
      await using client = connectClient(testApi, ctx.url, { WebSocket: recordingWebSocket(wire), timeoutMs: 5_000 });

      await client.call.add({ a: 1, b: 1 });
      await client.call.add({ a: 1, b: 2 }, { timeoutMs: 750 });

      const calls = wire.filter((entry) => entry.dir === 'out' && entry.frame.t === 'call').map((entry) => entry.frame);
      expect(calls).toHaveLength(2);
      const [first, second] = calls.map((frame) => frame.tm);
      expect(typeof first).toBe('number');
      expect(first).toBeGreaterThan(0);
      expect(first).toBeLessThanOrEqual(5_000);
      expect(second).toBeGreaterThan(0);
      expect(second).toBeLessThanOrEqual(750);
    });

    it('sends no cancel frame when the signal aborts after the result arrived', async () => {
      await using ctx = await startTestServer(testApi, testApiOptions());
      const wire: WireEntry[] = [];
      await using client = connectClient(testApi, ctx.url, { WebSocket: recordingWebSocket(wire) });
      const controller = new AbortController();

      expect(await client.call.add({ a: 2, b: 3 }, { signal: controller.signal })).toBe(5);
      controller.abort();
      await client.call.add({ a: 0, b: 0 });

      expect(wire.filter((entry) => entry.dir === 'out').map((entry) => entry.frame.t)).toEqual([
        'hello',
        'call',
        'call',
      ]);
    });

    it('aborts the handler with CONNECTION_LOST when the client closes mid-call', async () => {
      const observed = newObserved();
      await using ctx = await startTestServer(testApi, testApiOptions(observed));
      const client = connectClient(testApi, ctx.url);
      await client.call.add({ a: 0, b: 0 });
      const key = uniqueKey('closed');

      const pending = rejectionOf(client.call.waitForAbort({ key }));
      await vi.waitFor(() => expect(ctx.server.stats().inFlightCalls).toBe(1));
      await client.close();

      expect((await pending).code).toBe('CLOSED');
      expect(await serverAbortCode(observed, key)).toBe('CONNECTION_LOST');
    });
  });

  describe('on the wire', () => {
    it('aborts the handler when a cancel frame arrives, and sends no answer for that id', async () => {
      const observed = newObserved();
      await using ctx = await startTestServer(testApi, testApiOptions(observed));
      await using raw = await RawClient.greeted(ctx.url);
      const key = uniqueKey('raw-cancel');

      raw.send({ t: 'call', id: 1, p: 'waitForAbort', v: { key } });
      raw.send({ t: 'cancel', id: 1 });

      expect(await serverAbortCode(observed, key)).toBe('CANCELLED');
      // The id is free again once the cancelled call settled, and nothing answered the first use.
      expect(await raw.request({ t: 'call', id: 1, p: 'add', v: { a: 1, b: 1 } })).toEqual({
        t: 'result',
        id: 1,
        v: 2,
      });
      expect(raw.frames.filter((frame) => frame.id === 1)).toHaveLength(1);
    });

    it('aborts the handler when the deadline in tm passes, without any cancel frame', async () => {
      const observed = newObserved();
      await using ctx = await startTestServer(testApi, testApiOptions(observed));
      await using raw = await RawClient.greeted(ctx.url);
      const key = uniqueKey('raw-deadline');

      raw.send({ t: 'call', id: 1, p: 'waitForAbort', v: { key }, tm: 100 });

      expect(await serverAbortCode(observed, key)).toBe('TIMEOUT');
      await raw.barrier();
      expect(raw.frames.filter((frame) => frame.id === 1)).toEqual([]);
      expect(ctx.server.stats().inFlightCalls).toBe(0);
    });

    it('ignores a cancel for an id that is not in flight', async () => {
      await using ctx = await startTestServer(testApi, testApiOptions());
      await using raw = await RawClient.greeted(ctx.url);

      raw.send({ t: 'cancel', id: 99 });
      await raw.barrier();

      expect(raw.isOpen).toBe(true);
      expect(raw.frames.map((frame) => frame.t)).toEqual(['welcome', 'pong']);
    });

    it('aborts every in-flight handler with CONNECTION_LOST when the socket drops', async () => {
      const observed = newObserved();
      await using ctx = await startTestServer(testApi, testApiOptions(observed));
      const raw = await RawClient.greeted(ctx.url);
      const keys = [uniqueKey('drop'), uniqueKey('drop'), uniqueKey('drop')];

      keys.forEach((key, index) => raw.send({ t: 'call', id: index + 1, p: 'waitForAbort', v: { key } }));
      await vi.waitFor(() => expect(ctx.server.stats().inFlightCalls).toBe(3));
      raw.socket.terminate();

      for (const key of keys) expect(await serverAbortCode(observed, key)).toBe('CONNECTION_LOST');
      expect(ctx.server.stats().inFlightCalls).toBe(0);
    });
  });
});
