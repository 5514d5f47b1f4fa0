import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import { label, mulberry32, nextState, recordingClientLogger, settleWithin } from '../helpers/chaos-kit.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { connectClient, startTestServer } from '../helpers/test-server.js';
import { testApiOptions } from '../helpers/test-handlers.js';
import { testApi } from '../helpers/fixtures.js';

const SEED = 0x4a1f;

describe('a half-open connection (black hole: bytes stop, nothing closes)', () => {
  it('is detected by the client heartbeat, replaced once the network is back, and calls made meanwhile settle', async () => {
    await using ctx = await startTestServer(testApi, testApiOptions());
    await using proxy = await startFaultProxy(ctx.port);
    const logger = recordingClientLogger();
    await using client = connectClient(testApi, proxy.url, {
      heartbeat: { intervalMs: 100, timeoutMs: 400 },
      reconnect: { minDelayMs: 20, maxDelayMs: 200 },
      random: mulberry32(SEED),
      logger,
    });
    const ticks: number[] = [];
    client.on('tick', (tick) => ticks.push(tick.seq));
    await vi.waitFor(() => expect(ctx.server.stats().subscriptions).toBe(1), { timeout: 5_000, interval: 5 });
    expect(client.state).toBe('open');

    const down = nextState(client, 'reconnecting');
    proxy.blackhole(true);
    // Sent on the socket that just died: the client cannot know yet.
    const inFlight = client.call.getUser({ id: 'during-black-hole' }, { timeoutMs: 1_000 });
    const lost = await down;
    expect(lost).toMatchObject({ previous: 'open', closeCode: 1006, error: { code: 'CONNECTION_LOST' } });
    expect(lost.error?.message).toContain('heartbeat timed out');

    // Made while the client knows it is offline: queued (whenOffline defaults to 'queue').
    const queued = client.call.add({ a: 2, b: 3 }, { timeoutMs: 1_000 });
    // The outage lasts: the next reconnect attempt is black-holed too, and gives up at its connect timeout.
    const retryLost = await nextState(client, 'reconnecting');
    expect(retryLost).toMatchObject({ previous: 'reconnecting', closeCode: 1006, error: { code: 'CONNECTION_LOST' } });
    expect(retryLost.error?.message).toContain('connect timed out');
    expect(client.state).toBe('reconnecting');

    const up = nextState(client, 'open');
    proxy.blackhole(false);
    await up;

    // Each call settles, either way, and none hangs past its deadline.
    const first = await settleWithin(inFlight, 5_000);
    expect(['resolved', 'TIMEOUT']).toContain(label(first));
    if (first !== 'hung' && first.ok) expect(first.value.id).toBe('during-black-hole');
    const second = await settleWithin(queued, 5_000);
    expect(['resolved', 'TIMEOUT']).toContain(label(second));
    if (second !== 'hung' && second.ok) expect(second.value).toBe(5);

    // The new connection works: calls and the restored subscription.
    expect(await client.call.add({ a: 1, b: 1 })).toBe(2);
    await vi.waitFor(() => expect(ctx.server.stats().subscriptions).toBeGreaterThanOrEqual(1), { timeout: 5_000 });
    await ctx.server.emit('tick', { seq: 42, at: new Date() });
    await vi.waitFor(() => expect(ticks).toContain(42), { timeout: 5_000, interval: 5 });
    expect(client.pending.calls).toBe(0);
    expect(logger.entries).toEqual([]);
  });

  it('is detected by the server heartbeat: the connection is terminated and its subscriptions freed', async () => {
    await using ctx = await startTestServer(testApi, {
      ...testApiOptions(),
      heartbeat: { intervalMs: 100, timeoutMs: 300 },
    });
    await using proxy = await startFaultProxy(ctx.port);
    // No client heartbeat: only the server can notice.
    await using client = connectClient(testApi, proxy.url, {
      heartbeat: false,
      reconnect: { minDelayMs: 10, maxDelayMs: 50 },
      random: mulberry32(SEED),
      logger: recordingClientLogger(),
    });
    client.on('tick', () => {});
    client.on('chatMessage', { room: 'a' }, () => {});
    await vi.waitFor(() => expect(ctx.server.stats()).toMatchObject({ connections: 1, subscriptions: 2 }), {
      timeout: 5_000,
      interval: 5,
    });
    // Pings are answered: a healthy idle connection survives several heartbeat periods. A fixed wait
    // on purpose: nothing is meant to happen in it (the server must not terminate the connection).
    await delay(500);
    expect(ctx.server.stats()).toMatchObject({ connections: 1, subscriptions: 2 });

    proxy.blackhole(true);
    await vi.waitFor(
      () => expect(ctx.server.stats()).toMatchObject({ connections: 0, inFlightCalls: 0, subscriptions: 0 }),
      {
        timeout: 5_000,
        interval: 10,
      },
    );
    // The client heard nothing (its heartbeat is off): the link is half-open from its side.
    expect(client.state).toBe('open');

    // The network comes back: the lost close reaches the client, which reconnects and resubscribes.
    const up = nextState(client, 'open');
    proxy.blackhole(false);
    await up;
    await vi.waitFor(() => expect(ctx.server.stats()).toMatchObject({ connections: 1, subscriptions: 2 }), {
      timeout: 5_000,
      interval: 5,
    });
  });
});
