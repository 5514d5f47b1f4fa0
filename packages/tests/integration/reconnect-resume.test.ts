import { describe, expect, it, vi } from 'vitest';
import { mulberry32, nextState, recordingClientLogger } from '../helpers/chaos-kit.js';
import type { SocketConstructor, WirecallClient } from '@wirecall/client';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { recordingWebSocket, type WireEntry } from '../helpers/raw-client.js';
import { testApiOptions, type TestApiServer } from '../helpers/test-handlers.js';
import { connectClient, startTestServer } from '../helpers/test-server.js';
import { testApi, type TestApi } from '../helpers/fixtures.js';

interface Subscriber {
  events: { id: string; seq: number }[];
  /** events.length when each gap notice arrived. */
  gapsAt: number[];
}

function subscribeTicks(client: WirecallClient<TestApi>): Subscriber {
  const subscriber: Subscriber = { events: [], gapsAt: [] };
  client.on('tick', (tick, meta) => subscriber.events.push({ id: meta.id ?? '(pushed)', seq: tick.seq }), {
    onGap: () => subscriber.gapsAt.push(subscriber.events.length),
  });
  return subscriber;
}

async function emitTicks(ctx: TestApiServer, seqs: number[]): Promise<string[]> {
  const ids: string[] = [];
  for (const seq of seqs) ids.push(await ctx.server.emit('tick', { seq, at: new Date() }));
  return ids;
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Cuts the network until `online()`: the client is reconnecting and the server has dropped its subscription. */
async function goOffline(ctx: TestApiServer, client: WirecallClient<TestApi>, proxy: FaultProxy): Promise<void> {
  const down = nextState(client, 'reconnecting');
  proxy.setEnabled(false);
  await down;
  await vi.waitFor(() => expect(ctx.server.stats().subscriptions).toBe(0), { timeout: 5_000, interval: 2 });
}

async function online(ctx: TestApiServer, client: WirecallClient<TestApi>, proxy: FaultProxy): Promise<void> {
  const up = nextState(client, 'open');
  proxy.setEnabled(true);
  await up;
}

function clientFor(url: string, seed: number, WebSocket?: SocketConstructor): WirecallClient<TestApi> {
  return connectClient(testApi, url, {
    reconnect: { minDelayMs: 5, maxDelayMs: 20 },
    random: mulberry32(seed),
    logger: recordingClientLogger(),
    ...(WebSocket === undefined ? {} : { WebSocket }),
  });
}

describe('resuming a subscription after a drop', () => {
  it('replays what was missed once, in order, with the ids the server assigned, and no gap', async () => {
    await using ctx = await startTestServer(testApi, testApiOptions());
    await using proxy = await startFaultProxy(ctx.port);
    await using client = clientFor(proxy.url, 1);
    const subscriber = subscribeTicks(client);
    await vi.waitFor(() => expect(ctx.server.stats().subscriptions).toBe(1), { timeout: 5_000, interval: 2 });

    const ids = await emitTicks(ctx, range(1, 3));
    await vi.waitFor(() => expect(subscriber.events).toHaveLength(3), { timeout: 5_000, interval: 2 });
    await goOffline(ctx, client, proxy);
    ids.push(...(await emitTicks(ctx, range(4, 10))));
    await online(ctx, client, proxy);
    await vi.waitFor(() => expect(subscriber.events).toHaveLength(10), { timeout: 5_000, interval: 2 });

    expect(subscriber.events.map((event) => event.seq)).toEqual(range(1, 10));
    expect(subscriber.events.map((event) => event.id)).toEqual(ids);
    expect(subscriber.gapsAt).toEqual([]);
    // Live events continue after the replay, once.
    ids.push(...(await emitTicks(ctx, [11])));
    await vi.waitFor(() => expect(subscriber.events.map((event) => event.id)).toEqual(ids), { timeout: 5_000 });
  });

  it('when history does not reach back: one gap notice, then the retained events in order', async () => {
    await using ctx = await startTestServer(testApi, { ...testApiOptions(), history: { maxEvents: 5 } });
    await using proxy = await startFaultProxy(ctx.port);
    await using client = clientFor(proxy.url, 2);
    const subscriber = subscribeTicks(client);
    await vi.waitFor(() => expect(ctx.server.stats().subscriptions).toBe(1), { timeout: 5_000, interval: 2 });

    await emitTicks(ctx, [1, 2]);
    await vi.waitFor(() => expect(subscriber.events).toHaveLength(2), { timeout: 5_000, interval: 2 });
    await goOffline(ctx, client, proxy);
    await emitTicks(ctx, range(3, 20));
    await online(ctx, client, proxy);
    await vi.waitFor(() => expect(subscriber.events).toHaveLength(7), { timeout: 5_000, interval: 2 });

    expect(subscriber.events.map((event) => event.seq)).toEqual([1, 2, ...range(16, 20)]);
    expect(subscriber.gapsAt).toEqual([2]);
  });

  it('a subscriber that drops before its first event resumes from the position it learned, not from the start', async () => {
    await using ctx = await startTestServer(testApi, testApiOptions());
    await emitTicks(ctx, range(1, 3)); // history nobody subscribed to yet
    await using proxy = await startFaultProxy(ctx.port);
    const wire: WireEntry[] = [];
    await using client = clientFor(proxy.url, 3, recordingWebSocket(wire));
    const subscriber = subscribeTicks(client);
    // The position travels in `subscribed`: the scenario starts once the client has received it
    // (a cut while it is still on the wire is the documented unconfirmed case).
    await vi.waitFor(
      () => expect(wire.some((entry) => entry.dir === 'in' && entry.frame?.t === 'subscribed')).toBe(true),
      {
        timeout: 5_000,
        interval: 2,
      },
    );

    await goOffline(ctx, client, proxy);
    await emitTicks(ctx, [4, 5]);
    await online(ctx, client, proxy);
    await vi.waitFor(() => expect(subscriber.events).toHaveLength(2), { timeout: 5_000, interval: 2 });
    expect(subscriber.events.map((event) => event.seq)).toEqual([4, 5]);
    expect(subscriber.gapsAt).toEqual([]);
  });

  it('after a server restart: one gap notice for the lost history, not another for every later reconnect', async () => {
    const first = await startTestServer(testApi, testApiOptions());
    await using proxy = await startFaultProxy(first.port);
    await using client = clientFor(proxy.url, 4);
    const subscriber = subscribeTicks(client);
    await vi.waitFor(() => expect(first.server.stats().subscriptions).toBe(1), { timeout: 5_000, interval: 2 });
    await emitTicks(first, [1, 2, 3]);
    await vi.waitFor(() => expect(subscriber.events).toHaveLength(3), { timeout: 5_000, interval: 2 });

    // The server restarts (new process: new epoch, empty history) and emits nothing for a while.
    await first.server.close({ graceMs: 0 });
    await using second = await startTestServer(testApi, { ...testApiOptions(), port: first.port });
    await vi.waitFor(() => expect(subscriber.gapsAt).toEqual([3]), { timeout: 5_000, interval: 2 });

    // An ordinary cut before the new server's first event: nothing was missed this time.
    const reopened = nextState(client, 'open');
    proxy.resetAll();
    await reopened;
    await vi.waitFor(() => expect(second.server.stats().subscriptions).toBe(1), { timeout: 5_000, interval: 2 });
    await emitTicks(second, [1]);
    await vi.waitFor(() => expect(subscriber.events).toHaveLength(4), { timeout: 5_000, interval: 2 });
    expect(subscriber.events.map((event) => event.seq)).toEqual([1, 2, 3, 1]);
    expect(subscriber.gapsAt, 'gap notices (events received before each)').toEqual([3]);
  });
});
