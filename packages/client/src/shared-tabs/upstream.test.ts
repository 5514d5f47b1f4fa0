import { CLOSE_CODES } from '@wirecall/core/internal';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CLIENT_DEFAULTS } from '../options.js';
import type { Lane } from './lane.js';
import { Upstream, type UpstreamSocket } from './upstream.js';

/** A frame as the test reads it back from the wire. */
type Frame = Record<string, unknown>;

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 3;
const HELLO = '{"t":"hello","fp":"fp"}';

/** The worker's real WebSocket, played by the test. */
class FakeSocket implements UpstreamSocket {
  binaryType = 'blob';
  readyState = CONNECTING;
  onopen: UpstreamSocket['onopen'] = null;
  onmessage: UpstreamSocket['onmessage'] = null;
  onclose: UpstreamSocket['onclose'] = null;
  onerror: UpstreamSocket['onerror'] = null;
  readonly sent: Frame[] = [];
  closedWith: { code: number | undefined; reason: string | undefined } | undefined;

  send(data: string | Uint8Array): void {
    this.sent.push(JSON.parse(String(data)) as Frame);
  }

  close(code?: number, reason?: string): void {
    this.closedWith = { code, reason };
    this.readyState = CLOSED;
  }

  open(): void {
    this.readyState = OPEN;
    this.onopen?.({});
  }

  receive(frame: object | string): void {
    this.onmessage?.({ data: typeof frame === 'string' ? frame : JSON.stringify(frame) });
  }

  closed(code: number, reason: string): void {
    this.readyState = CLOSED;
    this.onclose?.({ code, reason });
  }
}

/** A tab's virtual socket that records what it is sent and how it was closed. */
function lane(): Lane & { got: Frame[]; closedWith: { code: number; reason: string } | undefined } {
  const result = {
    got: [] as Frame[],
    closedWith: undefined as { code: number; reason: string } | undefined,
    send: (text: string) => result.got.push(JSON.parse(text) as Frame),
    close: (code: number, reason: string) => {
      result.closedWith = { code, reason };
    },
  };
  return result;
}

function setUp() {
  const socket = new FakeSocket();
  const onEnd = vi.fn();
  const upstream = new Upstream(socket, HELLO, onEnd);
  /** A lane that joined and was welcomed. */
  const welcomed = (welcome: object = { t: 'welcome', fp: 'fp', hb: 10_000 }) => {
    const first = lane();
    upstream.join(first);
    socket.open();
    socket.receive(welcome);
    return first;
  };
  return { socket, upstream, onEnd, welcomed };
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('Upstream', () => {
  describe('hello and welcome', () => {
    it('says the first tab’s hello once the socket opens, and hands the welcome to every lane', () => {
      const { socket, upstream } = setUp();
      const a = lane();
      const b = lane();
      upstream.join(a);
      upstream.join(b);
      expect(socket.sent).toEqual([]);
      socket.open();
      expect(socket.sent).toEqual([JSON.parse(HELLO)]);

      socket.receive({ t: 'welcome', fp: 'fp', hb: 10_000 });
      expect(a.got).toEqual([{ t: 'welcome', fp: 'fp', hb: 10_000 }]);
      expect(b.got).toEqual([{ t: 'welcome', fp: 'fp', hb: 10_000 }]);
      const late = lane();
      upstream.join(late); // joins a welcomed socket: answered at once, no second hello
      expect(late.got).toEqual([{ t: 'welcome', fp: 'fp', hb: 10_000 }]);
      expect(socket.sent).toHaveLength(1);
    });

    it('keeps to the server’s window (welcome.mi) across all lanes', () => {
      const { socket, upstream, welcomed } = setUp();
      const a = welcomed({ t: 'welcome', fp: 'fp', hb: 10_000, mi: 1 });
      const b = lane();
      upstream.join(b);
      upstream.fromLane(a, { t: 'call', id: 1, p: 'op' });
      upstream.fromLane(b, { t: 'call', id: 1, p: 'op' });
      expect(socket.sent.filter((frame) => frame.t === 'call')).toHaveLength(1);
      socket.receive({ t: 'result', id: 1, v: 'A' });
      expect(socket.sent.filter((frame) => frame.t === 'call').map((frame) => frame.id)).toEqual([1, 2]);
    });
  });

  describe('routing', () => {
    it('sends each answer back to the lane of its call, under the tab’s id', () => {
      const { socket, upstream, welcomed } = setUp();
      const a = welcomed();
      const b = lane();
      upstream.join(b);
      expect(upstream.fromLane(a, { t: 'call', id: 5, p: 'op' })).toBe(true);
      expect(upstream.fromLane(b, { t: 'call', id: 5, p: 'op' })).toBe(true);
      socket.receive({ t: 'error', id: 2, e: { code: 'NOT_FOUND', message: 'no' } });
      socket.receive({ t: 'result', id: 1, v: 'A' });

      expect(a.got.slice(1)).toEqual([{ t: 'result', id: 5, v: 'A' }]);
      expect(b.got.slice(1)).toEqual([{ t: 'error', id: 5, e: { code: 'NOT_FOUND', message: 'no' } }]);
    });

    it('sends a streaming call’s items and credits to its tab while the call goes on', () => {
      const { socket, upstream, welcomed } = setUp();
      const a = welcomed();
      upstream.fromLane(a, { t: 'call', id: 9, p: 'count', cr: 2 });
      socket.receive({ t: 'item', id: 1, v: 1 });
      socket.receive({ t: 'credit', id: 1, n: 4 });
      socket.receive({ t: 'item', id: 77, v: 1 }); // nobody's
      upstream.fromLane(a, { t: 'credit', id: 9, n: 2 });
      socket.receive({ t: 'result', id: 1, v: 2 });

      expect(a.got.slice(1)).toEqual([
        { t: 'item', id: 9, v: 1 },
        { t: 'credit', id: 9, n: 4 },
        { t: 'result', id: 9, v: 2 },
      ]);
      expect(socket.sent.at(-1)).toEqual({ t: 'credit', id: 1, n: 2 });
    });

    it('refuses a subscription to every lane that asked, and sends an error about the connection to all', () => {
      const { socket, upstream, welcomed } = setUp();
      const a = welcomed();
      const b = lane();
      upstream.join(b);
      upstream.fromLane(a, { t: 'sub', id: 3, e: 'tick' });
      upstream.fromLane(b, { t: 'sub', id: 4, e: 'tick' });
      socket.receive({ t: 'error', id: 1, e: { code: 'FORBIDDEN', message: 'no' } });
      socket.receive({ t: 'error', e: { code: 'BAD_REQUEST', message: 'what frame?' } });

      expect(a.got.slice(1)).toEqual([
        { t: 'error', id: 3, e: { code: 'FORBIDDEN', message: 'no' } },
        { t: 'error', e: { code: 'BAD_REQUEST', message: 'what frame?' } },
      ]);
      expect(b.got.slice(1)).toEqual([
        { t: 'error', id: 4, e: { code: 'FORBIDDEN', message: 'no' } },
        { t: 'error', e: { code: 'BAD_REQUEST', message: 'what frame?' } },
      ]);
    });

    it('answers the lanes’ pings itself, passes messages up, and turns presence away', () => {
      const { socket, upstream, welcomed } = setUp();
      const a = welcomed();
      const sentBefore = socket.sent.length;
      upstream.fromLane(a, { t: 'ping' });
      upstream.fromLane(a, { t: 'psub', id: 8, e: 'room' });
      upstream.fromLane(a, { t: 'pset', id: 8 });
      upstream.fromLane(a, { t: 'pdel', id: 8 });
      upstream.fromLane(a, { t: 'msg', n: 'typing', v: true });

      expect(a.got.slice(1)).toEqual([
        { t: 'pong' },
        {
          t: 'error',
          id: 8,
          e: { code: 'BAD_REQUEST', message: 'presence is not available with shareAcrossTabs' },
        },
      ]);
      expect(socket.sent.slice(sentBefore)).toEqual([{ t: 'msg', n: 'typing', v: true }]);
      expect(upstream.fromLane(a, { t: 'hello', fp: 'fp' })).toBe(false); // one hello per lane
    });
  });

  describe('heartbeat', () => {
    it('runs the client’s heartbeat: a ping after 10 s of silence, and after 20 s every lane closes with 1006', () => {
      const { intervalMs, timeoutMs } = CLIENT_DEFAULTS.heartbeat;
      expect([intervalMs, timeoutMs]).toEqual([10_000, 20_000]);
      const { socket, onEnd, welcomed } = setUp();
      const a = welcomed();
      vi.advanceTimersByTime(intervalMs - 1);
      expect(socket.sent.filter((frame) => frame.t === 'ping')).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(socket.sent.filter((frame) => frame.t === 'ping')).toHaveLength(1);
      expect(a.closedWith).toBeUndefined();

      vi.advanceTimersByTime(timeoutMs - intervalMs);
      // The socket goes as a client drops one to reconnect (browsers allow no 1006 from a page).
      expect(socket.closedWith).toEqual({ code: CLOSE_CODES.CLIENT_RECONNECTING, reason: 'heartbeat timed out' });
      expect(a.closedWith).toEqual({ code: CLOSE_CODES.ABNORMAL, reason: 'heartbeat timed out' });
      expect(onEnd).toHaveBeenCalledOnce();
    });

    it('counts any frame from the server as a sign of life', () => {
      const { socket, welcomed } = setUp();
      const a = welcomed();
      for (let second = 0; second < 60; second += 9) {
        vi.advanceTimersByTime(9_000);
        socket.receive({ t: 'pong' });
      }
      expect(socket.sent.filter((frame) => frame.t === 'ping')).toEqual([]);
      expect(a.closedWith).toBeUndefined();
    });
  });

  describe('the end', () => {
    it('closes every lane with the socket’s close code, so each tab reconnects as it would alone', () => {
      const { socket, upstream, onEnd, welcomed } = setUp();
      const a = welcomed();
      const b = lane();
      upstream.join(b);
      socket.closed(1012, 'restarting');
      expect([a.closedWith, b.closedWith]).toEqual([
        { code: 1012, reason: 'restarting' },
        { code: 1012, reason: 'restarting' },
      ]);
      expect(onEnd).toHaveBeenCalledOnce();
      vi.advanceTimersByTime(60_000); // the heartbeat stopped: nothing more happens
      expect(socket.sent.filter((frame) => frame.t === 'ping')).toEqual([]);
    });

    it('closes the socket when the last lane leaves', () => {
      const { socket, upstream, onEnd, welcomed } = setUp();
      const a = welcomed();
      const b = lane();
      upstream.join(b);
      upstream.leave(a);
      upstream.leave(a);
      expect(socket.closedWith).toBeUndefined();
      upstream.leave(b);
      expect(socket.closedWith).toEqual({ code: 1000, reason: 'no tab left' });
      expect(onEnd).toHaveBeenCalledOnce();
    });

    it.each([
      ['not JSON', '{not json'],
      ['of an unknown type', { t: 'surprise' }],
      ['malformed (a result without an id)', { t: 'result', v: 1 }],
    ])('closes everything with 1002 when the server sends a frame %s, as each tab’s client would', (_, frame) => {
      const { socket, welcomed } = setUp();
      const a = welcomed();
      socket.receive(frame);
      expect(a.closedWith).toEqual({ code: 1002, reason: 'the server sent a frame that is not wirecall.v1' });
      expect(socket.closedWith?.code).toBe(1000); // what a browser lets a page send
    });
  });
});
