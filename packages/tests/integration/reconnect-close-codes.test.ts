import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import { WirecallError, type ServerOptions } from '@wirecall/server';
import { testApi, type TestApi } from '../helpers/fixtures.js';
import {
  documentedBackoff,
  label,
  mulberry32,
  nextState,
  outcomeOf,
  recordStates,
  recordingClientLogger,
  settledNow,
  type BackoffSchedule,
} from '../helpers/chaos-kit.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import {
  newResilienceRuns,
  resilienceApi,
  resilienceHandlers,
  type ResilienceServer,
} from '../helpers/resilience-api.js';
import { testApiOptions } from '../helpers/test-handlers.js';
import { connectClient, startTestServer } from '../helpers/test-server.js';

const SEED = 0xc0de;

describe('what the client does with each way a connection ends', () => {
  it('1001 (server.close): reconnects at once on the first try, then backs off until the new server is up', async () => {
    const first = await startTestServer(testApi, testApiOptions());
    await using client = connectClient(testApi, first.url, {
      reconnect: { minDelayMs: 20, maxDelayMs: 100 },
      random: mulberry32(SEED),
      logger: recordingClientLogger(),
    });
    await nextState(client, 'open');
    const changes = recordStates(client);
    await first.server.close({ graceMs: 0 });
    await vi.waitFor(() => expect(changes.length).toBeGreaterThan(0), { timeout: 5_000, interval: 2 });
    expect(changes[0]).toMatchObject({
      state: 'reconnecting',
      previous: 'open',
      attempt: 1,
      delayMs: 0,
      closeCode: 1001,
    });
    // The immediate retry finds nothing listening: the next ones are ordinary failures (1006), backed off.
    await vi.waitFor(() => expect(changes.length).toBeGreaterThanOrEqual(2), { timeout: 5_000, interval: 2 });
    await using second = await startTestServer(testApi, { ...testApiOptions(), port: first.port });
    if (client.state !== 'open') await nextState(client, 'open');
    const retries = changes.filter((change) => change.state === 'reconnecting').slice(1);
    expect(retries.length).toBeGreaterThan(0);
    for (const [index, change] of retries.entries()) {
      expect(change).toMatchObject({ attempt: index + 2, closeCode: 1006 });
    }
    expect(await client.call.add({ a: 1, b: 2 })).toBe(3);
    expect(second.server.stats().connections).toBe(1);
  });

  it('reconnect: false: a drop ends in closed, every pending call rejects, and nothing reconnects', async () => {
    const runs = newResilienceRuns();
    await using ctx: ResilienceServer = await startTestServer(resilienceApi, {
      handlers: resilienceHandlers(() => ctx.server, runs),
    });
    await using proxy = await startFaultProxy(ctx.port);
    await using client = connectClient(resilienceApi, proxy.url, { reconnect: false, logger: recordingClientLogger() });
    await nextState(client, 'open');
    const charge = outcomeOf(client.call.charge({ tag: 'in-flight', ms: 5_000 }));
    // Even an idempotent call: there is no next connection to retry it on.
    const lookup = outcomeOf(client.call.lookup({ id: 'in-flight', ms: 5_000 }));
    await vi.waitFor(() => expect(runs.started.size).toBe(2), { timeout: 5_000, interval: 2 });

    const closed = nextState(client, 'closed');
    proxy.resetAll();
    expect(await closed).toMatchObject({
      previous: 'open',
      attempt: 1,
      closeCode: 1006,
      error: { code: 'CONNECTION_LOST' },
    });
    expect(label(await charge)).toBe('CONNECTION_LOST');
    expect(label(await lookup)).toBe('CONNECTION_LOST');
    // Later calls reject at once with the error that ended the connection.
    expect(label(await settledNow(client.call.announce({ text: 'late' })))).toBe('CONNECTION_LOST');

    await delay(200); // a fixed wait on purpose: nothing may happen in it (no reconnect)
    expect(client.state).toBe('closed');
    expect(proxy.accepted).toBe(1);
  });

  it('4409 (strictContract, another contract): backs off, stops after maxRefusals, no storm', async () => {
    await using ctx = await startTestServer(testApi, { ...testApiOptions(), strictContract: true });
    await using proxy = await startFaultProxy(ctx.port);
    const schedule: BackoffSchedule = { minDelayMs: 10, maxDelayMs: 50, factor: 2, jitter: 1 };
    const logger = recordingClientLogger();
    await using client = connectClient(resilienceApi, proxy.url, {
      reconnect: { ...schedule, maxRefusals: 3 },
      random: mulberry32(SEED),
      logger,
    });
    const changes = recordStates(client);
    const queued = outcomeOf(client.call.charge({ tag: 'refused', ms: 0 }));

    const final = await nextState(client, 'closed');
    expect(final).toMatchObject({ previous: 'reconnecting', attempt: 3, closeCode: 4409 });
    expect(final.error?.message).toContain('contracts differ');
    const retries = changes.filter((change) => change.state === 'reconnecting');
    expect(retries.map((change) => change.closeCode)).toEqual([4409, 4409]);
    // Refusals back off like failures (never a 0 ms retry loop).
    const reference = mulberry32(SEED);
    expect(retries.map((change) => change.delayMs)).toEqual(
      [1, 2].map((n) => documentedBackoff(n, schedule, reference)),
    );
    expect(label(await queued)).toBe(final.error?.code);

    expect(proxy.accepted).toBe(3);
    await delay(300); // a fixed wait on purpose: nothing may happen in it (no reconnect storm)
    expect(proxy.accepted).toBe(3);
    expect(client.state).toBe('closed');
  });

  // The same refusal through both doors: `context` closes with 4401 after hello; `authenticate`
  // answers the upgrade with HTTP 401, which the Node client maps to the same refusal.
  const refusals: [string, Partial<ServerOptions<TestApi, { connectedAt: number }>>][] = [
    [
      'an auth refusal (context throws UNAUTHORIZED)',
      {
        context: () => {
          throw new WirecallError('UNAUTHORIZED', 'token expired');
        },
      },
    ],
    [
      'an upgrade refused with HTTP 401 (authenticate throws UNAUTHORIZED)',
      {
        authenticate: () => {
          throw new WirecallError('UNAUTHORIZED', 'no session cookie');
        },
      },
    ],
  ];

  it.each(refusals)('%s stops after maxRefusals and reports UNAUTHORIZED', async (_name, overrides) => {
    await using ctx = await startTestServer(testApi, { ...testApiOptions(), ...overrides });
    await using proxy = await startFaultProxy(ctx.port);
    await using client = connectClient(testApi, proxy.url, {
      reconnect: { minDelayMs: 5, maxDelayMs: 20, maxRefusals: 3 },
      random: mulberry32(SEED),
      logger: recordingClientLogger(),
    });
    const changes = recordStates(client);
    const queued = outcomeOf(client.call.add({ a: 1, b: 1 }, { timeoutMs: 3_000 }));
    await vi.waitFor(() => expect(proxy.accepted).toBeGreaterThanOrEqual(3), { timeout: 5_000, interval: 5 });
    await delay(300); // a fixed wait on purpose: nothing may happen in it (no attempt past maxRefusals)
    expect(
      { accepted: proxy.accepted, state: client.state },
      `state changes: ${JSON.stringify(changes.map(({ state, closeCode, error }) => [state, closeCode, error?.code]))}`,
    ).toEqual({ accepted: 3, state: 'closed' });
    expect(changes.at(-1)).toMatchObject({ state: 'closed', error: { code: 'UNAUTHORIZED' } });
    expect(label(await queued)).toBe('UNAUTHORIZED');
  });
});
