import { describe, expect, it, vi } from 'vitest';
import { mulberry32, nextState, outcomeOf, recordingClientLogger } from '../helpers/chaos-kit.js';
import { newObserved, testApiOptions } from '../helpers/test-handlers.js';
import { connectClient, startTestServer } from '../helpers/test-server.js';
import { testApi } from '../helpers/fixtures.js';

describe('server.close({ graceMs }) with calls in flight', () => {
  it('lets the call finish, then closes with 1001; the client reconnects to the server started in its place', async () => {
    const firstObserved = newObserved();
    const first = await startTestServer(testApi, testApiOptions(firstObserved));
    await using client = connectClient(testApi, first.url, {
      reconnect: { minDelayMs: 10, maxDelayMs: 50 },
      random: mulberry32(0x6ace),
      logger: recordingClientLogger(),
    });
    await nextState(client, 'open');

    const order: string[] = [];
    client.onStateChange((change) => order.push(`${change.state}:${change.closeCode ?? ''}:${change.delayMs ?? ''}`));
    const inFlight = client.call.sleep({ ms: 300, tag: 'in-flight' }).then((value) => {
      order.push(`result:${value}`);
      return value;
    });
    await vi.waitFor(() => expect(first.server.stats().inFlightCalls).toBe(1), { timeout: 5_000, interval: 2 });

    const down = nextState(client, 'reconnecting');
    const closing = first.server.close({ graceMs: 5_000 });
    // A call that arrives during the grace period is refused as UNAVAILABLE (not run) and held by the
    // client for the next connection.
    const duringGrace = outcomeOf(client.call.sleep({ ms: 0, tag: 'during-grace' }));
    await closing;
    await down;

    expect(await inFlight).toBe('in-flight');
    expect(firstObserved.runs.get('sleep:in-flight')).toBe(1);
    // The answer came first, then the 1001 close, reconnecting with no delay.
    expect(order.slice(0, 2)).toEqual(['result:in-flight', 'reconnecting:1001:0']);
    expect(first.server.stats()).toMatchObject({ connections: 0, inFlightCalls: 0, subscriptions: 0 });

    const secondObserved = newObserved();
    await using second = await startTestServer(testApi, { ...testApiOptions(secondObserved), port: first.port });
    expect(await duringGrace).toEqual({ ok: true, value: 'during-grace' });
    expect(firstObserved.runs.get('sleep:during-grace')).toBeUndefined();
    expect(secondObserved.runs.get('sleep:during-grace')).toBe(1);
    expect(client.state).toBe('open');
    expect(await client.call.add({ a: 1, b: 2 })).toBe(3);
    expect(second.server.stats().connections).toBe(1);
  });

  it('a call still running when graceMs runs out does not delay the close past it', async () => {
    const firstObserved = newObserved();
    const first = await startTestServer(testApi, testApiOptions(firstObserved));
    await using client = connectClient(testApi, first.url, {
      reconnect: { minDelayMs: 10, maxDelayMs: 50 },
      random: mulberry32(0x6acf),
      logger: recordingClientLogger(),
    });
    await nextState(client, 'open');
    const stuck = client.call.waitForAbort({ key: 'grace' }).catch((error: unknown) => error);
    await vi.waitFor(() => expect(first.server.stats().inFlightCalls).toBe(1), { timeout: 5_000, interval: 2 });
    const down = nextState(client, 'reconnecting');
    await first.server.close({ graceMs: 50 });
    expect(await down).toMatchObject({ closeCode: 1001, delayMs: 0 });
    // Its handler's signal fired; the caller learns the call was lost (it is not idempotent).
    await vi.waitFor(() => expect(firstObserved.aborts.has('grace')).toBe(true), { timeout: 5_000, interval: 2 });
    expect(await stuck).toMatchObject({ code: 'CONNECTION_LOST' });
  });
});
