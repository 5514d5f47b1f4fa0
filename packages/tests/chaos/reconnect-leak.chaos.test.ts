import { setImmediate as nextTurn } from 'node:timers/promises';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { SocketConstructor } from '@wirecall/client';
import { describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { mulberry32, nextState, recordingClientLogger } from '../helpers/chaos-kit.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { connectClient, startTestServer } from '../helpers/test-server.js';
import { testApiOptions } from '../helpers/test-handlers.js';
import { testApi } from '../helpers/fixtures.js';

const CYCLES = 200;

/** `gc()` without restarting node with --expose-gc (the flag is set at runtime, for a fresh context). */
function exposeGc(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

/** The real `ws` socket, with a WeakRef kept to each one the client creates: it is only observed. */
function trackedWebSocket(refs: WeakRef<object>[]): SocketConstructor {
  class TrackedWebSocket extends WebSocket {
    constructor(url: string, protocols: string | string[]) {
      super(url, protocols);
      refs.push(new WeakRef(this));
    }
  }
  return TrackedWebSocket as unknown as SocketConstructor;
}

/** Active handles and timers by type (`TCPSocketWrap`, `Timeout`, ...). */
function resources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1);
  return counts;
}

function total(counts: Map<string, number>): number {
  let sum = 0;
  for (const count of counts.values()) sum += count;
  return sum;
}

describe('resources across reconnect cycles', () => {
  it(`${CYCLES} cuts with a live subscription and calls leak no calls, listeners, sockets, timers or server state`, async () => {
    const gc = exposeGc();
    await using ctx = await startTestServer(testApi, testApiOptions());
    await using proxy = await startFaultProxy(ctx.port);
    const sockets: WeakRef<object>[] = [];
    const logger = recordingClientLogger();
    await using client = connectClient(testApi, proxy.url, {
      WebSocket: trackedWebSocket(sockets),
      reconnect: { minDelayMs: 2, maxDelayMs: 20 },
      random: mulberry32(0x1eaf),
      logger,
    });
    const seen: number[] = [];
    client.on('tick', (tick) => seen.push(tick.seq));
    client.on('chatMessage', { room: 'leak' }, () => {});
    await vi.waitFor(() => expect(ctx.server.stats()).toMatchObject({ connections: 1, subscriptions: 2 }), {
      timeout: 5_000,
      interval: 5,
    });

    const cycle = async (n: number): Promise<void> => {
      const reopened = nextState(client, 'open');
      expect(proxy.resetAll(), `cycle ${n}`).toBe(1);
      await reopened;
      const [sum, user, echoed] = await Promise.all([
        client.call.add({ a: n, b: 1 }),
        client.call.getUser({ id: `leak-${n}` }),
        client.call.echo(n),
      ]);
      expect([sum, user.id, echoed], `cycle ${n}`).toEqual([n + 1, `leak-${n}`, n]);
      // The subscription came back with the connection: an event emitted now arrives.
      await ctx.server.emit('tick', { seq: n, at: new Date() });
      await vi.waitFor(() => expect(seen.at(-1), `cycle ${n}`).toBe(n), { timeout: 5_000, interval: 1 });
    };

    // Warm up (lazy module state, first-use allocations), then take the baseline.
    for (let n = 0; n < 5; n++) await cycle(n);
    await vi.waitFor(() => expect(proxy.open).toBe(1), { timeout: 5_000, interval: 5 });
    const listenersBefore = client.pending.listeners;
    const { connections, inFlightCalls, subscriptions } = ctx.server.stats();
    const statsBefore = { connections, inFlightCalls, subscriptions };
    const resourcesBefore = resources();

    for (let n = 5; n < CYCLES; n++) await cycle(n);

    expect(client.pending.calls).toBe(0);
    expect(client.pending.listeners).toBe(listenersBefore);
    await vi.waitFor(() => expect(ctx.server.stats()).toMatchObject(statsBefore), { timeout: 5_000, interval: 5 });
    expect(statsBefore).toEqual({ connections: 1, inFlightCalls: 0, subscriptions: 2 });
    await vi.waitFor(() => expect(proxy.open).toBe(1), { timeout: 5_000, interval: 5 });
    // Sockets closing on both ends of the cut take a few turns to release their handles.
    await vi.waitFor(
      () => {
        const after = resources();
        expect(
          total(after) - total(resourcesBefore),
          `active resources grew: before ${JSON.stringify([...resourcesBefore])}, after ${JSON.stringify([...after])}`,
        ).toBeLessThanOrEqual(3);
      },
      { timeout: 5_000, interval: 20 },
    );

    // Every replaced socket can be collected: nothing (heartbeat, listener, closure) holds on to it.
    expect(sockets.length).toBeGreaterThanOrEqual(CYCLES);
    await vi.waitFor(
      async () => {
        await nextTurn();
        gc();
        const alive = sockets.filter((ref) => ref.deref() !== undefined).length;
        expect(alive, `${alive} of ${sockets.length} client sockets still reachable`).toBeLessThanOrEqual(2);
      },
      { timeout: 5_000, interval: 50 },
    );
    expect(logger.entries).toEqual([]);
  }, 45_000);
});
