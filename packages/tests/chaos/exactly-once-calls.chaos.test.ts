import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import {
  chaosSeed,
  dice,
  label,
  mulberry32,
  nextState,
  outcomeOf,
  recordingClientLogger,
  type Outcome,
} from '../helpers/chaos-kit.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import {
  newResilienceRuns,
  resilienceApi,
  resilienceHandlers,
  type ResilienceServer,
} from '../helpers/resilience-api.js';
import { newObserved, testApiOptions } from '../helpers/test-handlers.js';
import { connectClient, startTestServer } from '../helpers/test-server.js';
import { testApi } from '../helpers/fixtures.js';

describe('calls through repeated connection cuts', () => {
  it('never runs a non-idempotent call twice, and completes every idempotent call (seeded mix)', async () => {
    const seed = chaosSeed();
    const rng = dice(seed);
    const why = (what: string): string => `${what} (seed ${seed}; replay with WIRECALL_SEED=${seed})`;
    const observed = newObserved();
    await using ctx = await startTestServer(testApi, testApiOptions(observed));
    await using proxy = await startFaultProxy(ctx.port);
    proxy.latency(3); // widens the window in which a call is on the wire when the cut comes
    const logger = recordingClientLogger();
    await using client = connectClient(testApi, proxy.url, {
      reconnect: { minDelayMs: 5, maxDelayMs: 50 },
      random: mulberry32(seed),
      logger,
    });
    await nextState(client, 'open');

    const sleeps = new Map<string, Promise<Outcome<string>>>();
    const users = new Map<string, Promise<Outcome<{ id: string }>>>();
    let cuts = 0;
    for (let round = 0; round < 30; round++) {
      // Half the rounds start while the client is still reconnecting (calls queue), half once open.
      if (client.state !== 'open' && rng.next() < 0.5) await nextState(client, 'open');
      for (let i = rng.int(2, 6); i > 0; i--) {
        if (rng.next() < 0.5) {
          const tag = `r${round}-${i}`;
          sleeps.set(tag, outcomeOf(client.call.sleep({ ms: rng.int(0, 20), tag }, { timeoutMs: 20_000 })));
        } else {
          const id = `r${round}-${i}`;
          users.set(id, outcomeOf(client.call.getUser({ id }, { timeoutMs: 20_000 })));
        }
        // Seeded spacing, not a wait for anything: calls land at varied points between cuts.
        if (rng.next() < 0.3) await delay(rng.int(0, 3));
      }
      // Seeded spacing, not a wait for anything: the cut catches calls queued, on the wire, running
      // or answered, wherever the time drawn leaves them.
      await delay(rng.int(0, 10));
      if (rng.next() < 0.7) cuts += proxy.resetAll() > 0 ? 1 : 0;
    }

    const settled = await Promise.all([...sleeps.values(), ...users.values()]);
    expect(settled.length).toBe(sleeps.size + users.size);
    let lost = 0;
    for (const [tag, pending] of sleeps) {
      const outcome = await pending;
      const runs = observed.runs.get(`sleep:${tag}`) ?? 0;
      if (outcome.ok) {
        expect(runs, why(`sleep ${tag} resolved: it ran exactly once`)).toBe(1);
      } else {
        lost++;
        expect(outcome.code, why(`sleep ${tag} failed only as CONNECTION_LOST`)).toBe('CONNECTION_LOST');
        expect(runs, why(`sleep ${tag} rejected: it ran at most once`)).toBeLessThanOrEqual(1);
      }
    }
    for (const [id, pending] of users) {
      expect(label(await pending), why(`getUser ${id} (idempotent) resolved`)).toBe('resolved');
      expect(observed.runs.get(`getUser:${id}`), why(`getUser ${id} ran once`)).toBe(1);
    }
    // After everything settled, nothing runs late: a later call finds the counts unchanged.
    const before = new Map(observed.runs);
    expect(await client.call.add({ a: 1, b: 2 })).toBe(3);
    expect(observed.runs, why('no late re-runs')).toEqual(before);
    expect(cuts, why(`the chaos happened (${cuts} cuts, ${lost} sleeps lost)`)).toBeGreaterThanOrEqual(5);
    expect(client.pending.calls).toBe(0);
    expect(logger.entries).toEqual([]);
  });

  it('a slow idempotent call whose first attempt is running at the cut resolves, and its handler ran once', async () => {
    const runs = newResilienceRuns();
    await using ctx: ResilienceServer = await startTestServer(resilienceApi, {
      handlers: resilienceHandlers(() => ctx.server, runs),
    });
    await using proxy = await startFaultProxy(ctx.port);
    await using client = connectClient(resilienceApi, proxy.url, {
      reconnect: { minDelayMs: 5, maxDelayMs: 50 },
      random: mulberry32(7),
      logger: recordingClientLogger(),
    });
    const ids = Array.from({ length: 10 }, (_, i) => `slow-${i}`);
    const calls = ids.map((id) => outcomeOf(client.call.lookup({ id, ms: 200 })));
    // Every first attempt has reached the server and is running.
    await vi.waitFor(() => expect(runs.started.size).toBe(ids.length), { timeout: 5_000, interval: 2 });
    expect(runs.finished.size).toBe(0);
    const reopened = nextState(client, 'open');
    expect(proxy.resetAll()).toBe(1);
    await reopened;

    for (const [index, outcome] of (await Promise.all(calls)).entries()) {
      expect(outcome).toMatchObject({ ok: true, value: { id: ids[index] } });
    }
    // The retries joined the running first attempts (same idempotency key): one run per call.
    for (const id of ids) {
      expect(runs.started.get(`lookup:${id}`), id).toBe(1);
      expect(runs.finished.get(`lookup:${id}`), id).toBe(1);
    }
  });

  it('an idempotent call whose answer was lost is answered from the server cache, not run again', async () => {
    const runs = newResilienceRuns();
    await using ctx: ResilienceServer = await startTestServer(resilienceApi, {
      handlers: resilienceHandlers(() => ctx.server, runs),
    });
    await using proxy = await startFaultProxy(ctx.port);
    await using client = connectClient(resilienceApi, proxy.url, {
      reconnect: { minDelayMs: 5, maxDelayMs: 50 },
      random: mulberry32(9),
      logger: recordingClientLogger(),
    });
    await nextState(client, 'open');
    // The call reaches the server and finishes there, but its answer never comes back.
    proxy.blackhole(true, 'downstream');
    const call = outcomeOf(client.call.lookup({ id: 'cached', ms: 0 }, { timeoutMs: 10_000 }));
    await vi.waitFor(() => expect(runs.finished.get('lookup:cached')).toBe(1), { timeout: 5_000, interval: 2 });
    const reopened = nextState(client, 'open');
    proxy.blackhole(false);
    proxy.resetAll();
    await reopened;
    expect(await call).toMatchObject({ ok: true, value: { id: 'cached' } });
    expect(runs.started.get('lookup:cached')).toBe(1);
  });

  it('a non-idempotent call running at the cut rejects with CONNECTION_LOST and is not sent again', async () => {
    const runs = newResilienceRuns();
    await using ctx: ResilienceServer = await startTestServer(resilienceApi, {
      handlers: resilienceHandlers(() => ctx.server, runs),
    });
    await using proxy = await startFaultProxy(ctx.port);
    await using client = connectClient(resilienceApi, proxy.url, {
      reconnect: { minDelayMs: 5, maxDelayMs: 50 },
      random: mulberry32(8),
      logger: recordingClientLogger(),
    });
    const tags = Array.from({ length: 10 }, (_, i) => `charge-${i}`);
    const calls = tags.map((tag) => outcomeOf(client.call.charge({ tag, ms: 200 })));
    await vi.waitFor(() => expect(runs.started.size).toBe(tags.length), { timeout: 5_000, interval: 2 });
    const reopened = nextState(client, 'open');
    proxy.resetAll();
    for (const outcome of await Promise.all(calls)) expect(label(outcome)).toBe('CONNECTION_LOST');
    await reopened;
    // A call on the new connection answers after anything re-sent would have arrived.
    expect(await client.call.charge({ tag: 'after', ms: 0 })).toEqual({ tag: 'after' });
    for (const tag of tags) expect(runs.started.get(`charge:${tag}`), tag).toBe(1);
    // The server aborted the handlers whose caller was gone (their signal fired).
    for (const tag of tags) expect(runs.finished.get(`charge:${tag}`), tag).toBeUndefined();
  });

  it('a non-idempotent call whose handler ran and failed with UNAVAILABLE rejects, and is not re-sent after a reconnect', async () => {
    const runs = newResilienceRuns();
    await using ctx: ResilienceServer = await startTestServer(resilienceApi, {
      handlers: resilienceHandlers(() => ctx.server, runs),
    });
    await using proxy = await startFaultProxy(ctx.port);
    await using client = connectClient(resilienceApi, proxy.url, {
      reconnect: { minDelayMs: 5, maxDelayMs: 50 },
      random: mulberry32(10),
      logger: recordingClientLogger(),
    });
    const call = outcomeOf(client.call.unavailable({ tag: 'ran' }, { timeoutMs: 3_000 }));
    await vi.waitFor(() => expect(runs.started.get('unavailable:ran')).toBe(1), { timeout: 5_000, interval: 2 });
    // A later answer on the same socket: the error frame of the first call has arrived by then.
    expect(await client.call.announce({ text: 'barrier' })).toBe('barrier');
    const reopened = nextState(client, 'open');
    proxy.resetAll();
    await reopened;
    expect(await client.call.announce({ text: 'barrier 2' })).toBe('barrier 2');

    expect(runs.started.get('unavailable:ran'), 'the handler ran once; the call must not be sent again').toBe(1);
    expect(label(await call), 'the caller gets the error the handler threw').toBe('UNAVAILABLE');
  });
});
