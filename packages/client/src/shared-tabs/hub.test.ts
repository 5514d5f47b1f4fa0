import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TabHub } from './hub.js';
import type { HubMessage, PortLike, TabMessage } from './messages.js';
import type { UpstreamSocket } from './upstream.js';

/** A frame as the test reads it back from the wire. */
type Frame = Record<string, unknown>;

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 3;

/** The hub's WebSocket to the server, played by the test. */
class FakeSocket implements UpstreamSocket {
  binaryType = 'blob';
  readyState = CONNECTING;
  onopen: UpstreamSocket['onopen'] = null;
  onmessage: UpstreamSocket['onmessage'] = null;
  onclose: UpstreamSocket['onclose'] = null;
  onerror: UpstreamSocket['onerror'] = null;
  readonly sent: Frame[] = [];
  closedWith: { code: number | undefined; reason: string | undefined } | undefined;

  constructor(readonly url: string) {}

  send(data: string | Uint8Array): void {
    this.sent.push(JSON.parse(String(data)) as Frame);
  }

  close(code?: number, reason?: string): void {
    this.closedWith = { code, reason };
    this.readyState = CLOSED;
  }

  /** The socket opens and the server welcomes the hello it was sent. */
  welcome(extra: object = {}): void {
    this.readyState = OPEN;
    this.onopen?.({});
    this.receive({ t: 'welcome', fp: 'fp', hb: 10_000, ...extra });
  }

  receive(frame: object): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }

  closed(code: number, reason: string): void {
    this.readyState = CLOSED;
    this.onclose?.({ code, reason });
  }
}

/** A tab's end of a MessagePort: what the hub posts to it is recorded, and the test speaks for it. */
class FakePort implements PortLike {
  onmessage: unknown = null;
  readonly posted: HubMessage[] = [];
  started = false;
  closed = false;

  postMessage(message: unknown): void {
    this.posted.push(message as HubMessage);
  }

  start(): void {
    this.started = true;
  }

  close(): void {
    this.closed = true;
  }

  tell(message: TabMessage): void {
    (this.onmessage as (event: { data: unknown }) => void)({ data: message });
  }

  /** Opens virtual socket `sid` and says hello on it. */
  hello(sid: number, fp = 'fp', url = 'wss://server.test'): void {
    this.tell({ op: 'open', sid, url });
    this.send(sid, { t: 'hello', fp, bin: true });
  }

  send(sid: number, frame: object | string): void {
    this.tell({ op: 'send', sid, data: typeof frame === 'string' ? frame : JSON.stringify(frame) });
  }

  /** Frames the hub passed to virtual socket `sid`. */
  frames(sid: number): Frame[] {
    return this.posted.flatMap((message) =>
      message.op === 'message' && message.sid === sid ? [JSON.parse(message.data) as Frame] : [],
    );
  }

  closes(sid: number): { code: number; reason: string }[] {
    return this.posted.flatMap((message) =>
      message.op === 'close' && message.sid === sid ? [{ code: message.code, reason: message.reason }] : [],
    );
  }
}

function setUp(options: { silentLimitMs?: number } = {}) {
  const sockets: FakeSocket[] = [];
  const hub = new TabHub((url) => {
    const socket = new FakeSocket(url);
    sockets.push(socket);
    return socket;
  }, options);
  const port = (): FakePort => {
    const created = new FakePort();
    hub.connect(created);
    return created;
  };
  return { hub, sockets, port };
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('TabHub', () => {
  describe('virtual sockets and upstreams', () => {
    it('opens virtual sockets on a port, and runs the tabs of one build over one upstream', () => {
      const { hub, sockets, port } = setUp();
      const first = port();
      const second = port();
      expect(first.started).toBe(true);
      first.tell({ op: 'open', sid: 1, url: 'wss://server.test' });
      expect(first.posted).toEqual([{ op: 'open', sid: 1 }]);
      expect(sockets).toEqual([]); // no upstream before a hello

      first.send(1, { t: 'hello', fp: 'fp', bin: true });
      second.hello(1);
      expect(sockets.map((socket) => socket.url)).toEqual(['wss://server.test']);
      sockets[0]!.welcome();
      // The worker relays text only: the hello it sends asks for no binary frames.
      expect(sockets[0]!.sent).toEqual([{ t: 'hello', fp: 'fp' }]);
      expect(first.frames(1)).toEqual([{ t: 'welcome', fp: 'fp', hb: 10_000 }]);
      expect(second.frames(1)).toEqual([{ t: 'welcome', fp: 'fp', hb: 10_000 }]);
      hub.close();
    });

    it('gives another build (contract fingerprint), or another server, an upstream of its own', () => {
      const { hub, sockets, port } = setUp();
      const tab = port();
      tab.hello(1, 'build-1');
      tab.hello(2, 'build-2');
      tab.hello(3, 'build-1', 'wss://other.test');
      tab.hello(4, 'build-1');
      expect(sockets.map((socket) => socket.url)).toEqual([
        'wss://server.test',
        'wss://server.test',
        'wss://other.test',
      ]);
      for (const socket of sockets) socket.welcome();
      expect(sockets.map((socket) => socket.sent[0]!.fp)).toEqual(['build-1', 'build-2', 'build-1']);
      expect(tab.frames(4)).toHaveLength(1); // welcomed by build-1's upstream
      hub.close();
    });
  });

  describe('call routing', () => {
    it('answers each tab’s call on the virtual socket that made it, under the id the tab gave it', () => {
      const { hub, sockets, port } = setUp();
      const first = port();
      const second = port();
      first.hello(1);
      first.hello(2); // a second client in the same tab
      second.hello(1);
      const upstream = sockets[0]!;
      upstream.welcome();
      first.send(1, { t: 'call', id: 1, p: 'add', v: 'first/1' });
      first.send(2, { t: 'call', id: 1, p: 'add', v: 'first/2' });
      second.send(1, { t: 'call', id: 1, p: 'add', v: 'second/1' });
      const calls = upstream.sent.filter((frame) => frame.t === 'call');
      expect(calls.map((frame) => frame.id)).toEqual([1, 2, 3]);

      // Answered out of order: each goes back where it came from.
      for (const call of [...calls].reverse())
        upstream.receive({ t: 'result', id: call.id, v: `re ${String(call.v)}` });
      expect(first.frames(1).slice(1)).toEqual([{ t: 'result', id: 1, v: 're first/1' }]);
      expect(first.frames(2).slice(1)).toEqual([{ t: 'result', id: 1, v: 're first/2' }]);
      expect(second.frames(1).slice(1)).toEqual([{ t: 'result', id: 1, v: 're second/1' }]);
      hub.close();
    });

    it('cancels the calls of a virtual socket its tab closes; the others’ calls go on', () => {
      const { hub, sockets, port } = setUp();
      const first = port();
      const second = port();
      first.hello(1);
      second.hello(1);
      const upstream = sockets[0]!;
      upstream.welcome();
      first.send(1, { t: 'call', id: 1, p: 'slow' });
      second.send(1, { t: 'call', id: 1, p: 'slow' });
      first.tell({ op: 'close', sid: 1 });
      expect(upstream.sent.filter((frame) => frame.t === 'cancel')).toEqual([{ t: 'cancel', id: 1 }]);
      upstream.receive({ t: 'result', id: 1, v: 'late' });
      upstream.receive({ t: 'result', id: 2, v: 'done' });
      expect(first.frames(1)).toHaveLength(1); // only the welcome
      expect(second.frames(1).at(-1)).toEqual({ t: 'result', id: 1, v: 'done' });
      expect(upstream.closedWith).toBeUndefined();
      hub.close();
    });

    it('closes with 1002 a virtual socket that speaks before hello or sends what is not wirecall.v1', () => {
      const { hub, sockets, port } = setUp();
      const tab = port();
      tab.tell({ op: 'open', sid: 1, url: 'wss://server.test' });
      tab.send(1, { t: 'call', id: 1, p: 'add' });
      tab.hello(2);
      tab.send(2, 'not json');
      tab.hello(3);
      tab.send(3, { t: 'launch' });
      tab.hello(4);
      tab.send(4, { t: 'call', id: 1 }); // checked as the server checks it: a call needs a procedure
      tab.hello(5);
      tab.send(5, { t: 'hello', fp: 'fp' }); // one hello per virtual socket
      const notWirecall = { code: 1002, reason: 'the client sent a frame that is not wirecall.v1' };
      expect([1, 2, 3, 4, 5].map((sid) => tab.closes(sid))).toEqual(Array.from({ length: 5 }, () => [notWirecall]));
      expect(sockets[0]!.sent).toEqual([]); // nothing of theirs went upstream
      tab.send(1, { t: 'call', id: 2, p: 'add' }); // a closed virtual socket: ignored
      expect(tab.closes(1)).toHaveLength(1);
      expect(sockets[0]!.closedWith).toEqual({ code: 1000, reason: 'no tab left' });
      hub.close();
    });

    it('closes every virtual socket with the upstream’s close code, and opens a new upstream for the next hello', () => {
      const { hub, sockets, port } = setUp();
      const tab = port();
      tab.hello(1);
      tab.hello(2);
      sockets[0]!.welcome();
      sockets[0]!.closed(1012, 'service restart');
      expect([tab.closes(1), tab.closes(2)]).toEqual([
        [{ code: 1012, reason: 'service restart' }],
        [{ code: 1012, reason: 'service restart' }],
      ]);
      tab.hello(3);
      expect(sockets).toHaveLength(2);
      hub.close();
    });
  });

  describe('tabs that go away without a word', () => {
    it('releases the virtual sockets of a port silent past the limit (1001); alive messages keep it', () => {
      const { hub, sockets, port } = setUp({ silentLimitMs: 3_000 });
      const quiet = port();
      const chatty = port();
      quiet.hello(1);
      chatty.hello(1);
      sockets[0]!.welcome();
      quiet.send(1, { t: 'call', id: 1, p: 'slow' });
      for (let second = 1; second <= 3; second++) {
        vi.advanceTimersByTime(1_000);
        chatty.tell({ op: 'alive' });
      }
      expect(quiet.closes(1)).toEqual([]); // silent for exactly the limit: not yet
      vi.advanceTimersByTime(1_000);
      chatty.tell({ op: 'alive' });

      expect(quiet.closes(1)).toEqual([{ code: 1001, reason: 'the page was silent too long' }]);
      expect(chatty.closes(1)).toEqual([]);
      expect(sockets[0]!.sent.filter((frame) => frame.t === 'cancel')).toEqual([{ t: 'cancel', id: 1 }]);
      expect(quiet.closed).toBe(false); // the port stays: a tab that wakes up reconnects on it

      quiet.hello(2);
      expect(quiet.frames(2)).toEqual([{ t: 'welcome', fp: 'fp', hb: 10_000 }]);
      hub.close();
    });

    it('on `bye` (the page is hidden) releases its virtual sockets with 1001, and the upstream with the last', () => {
      const { hub, sockets, port } = setUp();
      const tab = port();
      tab.hello(1);
      tab.hello(2);
      sockets[0]!.welcome();
      tab.tell({ op: 'bye' });
      expect([tab.closes(1), tab.closes(2)]).toEqual([
        [{ code: 1001, reason: 'the page was hidden' }],
        [{ code: 1001, reason: 'the page was hidden' }],
      ]);
      expect(sockets[0]!.closedWith).toEqual({ code: 1000, reason: 'no tab left' });
      tab.hello(3); // back from the back/forward cache
      expect(sockets).toHaveLength(2);
      hub.close();
    });

    it('close() closes every port and upstream, and stops watching for silence', () => {
      const { hub, sockets, port } = setUp({ silentLimitMs: 3_000 });
      const tab = port();
      tab.hello(1);
      sockets[0]!.welcome();
      hub.close();
      expect(tab.closed).toBe(true);
      expect(sockets[0]!.closedWith).toEqual({ code: 1000, reason: 'no tab left' });
      const before = tab.posted.length;
      vi.advanceTimersByTime(60_000);
      expect(tab.posted).toHaveLength(before);
      expect(vi.getTimerCount()).toBe(0);
    });
  });
});
