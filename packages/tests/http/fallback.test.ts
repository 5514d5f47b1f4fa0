/**
 * The client falls back by itself: behind a proxy that refuses WebSocket upgrades (403, as
 * middleboxes do), `transport: 'auto'` moves to HTTP + SSE after `afterFailures` failed attempts,
 * keeps the same API, and moves back to a WebSocket once a probe gets through. Real sockets through
 * a real HTTP proxy on 127.0.0.1.
 */
import { httpTransport } from '@wirecall/client/http';
import type { StateChange } from '@wirecall/client';
import { describe, expect, it, vi } from 'vitest';
import { nextState, recordStates } from '../helpers/chaos-kit.js';
import { testApi } from '../helpers/fixtures.js';
import { testApiOptions } from '../helpers/test-handlers.js';
import { connectClient, startTestServer } from '../helpers/test-server.js';
import { startBlockingProxy } from './upgrade-blocking-proxy.js';

const fast = { reconnect: { minDelayMs: 20, maxDelayMs: 50 } } as const;

describe('falling back to HTTP', () => {
  it('moves to HTTP after failed upgrades and works the same: calls, events, resume', async () => {
    await using ctx = await startTestServer(testApi, testApiOptions());
    await using proxy = await startBlockingProxy(`http://127.0.0.1:${ctx.port}`);
    await using client = connectClient(testApi, `ws://127.0.0.1:${proxy.port}`, { ...fast, http: httpTransport() });
    const states = recordStates(client);
    const opened = await nextState(client, 'open');
    expect(opened.transport).toBe('http');
    expect(proxy.refusedUpgrades).toBe(2);
    expect(states.filter((change) => change.state === 'reconnecting').map((change) => change.transport)).toEqual([
      'websocket',
      'websocket',
    ]);
    const seen: number[] = [];
    client.on('tick', (tick) => seen.push(tick.seq));
    expect(await client.call.add({ a: 20, b: 22 })).toBe(42);
    await vi.waitFor(() => expect(ctx.server.stats().subscriptions).toBe(1));
    await ctx.server.emit('tick', { seq: 1, at: new Date() });
    await vi.waitFor(() => expect(seen).toEqual([1]));
    // A drop on HTTP: the client reconnects over HTTP (the WebSocket is not retried yet) and resumes.
    const reopened = nextState(client, 'open');
    client.reconnect();
    await ctx.server.emit('tick', { seq: 2, at: new Date() });
    expect((await reopened).transport).toBe('http');
    await vi.waitFor(() => expect(seen).toEqual([1, 2]));
    expect(proxy.refusedUpgrades).toBe(2);
  });

  it('does not fall back on its own with transport "websocket", nor without the http option', async () => {
    await using ctx = await startTestServer(testApi, testApiOptions());
    await using proxy = await startBlockingProxy(`http://127.0.0.1:${ctx.port}`);
    await using client = connectClient(testApi, `ws://127.0.0.1:${proxy.port}`, {
      reconnect: { minDelayMs: 20, maxDelayMs: 50, maxAttempts: 3, maxRefusals: 10 },
      http: httpTransport(),
      transport: 'websocket',
    });
    const closed = await nextState(client, 'closed');
    expect(closed.transport).toBeUndefined();
    expect(proxy.refusedUpgrades).toBe(4);
    expect(() => connectClient(testApi, 'ws://127.0.0.1:1', { transport: 'http' })).toThrow(/httpTransport/);
  });

  it('moves back to a WebSocket once a probe gets through, and keeps its subscriptions', async () => {
    await using ctx = await startTestServer(testApi, testApiOptions());
    await using proxy = await startBlockingProxy(`http://127.0.0.1:${ctx.port}`);
    await using client = connectClient(testApi, `ws://127.0.0.1:${proxy.port}`, {
      ...fast,
      http: httpTransport(),
      fallback: { afterFailures: 1, retryWebSocketMs: 100 },
    });
    expect((await nextState(client, 'open')).transport).toBe('http');
    const seen: number[] = [];
    client.on('tick', (tick) => seen.push(tick.seq));
    await vi.waitFor(() => expect(ctx.server.stats().subscriptions).toBe(1));
    await ctx.server.emit('tick', { seq: 1, at: new Date() });
    await vi.waitFor(() => expect(seen).toEqual([1]));
    const changes: StateChange[] = recordStates(client);
    proxy.blockUpgrades = false;
    await vi.waitFor(() => expect(changes.at(-1)).toMatchObject({ state: 'open', transport: 'websocket' }), {
      timeout: 5_000,
    });
    await ctx.server.emit('tick', { seq: 2, at: new Date() });
    await vi.waitFor(() => expect(seen).toEqual([1, 2]));
    expect(await client.call.add({ a: 1, b: 1 })).toBe(2);
  });
});
