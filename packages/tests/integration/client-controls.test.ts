import { describe, expect, it, vi } from 'vitest';
import { rejectionOf } from '../helpers/rejection.js';
import { connectClient, startTestServer } from '../helpers/test-server.js';
import type { StateChange } from '@wirecall/client';
import { testApiOptions } from '../helpers/test-handlers.js';
import { testApi } from '../helpers/fixtures.js';

/** What the app can ask of its connection: the round-trip time now, and a fresh connection now. */
describe('client controls', () => {
  it('ping() resolves with the round-trip time, which state changes then report', async () => {
    await using ctx = await startTestServer(testApi, testApiOptions());
    await using client = connectClient(testApi, ctx.url);
    await client.call.add({ a: 1, b: 1 });

    const rtts = await Promise.all([client.ping(), client.ping(), client.ping()]);
    for (const rtt of rtts) {
      expect(Number.isFinite(rtt)).toBe(true);
      expect(rtt).toBeGreaterThanOrEqual(0);
    }
    const changes: StateChange[] = [];
    client.onStateChange((change) => changes.push(change));
    client.reconnect();
    await vi.waitFor(() => expect(changes.map(({ state }) => state)).toEqual(['reconnecting', 'open']));
    expect(changes[0]!.rttMs).toBe(rtts[2]);
  });

  it('ping() fails with UNAVAILABLE while not connected', async () => {
    // Port 1 on loopback: nothing listens there, so the client never connects.
    await using client = connectClient(testApi, 'ws://127.0.0.1:1', { reconnect: false });
    expect((await rejectionOf(client.ping())).code).toBe('UNAVAILABLE');
  });

  it('reconnect() makes a new connection now, with fresh connection params, keeping subscriptions', async () => {
    const connections: unknown[] = [];
    await using ctx = await startTestServer(testApi, {
      ...testApiOptions(),
      hooks: { onConnection: (connection) => connections.push(connection) },
    });
    let token = 0;
    const seenParams: unknown[] = [];
    await using client = connectClient(testApi, ctx.url, {
      connectionParams: () => {
        token++;
        seenParams.push(token);
        return undefined;
      },
    });
    const ticks: number[] = [];
    client.on('tick', ({ seq }) => ticks.push(seq));
    await vi.waitFor(() => expect(ctx.server.stats().subscriptions).toBe(1));
    await ctx.server.emit('tick', { seq: 1, at: new Date() });
    await vi.waitFor(() => expect(ticks).toEqual([1]));

    client.reconnect();
    const queued = client.call.add({ a: 2, b: 3 }); // waits for the new connection
    await expect(queued).resolves.toBe(5);
    expect(connections).toHaveLength(2);
    expect(seenParams).toEqual([1, 2]);
    await vi.waitFor(() => expect(ctx.server.stats()).toMatchObject({ connections: 1, subscriptions: 1 }));
    await ctx.server.emit('tick', { seq: 2, at: new Date() });
    await vi.waitFor(() => expect(ticks).toEqual([1, 2]));
  });
});
