import { PROTOCOL, WirecallError, type ServerEnvelope, type WelcomeEnvelope } from '@wirecall/core/internal';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CLIENT_DEFAULTS, type ResolvedHeartbeat, type ResolvedReconnect } from '../options.js';
import {
  ConnectionManager,
  type ConnectionManagerOptions,
  type SocketLike,
  type StateChange,
} from './connection-manager.js';

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 3;

/** A WebSocket the test drives: it records what the manager does and fires what the test says. */
class FakeSocket implements SocketLike {
  static created: FakeSocket[] = [];
  binaryType = 'blob';
  readyState = CONNECTING;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  readonly sent: (string | Uint8Array)[] = [];
  closedWith: { code: number | undefined; reason: string | undefined } | undefined;
  terminated = false;

  constructor(
    readonly url: string,
    readonly protocols: string | string[],
  ) {
    FakeSocket.created.push(this);
  }

  send(data: string | Uint8Array): void {
    this.sent.push(data);
  }

  close(code?: number, reason?: string): void {
    this.closedWith = { code, reason };
  }

  terminate(): void {
    this.terminated = true;
    this.readyState = CLOSED;
  }

  // What the network does:

  open(): void {
    this.readyState = OPEN;
    this.onopen?.({});
  }

  receive(frame: unknown): void {
    this.onmessage?.({ data: typeof frame === 'string' ? frame : JSON.stringify(frame) });
  }

  welcome(extra: Partial<WelcomeEnvelope> = {}): void {
    this.receive({ t: 'welcome', fp: 'fp', hb: 10_000, ...extra });
  }

  /** The connection ends (the server closed it, or it never opened: 1006). */
  closed(code: number, reason = ''): void {
    this.readyState = CLOSED;
    this.onclose?.({ code, reason });
  }

  /** The upgrade failed (`ws` reports the HTTP status in the error), then the socket closes with 1006. */
  refusedUpgrade(status: number): void {
    this.onerror?.({ message: `Unexpected server response: ${status}` });
    this.closed(1006);
  }
}

const latest = (): FakeSocket => FakeSocket.created.at(-1)!;

const reconnect = (overrides: Partial<ResolvedReconnect> = {}): ResolvedReconnect => ({
  ...CLIENT_DEFAULTS.reconnect,
  minDelayMs: 100,
  maxDelayMs: 1_000,
  factor: 2,
  jitter: 1,
  ...overrides,
});

interface Setup {
  manager: ConnectionManager;
  changes: StateChange[];
  hooks: {
    opened: ReturnType<typeof vi.fn<(welcome: WelcomeEnvelope) => void>>;
    received: ReturnType<typeof vi.fn<(envelope: ServerEnvelope) => void>>;
    lost: ReturnType<typeof vi.fn<(error: WirecallError, final: boolean) => void>>;
  };
  reportError: ReturnType<typeof vi.fn<(error: unknown, context: string) => void>>;
}

function setUp(
  options: Partial<ConnectionManagerOptions> & { heartbeat?: ResolvedHeartbeat | false } = {},
  hello: () => string | Promise<string> = () => '{"t":"hello"}',
): Setup {
  const hooks = {
    opened: vi.fn<(welcome: WelcomeEnvelope) => void>(),
    received: vi.fn<(envelope: ServerEnvelope) => void>(),
    lost: vi.fn<(error: WirecallError, final: boolean) => void>(),
  };
  const reportError = vi.fn<(error: unknown, context: string) => void>();
  const manager = new ConnectionManager(
    {
      url: 'ws://server.test',
      WebSocket: FakeSocket,
      reconnect: reconnect(),
      heartbeat: false,
      random: () => 0.5,
      reportError,
      ...options,
    },
    { hello, ...hooks },
  );
  const changes: StateChange[] = [];
  manager.onStateChange((change) => changes.push(change));
  return { manager, changes, hooks, reportError };
}

/** Starts the manager and lets its (async) connect create the socket. */
async function started(setup: Setup): Promise<FakeSocket> {
  setup.manager.start();
  await vi.advanceTimersByTimeAsync(0);
  return latest();
}

/** Opens and welcomes the socket. */
async function connected(setup: Setup): Promise<FakeSocket> {
  const socket = await started(setup);
  socket.open();
  socket.welcome();
  return socket;
}

const states = (changes: StateChange[]): string[] => changes.map((change) => change.state);

beforeEach(() => {
  vi.useFakeTimers();
  FakeSocket.created = [];
});

afterEach(() => {
  vi.useRealTimers();
});

describe('ConnectionManager', () => {
  describe('state machine', () => {
    it('connects with the wirecall protocol, sends hello first, and is open on welcome', async () => {
      const setup = setUp();
      expect(setup.manager.state).toBe('connecting');
      const socket = await started(setup);
      expect(socket.url).toBe('ws://server.test');
      expect(socket.protocols).toBe(PROTOCOL);
      expect(socket.binaryType).toBe('arraybuffer');
      expect(setup.manager.send('{"t":"msg"}')).toBe(false); // not open yet: the caller queues

      socket.open();
      expect(socket.sent).toEqual(['{"t":"hello"}']);
      expect(setup.manager.state).toBe('connecting'); // open socket, not welcomed yet
      socket.welcome({ mi: 8 });

      expect(setup.manager.state).toBe('open');
      expect(setup.changes).toEqual([{ state: 'open', previous: 'connecting', attempt: 0 }]);
      expect(setup.hooks.opened).toHaveBeenCalledWith({ t: 'welcome', fp: 'fp', hb: 10_000, mi: 8 });
      expect(setup.manager.send('{"t":"msg"}')).toBe(true);
      expect(socket.sent.at(-1)).toBe('{"t":"msg"}');
    });

    it('hands every other envelope to the client, and drops a server that does not speak wirecall.v1', async () => {
      const setup = setUp();
      const socket = await connected(setup);
      socket.receive({ t: 'result', id: 1, v: 2 });
      expect(setup.hooks.received).toHaveBeenCalledWith({ t: 'result', id: 1, v: 2 });

      socket.receive('not json');
      expect(socket.closedWith?.code).toBe(1002);
      expect(setup.manager.state).toBe('reconnecting');
      expect(setup.changes.at(-1)).toMatchObject({ state: 'reconnecting', closeCode: 1002 });
    });

    it('goes open → reconnecting → open on a drop, and tells the client the drop is not final', async () => {
      const setup = setUp();
      const first = await connected(setup);
      first.closed(1011, 'server error');

      expect(setup.changes.at(-1)).toMatchObject({
        state: 'reconnecting',
        previous: 'open',
        attempt: 1,
        closeCode: 1011,
        delayMs: 50, // 100 × (1 − 1 × 0.5)
      });
      expect(setup.hooks.lost).toHaveBeenCalledWith(expect.objectContaining({ code: 'CONNECTION_LOST' }), false);
      await vi.advanceTimersByTimeAsync(50);
      const second = latest();
      expect(second).not.toBe(first);
      second.open();
      second.welcome();

      expect(states(setup.changes)).toEqual(['open', 'reconnecting', 'open']);
      expect(setup.changes.at(-1)).toMatchObject({ state: 'open', previous: 'reconnecting', attempt: 0 });
      expect(setup.hooks.opened).toHaveBeenCalledTimes(2);
    });

    it('closes for good on 1000 from the server, and on close()', async () => {
      const setup = setUp();
      const socket = await connected(setup);
      socket.closed(1000, 'bye');
      expect(setup.changes.at(-1)).toMatchObject({ state: 'closed', closeCode: 1000 });
      expect(setup.hooks.lost).toHaveBeenCalledWith(expect.anything(), true);
      await vi.advanceTimersByTimeAsync(60_000);
      expect(FakeSocket.created).toHaveLength(1);

      const other = setUp();
      const otherSocket = await connected(other);
      let done = false;
      const closing = other.manager.close().then(() => (done = true));
      expect(otherSocket.closedWith).toEqual({ code: 1000, reason: 'client closed' });
      expect(other.manager.state).toBe('closed');
      expect(other.changes.at(-1)).toMatchObject({ state: 'closed', previous: 'open', error: { code: 'CLOSED' } });
      await vi.advanceTimersByTimeAsync(0);
      expect(done).toBe(false); // waits for the closing handshake...
      otherSocket.closed(1000);
      await closing;
      expect(done).toBe(true);
      expect(other.hooks.lost).not.toHaveBeenCalled();
    });

    it('does not wait for ever on a peer that never finishes the closing handshake', async () => {
      const setup = setUp();
      await connected(setup);
      let done = false;
      void setup.manager.close().then(() => (done = true));
      await vi.advanceTimersByTimeAsync(999);
      expect(done).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      expect(done).toBe(true);
    });

    it('reconnect() drops the socket and connects again at once', async () => {
      const setup = setUp();
      const first = await connected(setup);
      setup.manager.reconnect();
      expect(first.terminated).toBe(true);
      expect(first.closedWith).toBeUndefined(); // not 1000: that would tell the server the client left
      await vi.advanceTimersByTimeAsync(0);
      expect(FakeSocket.created).toHaveLength(2);
    });
  });

  describe('backoff', () => {
    it('waits the jittered exponential delay between attempts, from the injected random source', async () => {
      const randoms = [0.25, 0.5, 0, 0.9, 0.1];
      const setup = setUp({ random: () => randoms.shift() ?? 0 });
      const seen: number[] = [];
      await started(setup);
      for (let attempt = 1; attempt <= 5; attempt++) {
        latest().closed(1006); // the attempt failed
        const { delayMs } = setup.changes.at(-1)!;
        seen.push(delayMs!);
        const before = FakeSocket.created.length;
        if (delayMs! > 0) {
          await vi.advanceTimersByTimeAsync(delayMs! - 1);
          expect(FakeSocket.created).toHaveLength(before); // not a moment early
        }
        await vi.advanceTimersByTimeAsync(1);
        expect(FakeSocket.created).toHaveLength(before + 1);
      }
      // Caps 100, 200, 400, 800, 1000 (maxDelayMs), each times (1 − random).
      expect(seen).toEqual([75, 100, 400, 80, 900]);
      expect(setup.changes.map((change) => change.attempt)).toEqual([1, 2, 3, 4, 5]);
    });

    it('reconnects at once after 1001 (the server restarts), then backs off', async () => {
      const setup = setUp({ random: () => 0 });
      const socket = await connected(setup);
      socket.closed(1001, 'going away');
      expect(setup.changes.at(-1)).toMatchObject({ state: 'reconnecting', delayMs: 0 });
      await vi.advanceTimersByTimeAsync(0);
      latest().closed(1006);
      expect(setup.changes.at(-1)).toMatchObject({ state: 'reconnecting', attempt: 2, delayMs: 200 });
    });

    it('stops after maxAttempts failures in a row, and a welcome resets the count', async () => {
      const setup = setUp({ reconnect: reconnect({ maxAttempts: 2 }), random: () => 1 });
      const socket = await connected(setup);
      socket.closed(1006);
      await vi.advanceTimersByTimeAsync(0);
      latest().closed(1006);
      await vi.advanceTimersByTimeAsync(0);
      latest().open();
      latest().welcome(); // attempt count back to 0
      latest().closed(1006);
      await vi.advanceTimersByTimeAsync(0);
      latest().closed(1006);
      await vi.advanceTimersByTimeAsync(0);
      latest().closed(1006);

      expect(states(setup.changes)).toEqual([
        'open',
        'reconnecting',
        'reconnecting',
        'open',
        'reconnecting',
        'reconnecting',
        'closed',
      ]);
      expect(setup.changes.at(-1)).toMatchObject({ attempt: 3, closeCode: 1006 });
      expect(setup.hooks.lost).toHaveBeenLastCalledWith(expect.anything(), true);
    });

    it('stops after maxRefusals refusals in a row (4401, or a 401 on the upgrade)', async () => {
      const setup = setUp({ reconnect: reconnect({ maxRefusals: 3 }), random: () => 1 });
      await started(setup);
      latest().closed(4401, 'unauthorized');
      await vi.advanceTimersByTimeAsync(0);
      latest().refusedUpgrade(401);
      await vi.advanceTimersByTimeAsync(0);
      latest().refusedUpgrade(503); // capacity, not a refusal: the count starts again
      await vi.advanceTimersByTimeAsync(0);
      latest().closed(4401);
      await vi.advanceTimersByTimeAsync(0);
      latest().closed(4401);
      await vi.advanceTimersByTimeAsync(0);
      expect(setup.manager.state).toBe('reconnecting');
      latest().closed(4401);

      expect(setup.changes.map((change) => change.closeCode)).toEqual([4401, 4401, 1006, 4401, 4401, 4401]);
      expect(setup.changes.at(-1)).toMatchObject({ state: 'closed', error: { code: 'UNAUTHORIZED' } });
    });

    it('never reconnects with reconnect: false', async () => {
      const setup = setUp({ reconnect: false });
      (await connected(setup)).closed(1006);
      expect(setup.changes.at(-1)).toMatchObject({ state: 'closed', closeCode: 1006 });
      await vi.advanceTimersByTimeAsync(60_000);
      expect(FakeSocket.created).toHaveLength(1);
    });

    it('retryNow() skips the rest of the wait', async () => {
      const setup = setUp({ random: () => 0 });
      (await connected(setup)).closed(1006);
      expect(setup.changes.at(-1)!.delayMs).toBe(100);
      setup.manager.retryNow();
      await vi.advanceTimersByTimeAsync(0);
      expect(FakeSocket.created).toHaveLength(2);
      await vi.advanceTimersByTimeAsync(100);
      expect(FakeSocket.created).toHaveLength(2); // the skipped timer does not fire as well
    });
  });

  describe('heartbeat', () => {
    const heartbeat: ResolvedHeartbeat = { intervalMs: 1_000, timeoutMs: 3_000 };

    it('pings after intervalMs of silence, and measures the round trip from the pong', async () => {
      const setup = setUp({ heartbeat });
      const socket = await connected(setup);
      const pings = (): number => socket.sent.filter((frame) => frame === '{"t":"ping"}').length;
      await vi.advanceTimersByTimeAsync(999);
      expect(pings()).toBe(0);
      await vi.advanceTimersByTimeAsync(1);
      expect(pings()).toBe(1);
      await vi.advanceTimersByTimeAsync(40);
      socket.receive({ t: 'pong' });
      expect(setup.manager.rttMs).toBe(40);
      expect(setup.manager.state).toBe('open');
    });

    it('drops a socket silent for timeoutMs (a half-open connection) and reconnects', async () => {
      const setup = setUp({ heartbeat, random: () => 0 });
      const socket = await connected(setup);
      await vi.advanceTimersByTimeAsync(2_999);
      expect(setup.manager.state).toBe('open');
      await vi.advanceTimersByTimeAsync(1);

      expect(socket.terminated).toBe(true); // no closing handshake with a dead peer
      expect(setup.changes.at(-1)).toMatchObject({ state: 'reconnecting', closeCode: 1006, delayMs: 100 });
      expect(setup.hooks.lost).toHaveBeenCalledWith(expect.objectContaining({ code: 'CONNECTION_LOST' }), false);
      await vi.advanceTimersByTimeAsync(100);
      expect(FakeSocket.created).toHaveLength(2);
    });

    it('keeps a socket that answers: every frame counts as a sign of life', async () => {
      const setup = setUp({ heartbeat });
      const socket = await connected(setup);
      for (let second = 0; second < 10; second++) {
        await vi.advanceTimersByTimeAsync(1_000);
        socket.receive({ t: 'pong' });
      }
      expect(setup.manager.state).toBe('open');
      expect(socket.terminated).toBe(false);
    });

    it('keeps an idle connection to a live server: it pings intervalMs after the last frame, not on a fixed phase', async () => {
      const setup = setUp({ heartbeat: { intervalMs: 1_000, timeoutMs: 2_000 } });
      const socket = await connected(setup);
      const pings = (): number => socket.sent.filter((frame) => frame === '{"t":"ping"}').length;
      await vi.advanceTimersByTimeAsync(50);
      socket.receive({ t: 'result', id: 1 }); // the app's last answer, 50 ms after the welcome
      for (let round = 0; round < 10; round++) {
        const before = pings();
        await vi.advanceTimersByTimeAsync(1_000); // a ping is due 1 s after the last frame
        expect(pings(), `round ${round}`).toBe(before + 1);
        await vi.advanceTimersByTimeAsync(30);
        socket.receive({ t: 'pong' }); // the live server answers
      }
      expect(setup.manager.state).toBe('open');
      expect(socket.terminated).toBe(false);
    });

    it('gives a connect attempt timeoutMs to be welcomed', async () => {
      const setup = setUp({ heartbeat });
      const socket = await started(setup);
      socket.open(); // but no welcome ever comes
      await vi.advanceTimersByTimeAsync(3_000);
      expect(socket.terminated).toBe(true);
      expect(setup.manager.state).toBe('reconnecting');
    });

    it('rejects a ping in flight with CONNECTION_LOST when the socket goes', async () => {
      const setup = setUp({ heartbeat });
      const socket = await connected(setup);
      const ping = setup.manager.ping();
      socket.closed(1006);
      await expect(ping).rejects.toMatchObject({ code: 'CONNECTION_LOST' });
      await expect(setup.manager.ping()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    });
  });

  describe('a throwing onStateChange listener', () => {
    it('does not skip the retry timer when the connection drops', async () => {
      const setup = setUp({ random: () => 0 });
      const boom = new Error('listener bug');
      setup.manager.onStateChange(() => {
        throw boom;
      });
      const after: string[] = [];
      setup.manager.onStateChange((change) => after.push(change.state));
      const socket = await connected(setup);

      expect(() => socket.closed(1006)).not.toThrow();
      expect(setup.manager.state).toBe('reconnecting');
      expect(setup.hooks.lost).toHaveBeenCalledWith(expect.anything(), false);
      await vi.advanceTimersByTimeAsync(100);
      expect(FakeSocket.created).toHaveLength(2);
      latest().open();
      latest().welcome();

      expect(setup.manager.state).toBe('open');
      expect(setup.hooks.opened).toHaveBeenCalledTimes(2); // queued calls flush after the throw
      expect(after).toEqual(['open', 'reconnecting', 'open']); // the listeners after it still hear
      expect(setup.reportError).toHaveBeenCalledTimes(3);
      expect(setup.reportError).toHaveBeenCalledWith(boom, 'onStateChange listener');
    });

    it('does not break close() or a final drop', async () => {
      const setup = setUp({ reconnect: false });
      setup.manager.onStateChange(() => {
        throw new Error('listener bug');
      });
      (await connected(setup)).closed(1006);
      expect(setup.manager.state).toBe('closed');
      expect(setup.hooks.lost).toHaveBeenCalledWith(expect.anything(), true);

      const other = setUp();
      other.manager.onStateChange(() => {
        throw new Error('listener bug');
      });
      const socket = await connected(other);
      const closing = other.manager.close();
      expect(socket.closedWith?.code).toBe(1000);
      socket.closed(1000);
      await expect(closing).resolves.toBeUndefined();
    });

    it('is reported to console.error when no reportError is given', async () => {
      const printed = vi.spyOn(console, 'error').mockImplementation(() => {});
      try {
        const setup = setUp({ reportError: undefined });
        const boom = new Error('listener bug');
        setup.manager.onStateChange(() => {
          throw boom;
        });
        await connected(setup);
        expect(setup.manager.state).toBe('open');
        expect(printed).toHaveBeenCalledWith('[wirecall] error in onStateChange listener', boom);
      } finally {
        printed.mockRestore();
      }
    });
  });

  it('counts connection params the contract refuses (found before any socket) like a 4401', async () => {
    let calls = 0;
    const setup = setUp({ reconnect: reconnect({ maxRefusals: 2 }), random: () => 1 }, () => {
      calls++;
      throw new WirecallError('UNAUTHORIZED', 'invalid connection params at token');
    });
    setup.manager.start();
    await vi.advanceTimersByTimeAsync(0);

    expect(FakeSocket.created).toHaveLength(0);
    expect(calls).toBe(2);
    expect(setup.changes).toMatchObject([
      { state: 'reconnecting', closeCode: 4401, delayMs: 0 },
      { state: 'closed', closeCode: 4401, error: { code: 'UNAUTHORIZED' } },
    ]);
  });
});
