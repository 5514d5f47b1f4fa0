import type { WirecallClient } from '@wirecall/client';
import { describe, expect, it, vi } from 'vitest';
import { label, mulberry32, nextState, outcomeOf, recordingClientLogger, settledNow } from '../helpers/chaos-kit.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { resilienceApi, resilienceHandlers, type ResilienceServer } from '../helpers/resilience-api.js';
import { newObserved, testApiOptions } from '../helpers/test-handlers.js';
import { connectClient, startTestServer } from '../helpers/test-server.js';
import { testApi, type TestApi } from '../helpers/fixtures.js';

const reconnectFast = { minDelayMs: 5, maxDelayMs: 20 };

/** Takes the network away (connections are reset as they arrive) and waits for the client to notice. */
async function goOffline(
  client: Pick<WirecallClient<TestApi>, 'state' | 'onStateChange'>,
  proxy: FaultProxy,
): Promise<void> {
  if (client.state !== 'open') await nextState(client, 'open');
  const down = nextState(client, 'reconnecting');
  proxy.setEnabled(false);
  await down;
}

describe('calls made while the client is reconnecting', () => {
  it("whenOffline 'queue' (the default): they wait, are sent after the reconnect, and resolve", async () => {
    const observed = newObserved();
    await using ctx = await startTestServer(testApi, testApiOptions(observed));
    await using proxy = await startFaultProxy(ctx.port);
    await using client = connectClient(testApi, proxy.url, {
      reconnect: reconnectFast,
      random: mulberry32(1),
      logger: recordingClientLogger(),
    });
    await goOffline(client, proxy);

    const sum = client.call.add({ a: 2, b: 2 });
    const user = client.call.getUser({ id: 'queued' });
    const slept = client.call.sleep({ ms: 0, tag: 'queued' }, { whenOffline: 'queue' });
    expect(client.pending.calls).toBe(3);
    // The outage lasts: two more reconnect attempts fail meanwhile, and the calls stay queued.
    for (let attempt = 0; attempt < 2; attempt++) {
      expect(await nextState(client, 'reconnecting')).toMatchObject({ previous: 'reconnecting', closeCode: 1006 });
    }
    expect(client.state).toBe('reconnecting');
    expect(label(await settledNow(sum))).toBe('pending');
    expect(observed.runs.size).toBe(0); // nothing reached the server

    const up = nextState(client, 'open');
    proxy.setEnabled(true);
    await up;
    expect(await sum).toBe(4);
    expect((await user).id).toBe('queued');
    expect(await slept).toBe('queued');
    expect(observed.runs.get('sleep:queued')).toBe(1);
    expect(client.pending.calls).toBe(0);
  });

  it("whenOffline 'fail': rejects at once with UNAVAILABLE, and the call is never sent", async () => {
    const observed = newObserved();
    await using ctx = await startTestServer(testApi, testApiOptions(observed));
    await using proxy = await startFaultProxy(ctx.port);
    await using client = connectClient(testApi, proxy.url, {
      reconnect: reconnectFast,
      random: mulberry32(2),
      logger: recordingClientLogger(),
    });
    await goOffline(client, proxy);

    const failed = await settledNow(client.call.sleep({ ms: 0, tag: 'fail-fast' }, { whenOffline: 'fail' }));
    expect(label(failed)).toBe('UNAVAILABLE');
    expect(client.pending.calls).toBe(0);

    const up = nextState(client, 'open');
    proxy.setEnabled(true);
    await up;
    expect(await client.call.sleep({ ms: 0, tag: 'after' }, { whenOffline: 'fail' })).toBe('after');
    expect(observed.runs.get('sleep:fail-fast')).toBeUndefined();
  });

  it('past maxQueuedCalls a call fails at once with UNAVAILABLE; the queued ones still resolve', async () => {
    const observed = newObserved();
    await using ctx = await startTestServer(testApi, testApiOptions(observed));
    await using proxy = await startFaultProxy(ctx.port);
    await using client = connectClient(testApi, proxy.url, {
      reconnect: reconnectFast,
      random: mulberry32(3),
      maxQueuedCalls: 3,
      logger: recordingClientLogger(),
    });
    await goOffline(client, proxy);

    const queued = [1, 2, 3].map((n) => client.call.sleep({ ms: 0, tag: `q${n}` }));
    const overflow = await settledNow(client.call.sleep({ ms: 0, tag: 'overflow' }));
    expect(label(overflow)).toBe('UNAVAILABLE');
    expect(overflow !== 'pending' && !overflow.ok && String(overflow.error)).toContain('queue is full');
    expect(client.pending.calls).toBe(3);

    const up = nextState(client, 'open');
    proxy.setEnabled(true);
    await up;
    expect(await Promise.all(queued)).toEqual(['q1', 'q2', 'q3']);
    expect(observed.runs.get('sleep:overflow')).toBeUndefined();
    // The queue drained: there is room again.
    expect(await client.call.sleep({ ms: 0, tag: 'room' })).toBe('room');
  });

  it('subscriptions are restored before queued calls: an event a queued call triggers is received', async () => {
    // No history: an event emitted before the subscription is back could never be replayed.
    await using ctx: ResilienceServer = await startTestServer(resilienceApi, {
      handlers: resilienceHandlers(() => ctx.server),
      history: { maxEvents: 0 },
    });
    await using proxy = await startFaultProxy(ctx.port);
    await using client = connectClient(resilienceApi, proxy.url, {
      reconnect: reconnectFast,
      random: mulberry32(4),
      logger: recordingClientLogger(),
    });
    const notes: string[] = [];
    client.on('note', (note) => notes.push(note.text));
    await vi.waitFor(() => expect(ctx.server.stats().subscriptions).toBe(1), { timeout: 5_000, interval: 2 });
    await goOffline(client, proxy);
    await vi.waitFor(() => expect(ctx.server.stats().subscriptions).toBe(0), { timeout: 5_000, interval: 2 });

    const announced = outcomeOf(client.call.announce({ text: 'after reconnect' }));
    proxy.setEnabled(true);
    expect(await announced).toEqual({ ok: true, value: 'after reconnect' });
    await vi.waitFor(() => expect(notes).toEqual(['after reconnect']), { timeout: 5_000, interval: 2 });
  });

  it('the same holds for the first connection: on() and a call made before it opens', async () => {
    await using ctx: ResilienceServer = await startTestServer(resilienceApi, {
      handlers: resilienceHandlers(() => ctx.server),
      history: { maxEvents: 0 },
    });
    await using client = connectClient(resilienceApi, ctx.url, { logger: recordingClientLogger() });
    const notes: string[] = [];
    client.on('note', (note) => notes.push(note.text));
    expect(client.state).toBe('connecting');
    expect(await client.call.announce({ text: 'first' })).toBe('first');
    await vi.waitFor(() => expect(notes).toEqual(['first']), { timeout: 5_000, interval: 2 });
  });
});
