/**
 * One suite, two transports: the same calls, subscriptions, resume, idempotency and state
 * behaviour over a WebSocket and over HTTP + Server-Sent Events (`transports.test.ts` runs it for
 * each, as Hono runs one router suite against every router). Real sockets on 127.0.0.1.
 */
import { httpTransport } from '@wirecall/client/http';
import { streams } from '@wirecall/client/streams';
import { defineContract, isWirecallError } from '@wirecall/core';
import type { ConnectionInfo } from '@wirecall/server';
import { expect, it, vi } from 'vitest';
import { z } from 'zod';
import { nextState, outcomeOf, recordStates } from '../helpers/chaos-kit.js';
import { testApi } from '../helpers/fixtures.js';
import { newObserved, testApiOptions } from '../helpers/test-handlers.js';
import { connectClient, startTestServer } from '../helpers/test-server.js';

export interface TransportCase {
  name: 'websocket' | 'http';
  /** What createClient gets besides the url. */
  clientOptions: () => { http?: ReturnType<typeof httpTransport>; transport?: 'websocket' | 'http' | 'auto' };
}

export const TRANSPORTS: readonly TransportCase[] = [
  { name: 'websocket', clientOptions: () => ({}) },
  { name: 'http', clientOptions: () => ({ http: httpTransport(), transport: 'http' }) },
];

const countApi = defineContract({
  procedures: {
    count: { input: z.object({ to: z.number() }), stream: z.object({ n: z.number() }), output: z.string() },
  },
  events: {},
});

export function runTransportSuite(transport: TransportCase): void {
  const options = transport.clientOptions;

  it('answers calls, with values that are not JSON (a Date) and in parallel', async () => {
    await using ctx = await startTestServer(testApi, testApiOptions());
    await using client = connectClient(testApi, ctx.url, options());
    expect(await client.call.add({ a: 1, b: 2 })).toBe(3);
    const user = await client.call.getUser({ id: 'u1' });
    expect(user.createdAt).toBeInstanceOf(Date);
    expect(user.createdAt.toISOString()).toBe('2020-01-01T00:00:00.000Z');
    const sums = await Promise.all(Array.from({ length: 50 }, (_, i) => client.call.add({ a: i, b: i })));
    expect(sums).toEqual(Array.from({ length: 50 }, (_, i) => 2 * i));
  });

  it('reports the transport in state changes', async () => {
    await using ctx = await startTestServer(testApi, testApiOptions());
    await using client = connectClient(testApi, ctx.url, options());
    const opened = await nextState(client, 'open');
    expect(opened.transport).toBe(transport.name === 'http' ? 'http' : undefined);
  });

  it('rejects with typed errors: thrown codes as is, handler faults as INTERNAL without details', async () => {
    await using ctx = await startTestServer(testApi, testApiOptions());
    await using client = connectClient(testApi, ctx.url, options());
    const typed = await outcomeOf(client.call.fail({ kind: 'typed' }));
    expect(typed).toMatchObject({ ok: false, code: 'FORBIDDEN' });
    const plain = await outcomeOf(client.call.fail({ kind: 'plain' }));
    expect(plain).toMatchObject({ ok: false, code: 'INTERNAL' });
    expect(String((plain as { error: Error }).error.message)).not.toContain('hunter2');
    const missing = await outcomeOf(client.call.getUser({ id: 'missing' }));
    expect(missing).toMatchObject({ ok: false, code: 'NOT_FOUND' });
  });

  it('cancels: the handler’s signal aborts when the caller gives up, and deadlines reach the server', async () => {
    const observed = newObserved();
    await using ctx = await startTestServer(testApi, testApiOptions(observed));
    await using client = connectClient(testApi, ctx.url, options());
    const controller = new AbortController();
    const pending = outcomeOf(client.call.waitForAbort({ key: 'c' }, { signal: controller.signal }));
    await vi.waitFor(() => expect(ctx.server.stats().inFlightCalls).toBe(1));
    controller.abort();
    expect(await pending).toMatchObject({ ok: false, code: 'CANCELLED' });
    await vi.waitFor(() => expect(observed.aborts.get('c')).toMatchObject({ code: 'CANCELLED' }));
    const late = await outcomeOf(client.call.waitForAbort({ key: 't' }, { timeoutMs: 100 }));
    expect(late).toMatchObject({ ok: false, code: 'TIMEOUT' });
    await vi.waitFor(() => expect(observed.aborts.get('t')).toMatchObject({ code: 'TIMEOUT' }));
  });

  it('delivers events by stream key, with params, and stops after unsubscribe', async () => {
    await using ctx = await startTestServer(testApi, testApiOptions());
    await using client = connectClient(testApi, ctx.url, options());
    const ticks: { seq: number; at: Date; id: string | undefined }[] = [];
    const roomA: string[] = [];
    const offTick = client.on('tick', (tick, meta) => ticks.push({ ...tick, id: meta.id }));
    client.on('chatMessage', { room: 'a' }, (message) => roomA.push(message.text));
    await vi.waitFor(() => expect(ctx.server.stats().subscriptions).toBe(2));
    await ctx.server.emit('tick', { seq: 1, at: new Date(5) });
    await ctx.server.emit('chatMessage', { room: 'b', text: 'not for a', at: new Date() }, { params: { room: 'b' } });
    await ctx.server.emit('chatMessage', { room: 'a', text: 'for a', at: new Date() }, { params: { room: 'a' } });
    await vi.waitFor(() => expect(roomA).toEqual(['for a']));
    expect(ticks).toHaveLength(1);
    expect(ticks[0]!.at).toBeInstanceOf(Date);
    expect(ticks[0]!.id).toMatch(/:1$/);
    offTick();
    await vi.waitFor(() => expect(ctx.server.stats().subscriptions).toBe(1));
    await ctx.server.emit('tick', { seq: 2, at: new Date() });
    await ctx.server.emit('chatMessage', { room: 'a', text: 'again', at: new Date() }, { params: { room: 'a' } });
    await vi.waitFor(() => expect(roomA).toEqual(['for a', 'again']));
    expect(ticks).toHaveLength(1);
  });

  it('resumes after a reconnect: events published meanwhile arrive once each, in order', async () => {
    await using ctx = await startTestServer(testApi, testApiOptions());
    await using client = connectClient(testApi, ctx.url, { ...options(), reconnect: { minDelayMs: 50, jitter: 0 } });
    const seen: number[] = [];
    client.on('tick', (tick) => seen.push(tick.seq));
    await vi.waitFor(() => expect(ctx.server.stats().subscriptions).toBe(1));
    await ctx.server.emit('tick', { seq: 1, at: new Date() });
    await vi.waitFor(() => expect(seen).toEqual([1]));
    const states = recordStates(client);
    const reopened = nextState(client, 'open');
    client.reconnect();
    for (let seq = 2; seq <= 5; seq++) await ctx.server.emit('tick', { seq, at: new Date() });
    await reopened;
    await ctx.server.emit('tick', { seq: 6, at: new Date() });
    await vi.waitFor(() => expect(seen).toEqual([1, 2, 3, 4, 5, 6]));
    expect(states.map((change) => change.state)).toContain('reconnecting');
  });

  it('runs an idempotent call once per key, and answers a ping', async () => {
    const observed = newObserved();
    await using ctx = await startTestServer(testApi, testApiOptions(observed));
    await using client = connectClient(testApi, ctx.url, options());
    await client.call.getUser({ id: 'once' });
    expect(observed.runs.get('getUser:once')).toBe(1);
    expect(typeof (await client.ping())).toBe('number');
  });

  it('streams a procedure’s items under credits, with its final value', async () => {
    await using ctx = await startTestServer(countApi, {
      handlers: {
        count: async function* ({ input }) {
          for (let n = 1; n <= input.to; n++) yield await Promise.resolve({ n });
          return 'done';
        },
      },
    });
    await using client = connectClient(countApi, ctx.url, { ...options(), streams });
    const call = client.call.count({ to: 40 }, { window: 4 });
    const items: number[] = [];
    for await (const { n } of call) items.push(n);
    expect(items).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(await call.result).toBe('done');
  });

  it('tells the server the client left (1000) when it closes', async () => {
    const closes: { code: number }[] = [];
    const connected: ConnectionInfo[] = [];
    await using ctx = await startTestServer(testApi, {
      ...testApiOptions(),
      hooks: { onConnection: (c) => connected.push(c), onDisconnect: (_c, close) => closes.push(close) },
    });
    const client = connectClient(testApi, ctx.url, options());
    await client.call.add({ a: 1, b: 1 });
    await client.close();
    await vi.waitFor(() => expect(closes).toEqual([expect.objectContaining({ code: 1000 })]));
    expect(connected).toHaveLength(1);
    const after = await outcomeOf(client.call.add({ a: 1, b: 1 }));
    expect(after.ok === false && isWirecallError(after.error) && after.error.code).toBe('CLOSED');
  });
}
