import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  chaosSeed,
  dice,
  mulberry32,
  nextState,
  outcomeOf,
  recordingClientLogger,
  type Outcome,
} from '../helpers/chaos-kit.js';
import { memoryBroker, type Broker } from '@wirecall/server';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { killAllServerProcesses, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { testApiOptions } from '../helpers/test-handlers.js';
import { connectClient, startTestServer } from '../helpers/test-server.js';
import { testApi } from '../helpers/fixtures.js';

afterEach(killAllServerProcesses);

const CUTS = 20;
const RESTARTS = 2;
const TICK_MS = 8;

interface Seen {
  id: string;
  seq: number;
}

describe('an event stream through proxy cuts and server restarts', () => {
  it(`sees each incarnation's events exactly once, in order, through ${CUTS} cuts and ${RESTARTS} SIGKILL restarts`, async () => {
    const seed = chaosSeed();
    const rng = dice(seed);
    const why = (what: string): string => `${what} (seed ${seed}; replay with WIRECALL_SEED=${seed})`;

    const incarnations: ServerProcess[] = [];
    let server = await startServerProcess({ tickMs: TICK_MS });
    incarnations.push(server);
    await using proxy = await startFaultProxy(server.port);
    const logger = recordingClientLogger();
    await using client = connectClient(testApi, proxy.url, {
      reconnect: { minDelayMs: 5, maxDelayMs: 100 },
      random: mulberry32(seed ^ 0x9e37_79b9),
      logger,
    });

    const received: Seen[] = [];
    /** received.length when each gap notice arrived: the gap comes before the events after it. */
    const gapsAt: number[] = [];
    client.on('tick', (tick, meta) => received.push({ id: meta.id ?? '(pushed)', seq: tick.seq }), {
      onGap: () => gapsAt.push(received.length),
    });
    await vi.waitFor(() => expect(received.length).toBeGreaterThan(0), { timeout: 10_000, interval: 5 });

    // Non-idempotent calls (sleep with a tag, counted by the server) and idempotent ones (getUser)
    // keep flowing through the chaos.
    const sleeps = new Map<string, Promise<Outcome<string>>>();
    const lookups = new Map<string, Promise<Outcome<{ id: string }>>>();
    let callNo = 0;
    const fireCalls = (): void => {
      for (let i = 0; i < 2; i++) {
        const tag = `s${++callNo}`;
        sleeps.set(tag, outcomeOf(client.call.sleep({ ms: rng.int(0, 15), tag }, { timeoutMs: 15_000 })));
      }
      const id = `u${++callNo}`;
      lookups.set(id, outcomeOf(client.call.getUser({ id }, { timeoutMs: 15_000 })));
    };

    // 20 cuts and 2 restarts, in a seeded order.
    const faults: ('cut' | 'restart')[] = Array.from({ length: CUTS }, () => 'cut');
    for (let i = 0; i < RESTARTS; i++) faults.splice(rng.int(1, faults.length - 1), 0, 'restart');

    for (const [step, fault] of faults.entries()) {
      fireCalls();
      // Let the stream run between faults: a seeded number of events (about 10-60 ms at TICK_MS).
      const runTo = received.length + rng.int(1, 7);
      await vi.waitFor(
        () => expect(received.length, why(`step ${step}: the stream runs`)).toBeGreaterThanOrEqual(runTo),
        {
          timeout: 10_000,
          interval: 2,
        },
      );
      fireCalls();
      const before = received.length;
      const reopened = nextState(client, 'open', 20_000);
      if (fault === 'cut') {
        expect(proxy.resetAll(), why(`step ${step}: a connection to cut`)).toBeGreaterThan(0);
      } else {
        await server.kill('SIGKILL');
        server = await startServerProcess({ port: server.port, tickMs: TICK_MS });
        incarnations.push(server);
      }
      await reopened;
      // The stream moves again before the next fault.
      await vi.waitFor(() => expect(received.length, why(`step ${step} (${fault})`)).toBeGreaterThan(before), {
        timeout: 10_000,
        interval: 5,
      });
    }

    // Stop the stream and wait for its last event: nothing of the live incarnation may be missing.
    const lastSeq = await server.setTicks(0);
    const lastTick = server.ticks.at(-1)!;
    expect(lastTick.seq).toBe(lastSeq);
    await vi.waitFor(() => expect(received.at(-1)?.id, why('last event of the live server')).toBe(lastTick.id), {
      timeout: 10_000,
      interval: 5,
    });

    // Which incarnation emitted each id, with which seq.
    const emitted = new Map<string, { incarnation: number; seq: number }>();
    for (const [incarnation, child] of incarnations.entries()) {
      for (const tick of child.ticks) emitted.set(tick.id, { incarnation, seq: tick.seq });
    }
    expect(new Set(received.map((event) => event.id)).size, why('no event delivered twice')).toBe(received.length);
    // A killed server may have sent its last events before it could report them (it reports an
    // emit once the emit resolves; SIGKILL can land in between). Such an event carries the killed
    // incarnation's epoch and a counter past everything it reported: its unreported tail.
    const epochOf = (id: string): string => id.slice(0, id.lastIndexOf(':'));
    const counterOf = (id: string): number => Number(id.slice(id.lastIndexOf(':') + 1));
    for (const event of received) {
      if (emitted.has(event.id)) continue;
      const killed = incarnations
        .slice(0, -1)
        .findIndex((child) => child.ticks.some((tick) => epochOf(tick.id) === epochOf(event.id)));
      const reported = killed < 0 ? [] : incarnations[killed]!.ticks.map((tick) => counterOf(tick.id));
      if (killed >= 0 && counterOf(event.id) > Math.max(...reported)) {
        emitted.set(event.id, { incarnation: killed, seq: event.seq });
      }
    }

    const byIncarnation: Seen[][] = incarnations.map(() => []);
    let current = 0;
    const boundaries: number[] = [];
    for (const [index, event] of received.entries()) {
      const origin = emitted.get(event.id);
      expect(origin, why(`event ${event.id} was emitted by one of the servers`)).toBeDefined();
      expect(event.seq, why(`payload of ${event.id}`)).toBe(origin!.seq);
      expect(origin!.incarnation, why(`event ${index} (${event.id}) in incarnation order`)).toBeGreaterThanOrEqual(
        current,
      );
      if (origin!.incarnation !== current) boundaries.push(index);
      current = origin!.incarnation;
      byIncarnation[origin!.incarnation]!.push(event);
    }

    for (const [incarnation, events] of byIncarnation.entries()) {
      expect(events.length, why(`incarnation ${incarnation} delivered events`)).toBeGreaterThan(0);
      const seqs = events.map((event) => event.seq);
      const first = seqs[0]!;
      // Contiguous: every id from the first seen to the last seen, none skipped, none repeated.
      expect(seqs, why(`incarnation ${incarnation}: consecutive seqs`)).toEqual(
        Array.from({ length: seqs.length }, (_, i) => first + i),
      );
      // A restarted server's history starts at 1, and a resuming client gets all of it.
      if (incarnation > 0) expect(first, why(`incarnation ${incarnation} replayed from its start`)).toBe(1);
    }
    expect(byIncarnation.at(-1)!.at(-1)!.seq, why('the live stream delivered to its end')).toBe(lastSeq);

    // One gap notice per restart, each right where the new incarnation's events begin; none for cuts.
    expect(boundaries, why('one boundary per restart')).toHaveLength(RESTARTS);
    expect(gapsAt, why('gap notices: one per restart, at its boundary, none for cuts')).toEqual(boundaries);

    // Calls made through the chaos: all settle; sleep (not idempotent) never ran twice.
    const runs = (key: string): number => incarnations.reduce((total, child) => total + (child.runs.get(key) ?? 0), 0);
    for (const [tag, pending] of sleeps) {
      const outcome = await pending;
      if (outcome.ok) {
        expect(outcome.value).toBe(tag);
        expect(runs(`sleep:${tag}`), why(`sleep ${tag} resolved: ran exactly once`)).toBe(1);
      } else {
        expect(outcome.code, why(`sleep ${tag} failed only as CONNECTION_LOST`)).toBe('CONNECTION_LOST');
        expect(runs(`sleep:${tag}`), why(`sleep ${tag} ran at most once`)).toBeLessThanOrEqual(1);
      }
    }
    for (const [id, pending] of lookups) {
      const outcome = await pending;
      expect(outcome, why(`getUser ${id} (idempotent) resolved`)).toMatchObject({ ok: true, value: { id } });
    }
    expect(client.pending.calls).toBe(0);
    expect(logger.entries.filter((entry) => entry.level === 'error')).toEqual([]);
    expect(proxy.accepted).toBeGreaterThan(CUTS + RESTARTS);
  }, 60_000);

  it('a slow history store (live events arrive while the replay is read) still delivers each event once, in order', async () => {
    const seed = chaosSeed();
    const rng = dice(seed);
    const why = (what: string): string => `${what} (seed ${seed}; replay with WIRECALL_SEED=${seed})`;
    // Like a networked store: history is read after a round trip, so events published meanwhile are
    // both in the replay and among the live events the server held back. It must send them once.
    const inner = memoryBroker();
    // The store's round trip: simulated latency, not a wait for anything.
    const slow = (): Promise<void> => delay(rng.int(5, 20));
    const broker: Broker = {
      publish: (key, value) => inner.publish(key, value),
      listen: (listener) => inner.listen(listener),
      replay: async (key, after) => {
        await slow();
        return inner.replay(key, after);
      },
      lastId: async (key) => {
        await slow();
        return inner.lastId(key);
      },
      compareIds: (a, b) => inner.compareIds(a, b),
      close: () => inner.close(),
    };
    await using ctx = await startTestServer(testApi, { ...testApiOptions(), broker });
    await using proxy = await startFaultProxy(ctx.port);
    await using client = connectClient(testApi, proxy.url, {
      reconnect: { minDelayMs: 1, maxDelayMs: 10 },
      random: mulberry32(seed),
      logger: recordingClientLogger(),
    });
    const received: Seen[] = [];
    const gaps: number[] = [];
    client.on('tick', (tick, meta) => received.push({ id: meta.id ?? '(pushed)', seq: tick.seq }), {
      onGap: () => gaps.push(received.length),
    });

    const emitted: string[] = [];
    let seq = 0;
    const ticker = setInterval(() => {
      const current = ++seq;
      void ctx.server.emit('tick', { seq: current, at: new Date() }).then((id) => emitted.push(id));
    }, 1);
    try {
      await vi.waitFor(() => expect(received.length).toBeGreaterThan(0), { timeout: 10_000, interval: 2 });
      for (let cut = 0; cut < 15; cut++) {
        const before = received.length;
        // After the reconnect, the stream runs on for a seeded number of events before the next cut.
        const runTo = before + 3 + rng.int(0, 15);
        const reopened = nextState(client, 'open');
        proxy.resetAll();
        await reopened;
        await vi.waitFor(() => expect(received.length, why(`cut ${cut}`)).toBeGreaterThanOrEqual(runTo), {
          timeout: 10_000,
          interval: 2,
        });
      }
    } finally {
      clearInterval(ticker);
    }
    await vi.waitFor(() => expect(received.at(-1)?.id, why('the last event arrived')).toBe(emitted.at(-1)), {
      timeout: 10_000,
      interval: 2,
    });
    const first = emitted.indexOf(received[0]!.id);
    expect(first, why('the first event was emitted')).toBeGreaterThanOrEqual(0);
    expect(
      received.map((event) => event.id),
      why('every event from the first received on, once, in order'),
    ).toEqual(emitted.slice(first));
    expect(received.map((event) => event.seq)).toEqual(received.map((_, i) => received[0]!.seq + i));
    expect(gaps, why('no gap: history covered every cut')).toEqual([]);
    await inner.close();
  }, 30_000);
});
