import { defineContract, WirecallError, type ErrorShape, type ProcedureDef } from '@wirecall/core/internal';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import type { WhenOffline } from './options.js';
import { RequestManager } from './request-manager.js';

const api = defineContract({
  procedures: {
    echo: { input: z.string(), output: z.string() },
    put: { input: z.object({ key: z.string() }), output: z.number(), idempotent: true },
  },
  events: {},
});
const procedures = api.procedures as Record<string, ProcedureDef>;

interface CallFrame {
  t: 'call' | 'cancel';
  id: number;
  p?: string;
  v?: unknown;
  tm?: number;
  ik?: string;
}

/** The manager over a socket the test opens and closes: it records every frame sent while open. */
function setUp(options: { maxQueuedCalls?: number } = {}) {
  const link = { open: false, offline: false, closed: undefined as WirecallError | undefined };
  const frames: CallFrame[] = [];
  let nextId = 0;
  const manager = new RequestManager({
    send: (frame) => {
      if (!link.open) return false;
      frames.push(JSON.parse(frame as string) as CallFrame);
      return true;
    },
    nextId: () => ++nextId,
    isOffline: () => link.offline,
    closedReason: () => link.closed,
    maxQueuedCalls: options.maxQueuedCalls ?? 100,
    clientId: 'client',
  });
  const opened = (window?: number): void => {
    link.open = true;
    link.offline = false;
    manager.opened({ window, maxPayloadBytes: undefined, maxStreams: undefined, binary: undefined });
  };
  const lost = (code: 'CONNECTION_LOST' | 'UNAVAILABLE', final = false): void => {
    link.open = false;
    link.offline = !final;
    manager.connectionLost(new WirecallError(code, 'The connection closed'), final);
  };
  const calls = (): CallFrame[] => frames.filter((frame) => frame.t === 'call');
  const cancels = (): number[] => frames.filter((frame) => frame.t === 'cancel').map((frame) => frame.id);
  return { manager, link, frames, calls, cancels, opened, lost };
}

type Manager = ReturnType<typeof setUp>['manager'];

interface CallOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  whenOffline?: WhenOffline;
}

/** Starts a call and records how it settled, and how often (it must be exactly once). */
function call(manager: Manager, procedure: 'echo' | 'put', input: unknown, options: CallOptions = {}) {
  const outcome = { settled: 0, value: undefined as unknown, error: undefined as WirecallError | undefined };
  manager.start(
    {
      procedure,
      def: procedures[procedure]!,
      input,
      timeoutMs: options.timeoutMs ?? 10_000,
      signal: options.signal,
      whenOffline: options.whenOffline ?? 'queue',
      window: 16,
      source: undefined,
    },
    {
      resolve: (value) => {
        outcome.settled++;
        outcome.value = value;
      },
      reject: (error) => {
        outcome.settled++;
        outcome.error = error;
      },
    },
  );
  return outcome;
}

const rateLimited = (data?: unknown): ErrorShape => ({
  code: 'RATE_LIMITED',
  message: 'At most 2 calls in flight',
  ...(data === undefined ? {} : { data }),
});
const windowRefusal = rateLimited({ maxInFlightCalls: 2 });

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('RequestManager', () => {
  describe('the offline queue', () => {
    it('keeps calls made before the socket opens, and sends them in order when it does', () => {
      const { manager, calls, opened } = setUp();
      const first = call(manager, 'echo', 'a');
      const second = call(manager, 'echo', 'b');
      expect(calls()).toEqual([]);
      expect(manager.size).toBe(2);

      opened();
      expect(calls().map((frame) => frame.v)).toEqual(['a', 'b']);
      manager.resolve(1, { v: 'A' });
      manager.resolve(2, { v: 'B' });
      expect([first.value, second.value]).toEqual(['A', 'B']);
      expect(manager.size).toBe(0);
    });

    it('fails at once: whenOffline "fail" between sockets, a full queue, a closed client, bad input', () => {
      const { manager, link } = setUp({ maxQueuedCalls: 2 });
      link.offline = true;
      expect(call(manager, 'echo', 'x', { whenOffline: 'fail' }).error?.code).toBe('UNAVAILABLE');
      expect(call(manager, 'echo', 42).error?.code).toBe('BAD_REQUEST');
      call(manager, 'echo', 'a');
      call(manager, 'echo', 'b');
      expect(call(manager, 'echo', 'c').error).toMatchObject({ code: 'UNAVAILABLE', message: /queue is full/ });
      link.closed = new WirecallError('CLOSED', 'The client was closed');
      expect(call(manager, 'echo', 'd').error?.code).toBe('CLOSED');
      expect(manager.size).toBe(2);
    });

    it('keeps at most the server’s window in flight; an answer lets the next one go', () => {
      const { manager, calls, opened } = setUp();
      opened(2);
      for (const input of ['a', 'b', 'c']) call(manager, 'echo', input);
      expect(calls().map((frame) => frame.v)).toEqual(['a', 'b']);
      manager.resolve(2, { v: 'B' });
      expect(calls().map((frame) => frame.v)).toEqual(['a', 'b', 'c']);
    });
  });

  describe('deadlines', () => {
    it('times a call out after timeoutMs, and sends the time left as the deadline the server keeps itself', () => {
      const { manager, calls, cancels, opened } = setUp();
      opened();
      vi.advanceTimersByTime(0);
      const slow = call(manager, 'echo', 'slow', { timeoutMs: 1_000 });
      expect(calls()[0]!.tm).toBe(1_000);
      vi.advanceTimersByTime(999);
      expect(slow.settled).toBe(0);
      vi.advanceTimersByTime(1);

      expect(slow.error).toMatchObject({ code: 'TIMEOUT', message: 'echo timed out within 1000 ms' });
      // No cancel: the server's own deadline aborts the handler with TIMEOUT (a cancel would race it).
      expect(cancels()).toEqual([]);
      expect(manager.size).toBe(0);
    });

    it('times out calls still queued offline, without telling a server that never saw them', () => {
      const { manager, cancels } = setUp();
      const queued = call(manager, 'echo', 'q', { timeoutMs: 500 });
      vi.advanceTimersByTime(500);
      expect(queued.error?.code).toBe('TIMEOUT');
      expect(cancels()).toEqual([]);
    });

    it('expires each call at its own deadline, in any order of creation', () => {
      const { manager, opened } = setUp();
      opened();
      const late = call(manager, 'echo', 'late', { timeoutMs: 3_000 });
      const early = call(manager, 'echo', 'early', { timeoutMs: 1_000 });
      const middle = call(manager, 'echo', 'middle', { timeoutMs: 2_000 });
      const settledAt: Record<string, number> = {};
      for (let ms = 1; ms <= 3_000; ms++) {
        vi.advanceTimersByTime(1);
        for (const [name, outcome] of Object.entries({ late, early, middle })) {
          if (outcome.settled > 0) settledAt[name] ??= ms;
        }
      }
      expect(settledAt).toEqual({ early: 1_000, middle: 2_000, late: 3_000 });
    });

    it('sends what is left of the deadline when a queued call finally goes out', () => {
      const { manager, calls, opened } = setUp();
      call(manager, 'echo', 'q', { timeoutMs: 1_000 });
      vi.advanceTimersByTime(400);
      opened();
      expect(calls()[0]!.tm).toBe(600);
    });
  });

  describe('settling exactly once', () => {
    it('ignores a second answer, a late answer after a timeout, and an abort after the answer', () => {
      const { manager, opened } = setUp();
      opened();
      const controller = new AbortController();
      const answered = call(manager, 'echo', 'a', { signal: controller.signal });
      const timedOut = call(manager, 'echo', 'b', { timeoutMs: 100 });

      expect(manager.resolve(1, { v: 'A' })).toBe(true);
      expect(manager.resolve(1, { v: 'again' })).toBe(false);
      expect(manager.reject(1, { code: 'INTERNAL', message: 'late' })).toBe(false);
      controller.abort();
      vi.advanceTimersByTime(100);
      expect(manager.resolve(2, { v: 'too late' })).toBe(false);

      expect(answered).toMatchObject({ settled: 1, value: 'A', error: undefined });
      expect(timedOut).toMatchObject({ settled: 1, value: undefined, error: { code: 'TIMEOUT' } });
    });

    it('cancels on abort: CANCELLED once, a cancel frame only for a call the server has', () => {
      const { manager, cancels, opened } = setUp();
      const beforeOpen = new AbortController();
      const queued = call(manager, 'echo', 'q', { signal: beforeOpen.signal });
      beforeOpen.abort();
      opened();
      const sent = new AbortController();
      const inFlight = call(manager, 'echo', 's', { signal: sent.signal });
      sent.abort(new Error('user left'));
      manager.resolve(2, { v: 'S' }); // the answer crossing the cancel is dropped

      expect(queued).toMatchObject({ settled: 1, error: { code: 'CANCELLED' } });
      expect(inFlight).toMatchObject({ settled: 1, error: { code: 'CANCELLED' } });
      expect(inFlight.error?.cause).toEqual(new Error('user left'));
      expect(cancels()).toEqual([2]);
      expect(call(manager, 'echo', 'x', { signal: AbortSignal.abort() }).error?.code).toBe('CANCELLED');
    });

    it('fails a result that does not match the contract with INTERNAL', () => {
      const { manager, opened } = setUp();
      opened();
      const outcome = call(manager, 'echo', 'a');
      manager.resolve(1, { v: 42 });
      expect(outcome).toMatchObject({ settled: 1, error: { code: 'INTERNAL' } });
    });

    it('rejects everything once on close', () => {
      const { manager, opened } = setUp();
      opened(1);
      const outcomes = [call(manager, 'echo', 'a'), call(manager, 'echo', 'b')];
      manager.rejectAll(new WirecallError('CLOSED', 'The client was closed'));
      manager.rejectAll(new WirecallError('CLOSED', 'again'));
      expect(outcomes.map((outcome) => [outcome.settled, outcome.error?.code])).toEqual([
        [1, 'CLOSED'],
        [1, 'CLOSED'],
      ]);
    });
  });

  describe('a dropped connection', () => {
    it('sends idempotent calls again with the same key; fails the others with CONNECTION_LOST', () => {
      const { manager, calls, opened, lost } = setUp();
      opened();
      const plain = call(manager, 'echo', 'a');
      const safe = call(manager, 'put', { key: 'k' });
      const queuedKey = calls()[1]!.ik;
      expect(queuedKey).toMatch(/^client:\d+$/);
      expect(calls()[0]!.ik).toBeUndefined();

      lost('CONNECTION_LOST');
      expect(plain).toMatchObject({ settled: 1, error: { code: 'CONNECTION_LOST' } });
      expect(safe.settled).toBe(0);
      opened();

      expect(calls().slice(2)).toEqual([expect.objectContaining({ id: 2, p: 'put', ik: queuedKey })]);
      manager.resolve(2, { v: 7 });
      expect(safe).toMatchObject({ settled: 1, value: 7 });
    });

    it('keeps calls that were only queued, and fails every call when the drop is final', () => {
      const { manager, calls, opened, lost } = setUp();
      opened(1);
      const sent = call(manager, 'echo', 'a');
      const queued = call(manager, 'echo', 'b');
      lost('CONNECTION_LOST');
      expect(queued.settled).toBe(0); // never sent: nothing to lose
      opened(1);
      expect(calls().map((frame) => frame.v)).toEqual(['a', 'b']);
      lost('CONNECTION_LOST', true);
      expect([sent.error?.code, queued.error?.code]).toEqual(['CONNECTION_LOST', 'CONNECTION_LOST']);
    });

    it('holds a call the server did not run (UNAVAILABLE notExecuted) for the next connection', () => {
      const { manager, calls, opened, lost } = setUp();
      opened();
      const outcome = call(manager, 'echo', 'a');
      manager.reject(1, { code: 'UNAVAILABLE', message: 'shutting down', data: { notExecuted: true } });
      expect(outcome.settled).toBe(0);
      lost('CONNECTION_LOST');
      expect(outcome.settled).toBe(0);
      opened();
      expect(calls()).toHaveLength(2);
      manager.resolve(1, { v: 'A' });
      expect(outcome).toMatchObject({ settled: 1, value: 'A' });
    });
  });

  describe('a call refused for the server’s in-flight limit (cancelled handlers still winding down)', () => {
    it('is sent again shortly instead of failing, and the queue behind it waits', () => {
      const { manager, calls, opened } = setUp();
      opened(2);
      const refused = call(manager, 'echo', 'a');
      const behind = call(manager, 'echo', 'b');
      manager.reject(1, windowRefusal);
      const later = call(manager, 'echo', 'c');

      expect(refused.settled).toBe(0);
      expect(calls().map((frame) => frame.id)).toEqual([1, 2]);
      vi.advanceTimersByTime(24);
      expect(calls()).toHaveLength(2); // nothing goes to a full server
      vi.advanceTimersByTime(1);
      // The refused call goes first (call 2 still holds the other slot of the window of 2)...
      expect(calls().map((frame) => frame.id)).toEqual([1, 2, 1]);
      manager.resolve(2, { v: 'B' });
      // ...then what came after it.
      expect(calls().map((frame) => frame.id)).toEqual([1, 2, 1, 3]);
      manager.resolve(1, { v: 'A' });
      manager.resolve(3, { v: 'C' });
      expect([refused, behind, later].map((outcome) => [outcome.settled, outcome.value])).toEqual([
        [1, 'A'],
        [1, 'B'],
        [1, 'C'],
      ]);
    });

    it('backs off, doubling the wait, and keeps its place ahead of later calls', () => {
      const { manager, calls, opened } = setUp();
      opened(1);
      const refused = call(manager, 'echo', 'a');
      call(manager, 'echo', 'b');
      for (const wait of [25, 50, 100, 200, 400, 800, 1_000, 1_000]) {
        manager.reject(1, windowRefusal);
        const before = calls().length;
        vi.advanceTimersByTime(wait - 1);
        expect(calls()).toHaveLength(before);
        vi.advanceTimersByTime(1);
        expect(
          calls()
            .map((frame) => frame.id)
            .slice(before),
        ).toEqual([1]); // not call 2, queued behind it
      }
      manager.resolve(1, { v: 'A' });
      expect(refused).toMatchObject({ settled: 1, value: 'A' });
      expect(calls().at(-1)!.id).toBe(2);
    });

    it('gives up with the refusal after a bounded number of attempts', () => {
      const { manager, calls, opened } = setUp();
      opened();
      const refused = call(manager, 'echo', 'a', { timeoutMs: 60_000 });
      for (let attempt = 0; attempt < 10; attempt++) {
        manager.reject(1, windowRefusal);
        vi.advanceTimersByTime(1_000);
      }
      expect(calls()).toHaveLength(11);
      expect(refused.settled).toBe(0);
      manager.reject(1, windowRefusal);

      expect(refused).toMatchObject({ settled: 1, error: { code: 'RATE_LIMITED', data: { maxInFlightCalls: 2 } } });
      expect(manager.size).toBe(0);
    });

    it('gives up with the refusal rather than wait past its own deadline', () => {
      const { manager, calls, opened } = setUp();
      opened();
      const refused = call(manager, 'echo', 'a', { timeoutMs: 100 });
      manager.reject(1, windowRefusal); // retry at 25 ms
      vi.advanceTimersByTime(25);
      manager.reject(1, windowRefusal); // retry at 75 ms
      vi.advanceTimersByTime(50);
      expect(calls()).toHaveLength(3);
      manager.reject(1, windowRefusal); // a retry at 175 ms would be past the deadline

      expect(refused).toMatchObject({ settled: 1, error: { code: 'RATE_LIMITED' } });
    });

    it('measures the deadline against the wait already under way, not its own first delay', () => {
      const { manager, calls, opened } = setUp();
      opened(2);
      const first = call(manager, 'echo', 'a');
      for (const wait of [25, 50, 100]) {
        manager.reject(1, windowRefusal);
        vi.advanceTimersByTime(wait);
      }
      manager.reject(1, windowRefusal); // the queue now waits 200 ms
      const short = call(manager, 'echo', 'b', { timeoutMs: 150 });
      expect(calls()).toHaveLength(4); // a fresh call waits behind the refused one
      vi.advanceTimersByTime(150);
      expect(short).toMatchObject({ settled: 1, error: { code: 'TIMEOUT' } });
      vi.advanceTimersByTime(50);
      expect(calls().map((frame) => frame.id)).toEqual([1, 1, 1, 1, 1]);

      const other = call(manager, 'echo', 'c', { timeoutMs: 150 });
      expect(calls().map((frame) => frame.id)).toEqual([1, 1, 1, 1, 1, 3]);
      manager.reject(1, windowRefusal); // 400 ms from now
      manager.reject(3, windowRefusal); // would go with it, past its deadline: fails now
      expect(other).toMatchObject({ settled: 1, error: { code: 'RATE_LIMITED' } });
      expect(first.settled).toBe(0);
    });

    it('while it waits, a call timed out or cancelled sends no cancel (the server does not have it)', () => {
      const { manager, cancels, opened } = setUp();
      opened();
      const refused = call(manager, 'echo', 'a', { timeoutMs: 20 });
      const abort = new AbortController();
      const cancelled = call(manager, 'echo', 'b', { signal: abort.signal });
      manager.reject(1, { ...windowRefusal });
      manager.reject(2, { ...windowRefusal });
      expect(refused.settled).toBe(1); // 25 ms is past its 20 ms deadline
      abort.abort();
      expect(cancelled).toMatchObject({ settled: 1, error: { code: 'CANCELLED' } });
      expect(cancels()).toEqual([]);
      vi.advanceTimersByTime(1_000);
      expect(manager.size).toBe(0);
    });

    it('goes on at once when another call is answered (a slot came free on the server)', () => {
      const { manager, calls, opened } = setUp();
      opened(2);
      call(manager, 'echo', 'a');
      call(manager, 'echo', 'b');
      manager.reject(2, windowRefusal);
      manager.resolve(1, { v: 'A' });
      expect(calls().map((frame) => frame.id)).toEqual([1, 2, 2]);
    });

    it('is not held by a refusal that frees nothing', () => {
      const { manager, calls, opened } = setUp();
      opened(3);
      call(manager, 'echo', 'a');
      call(manager, 'echo', 'b');
      manager.reject(2, windowRefusal);
      manager.reject(1, rateLimited()); // a message-rate refusal: no slot came free
      expect(calls().map((frame) => frame.id)).toEqual([1, 2]);
      vi.advanceTimersByTime(25);
      expect(calls().map((frame) => frame.id)).toEqual([1, 2, 2]);
    });

    it('fails at once for other RATE_LIMITED refusals (the message rate, the stream limit)', () => {
      const { manager, opened } = setUp();
      opened();
      const flood = call(manager, 'echo', 'a');
      const streams = call(manager, 'echo', 'b');
      manager.reject(1, rateLimited());
      manager.reject(2, rateLimited({ maxStreams: 4 }));
      expect(flood).toMatchObject({ settled: 1, error: { code: 'RATE_LIMITED' } });
      expect(streams).toMatchObject({ settled: 1, error: { code: 'RATE_LIMITED' } });
    });

    it('is sent at once on a new connection (no handler of the old one counts there)', () => {
      const { manager, calls, opened, lost } = setUp();
      opened();
      const refused = call(manager, 'echo', 'a');
      manager.reject(1, windowRefusal);
      lost('CONNECTION_LOST');
      expect(refused.settled).toBe(0); // not on the server: nothing was lost
      opened();
      expect(calls().map((frame) => frame.id)).toEqual([1, 1]);
      vi.advanceTimersByTime(25);
      expect(calls()).toHaveLength(2);
    });
  });
});
