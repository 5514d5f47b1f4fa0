import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CallEnvelope, ErrorEnvelope, RequestId, ResultEnvelope } from '@wirecall/core/internal';
import type { Lane } from './lane.js';
import { SharedCalls } from './shared-calls.js';

/** A frame as the test reads it back from the wire. */
type Frame = Record<string, unknown>;

/** A tab's virtual socket; SharedCalls only keeps it to say whose an answer is. */
function lane(name: string): Lane & { name: string } {
  return { name, send: () => {}, close: () => {} };
}

/** The calls over a socket that records what goes upstream. */
function setUp() {
  const upstream: Frame[] = [];
  let nextId = 0;
  const calls = new SharedCalls({
    send: (envelope) => upstream.push(JSON.parse(JSON.stringify(envelope)) as Frame),
    nextId: () => ++nextId,
  });
  const sentCalls = (): unknown[] => upstream.filter((frame) => frame.t === 'call').map((frame) => frame.id);
  const cancels = (): unknown[] => upstream.filter((frame) => frame.t === 'cancel').map((frame) => frame.id);
  const call = (from: Lane, id: RequestId, extra: Partial<CallEnvelope> = {}): void =>
    calls.call(from, { t: 'call', id, p: 'op', ...extra });
  return { calls, upstream, sentCalls, cancels, call };
}

const result = (id: number): ResultEnvelope => ({ t: 'result', id, v: 'ok' });
const refusal = (data: Record<string, unknown>): ErrorEnvelope => ({
  t: 'error',
  id: 0,
  e: { code: 'RATE_LIMITED', message: 'too many', data },
});

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('SharedCalls', () => {
  describe('ids', () => {
    it('gives each tab’s call an id unique on the socket, and routes the answer back under the tab’s id', () => {
      const { calls, upstream, call } = setUp();
      const a = lane('a');
      const b = lane('b');
      call(a, 1, { v: 'from a' });
      call(b, 1, { v: 'from b' }); // the same id in another tab
      expect(upstream).toEqual([
        { t: 'call', id: 1, p: 'op', v: 'from a' },
        { t: 'call', id: 2, p: 'op', v: 'from b' },
      ]);

      expect(calls.answered(2, result(2))).toEqual(expect.objectContaining({ lane: b, tabId: 1 }));
      expect(calls.answered(1, result(1))).toEqual(expect.objectContaining({ lane: a, tabId: 1 }));
      expect(calls.answered(1, result(1))).toBeUndefined(); // answered once
      expect(calls.answered(99, result(99))).toBeUndefined();
    });

    it('tells the owner of a streaming call’s frames without ending the call', () => {
      const { calls, call } = setUp();
      const a = lane('a');
      call(a, 'tab-7');
      expect(calls.ownerOf(1)).toEqual(expect.objectContaining({ lane: a, tabId: 'tab-7' }));
      expect(calls.ownerOf(1)).toEqual(expect.objectContaining({ lane: a, tabId: 'tab-7' }));
      calls.answered(1, result(1));
      expect(calls.ownerOf(1)).toBeUndefined();
    });
  });

  describe('the server’s window (welcome.mi), shared by all tabs', () => {
    it('keeps at most the window in flight; the rest wait in order, and each answer lets the next go', () => {
      const { calls, sentCalls, call } = setUp();
      calls.setWindow(2);
      const a = lane('a');
      const b = lane('b');
      call(a, 1);
      call(b, 1);
      call(a, 2);
      call(b, 2);
      expect(sentCalls()).toEqual([1, 2]);
      calls.answered(2, result(2));
      expect(sentCalls()).toEqual([1, 2, 3]);
      calls.answered(1, result(1));
      expect(sentCalls()).toEqual([1, 2, 3, 4]);
    });

    it('sends again, after a short wait and ahead of the queue, a call the server refused for its limit', () => {
      const { calls, sentCalls, call } = setUp();
      calls.setWindow(2);
      const a = lane('a');
      call(a, 1);
      call(a, 2);
      call(a, 3); // queued behind the window
      expect(calls.answered(1, refusal({ maxInFlightCalls: 2 }))).toBe('retrying');
      expect(sentCalls()).toEqual([1, 2]);
      calls.answered(2, result(2)); // a slot frees, but the refused call waits first
      expect(sentCalls()).toEqual([1, 2]);

      vi.advanceTimersByTime(24);
      expect(sentCalls()).toEqual([1, 2]);
      vi.advanceTimersByTime(1);
      expect(sentCalls()).toEqual([1, 2, 1, 3]);
      expect(calls.answered(1, result(1))).toEqual(expect.objectContaining({ lane: a, tabId: 1 }));
    });

    it('treats a refusal for maxStreams the same way, and any other RATE_LIMITED as the answer', () => {
      const { calls, sentCalls, call } = setUp();
      const a = lane('a');
      call(a, 1);
      call(a, 2);
      expect(calls.answered(1, refusal({ maxStreams: 4 }))).toBe('retrying');
      expect(calls.answered(2, refusal({ perSecond: 10 }))).toEqual(expect.objectContaining({ lane: a, tabId: 2 }));
      vi.advanceTimersByTime(25);
      expect(sentCalls()).toEqual([1, 2, 1]);
    });

    it('sends nothing more once the socket is closed', () => {
      const { calls, sentCalls, call } = setUp();
      call(lane('a'), 1);
      calls.answered(1, refusal({ maxInFlightCalls: 1 }));
      calls.close();
      vi.advanceTimersByTime(1_000);
      expect(sentCalls()).toEqual([1]);
    });
  });

  describe('cancelling', () => {
    it('tells the server of a sent call and frees its slot; a queued call just leaves the queue', () => {
      const { calls, sentCalls, cancels, call } = setUp();
      calls.setWindow(1);
      const a = lane('a');
      call(a, 'sent');
      call(a, 'queued');
      call(a, 'last');
      calls.cancel(a, 'queued');
      expect(cancels()).toEqual([]);
      calls.cancel(a, 'sent');
      expect(cancels()).toEqual([1]);
      expect(sentCalls()).toEqual([1, 3]); // the cancelled queued call never goes
      expect(calls.answered(1, result(1))).toBeUndefined(); // an answer crossing the cancel goes nowhere
      calls.cancel(a, 'unknown');
      calls.cancel(lane('other'), 'last'); // only its own tab can cancel it
      expect(cancels()).toEqual([1]);
    });
  });

  describe('frames of a streaming call from its tab (credit, item, end)', () => {
    it('go on under the socket id while the call is live, and are dropped otherwise', () => {
      const { calls, upstream, call } = setUp();
      calls.setWindow(1);
      const a = lane('a');
      call(a, 'live');
      call(a, 'queued');
      calls.forward(a, { t: 'credit', id: 'live', n: 4 });
      calls.forward(a, { t: 'item', id: 'queued', v: 1 }); // not sent yet: the server does not know it
      calls.forward(a, { t: 'end', id: 'unknown' });
      calls.forward(lane('b'), { t: 'end', id: 'live' }); // another tab's id space
      expect(upstream.filter((frame) => frame.t !== 'call')).toEqual([{ t: 'credit', id: 1, n: 4 }]);
    });
  });

  describe('a tab that leaves', () => {
    it('cancels its sent calls and drops its queued ones; other tabs’ calls go on', () => {
      const { calls, sentCalls, cancels, call } = setUp();
      calls.setWindow(2);
      const a = lane('a');
      const b = lane('b');
      call(a, 1);
      call(b, 1);
      call(b, 2); // queued
      calls.leave(a);
      expect(cancels()).toEqual([1]);
      expect(sentCalls()).toEqual([1, 2, 3]);
      expect(calls.answered(2, result(2))).toEqual(expect.objectContaining({ lane: b, tabId: 1 }));
    });

    it('lets its idempotent calls already sent run on (the retry joins them), with nobody to answer', () => {
      const { calls, sentCalls, cancels, call } = setUp();
      calls.setWindow(1);
      const a = lane('a');
      call(a, 1, { ik: 'key-1' });
      call(lane('b'), 1); // queued behind it
      calls.leave(a);
      expect(cancels()).toEqual([]);
      expect(sentCalls()).toEqual([1]); // it still holds its slot

      expect(calls.answered(1, result(1))).toEqual(expect.objectContaining({ lane: undefined, tabId: 1 }));
      expect(sentCalls()).toEqual([1, 2]);
    });

    it('never sends a queued call of its own in the slot its cancelled call frees', () => {
      const { calls, sentCalls, cancels, call } = setUp();
      calls.setWindow(1);
      const a = lane('a');
      call(a, 1); // sent
      call(a, 2); // queued behind it
      call(a, 3, { ik: 'key-3' }); // queued too, idempotent
      calls.leave(a);
      expect(sentCalls()).toEqual([1]);
      expect(cancels()).toEqual([1]);
    });

    it('drops its idempotent calls not sent yet: no retry can be waiting for them', () => {
      const { calls, sentCalls, cancels, call } = setUp();
      calls.setWindow(1);
      const b = lane('b');
      call(b, 1); // holds the only slot
      const a = lane('a');
      call(a, 1, { ik: 'key-1' });
      calls.leave(a);
      calls.answered(1, result(1));
      expect(sentCalls()).toEqual([1]);
      expect(cancels()).toEqual([]);
    });
  });
});
