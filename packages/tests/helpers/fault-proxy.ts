import net from 'node:net';

/**
 * A TCP fault proxy for chaos tests, with toxiproxy's vocabulary: it sits between a client and a
 * server on 127.0.0.1 and forwards bytes both ways until told to misbehave.
 *
 * - `resetAll()`: toxiproxy's `reset_peer`: every open connection is cut with a TCP RST, both halves.
 * - `blackhole(true)`: toxiproxy's `timeout` toxic with timeout 0: bytes are dropped in both
 *   directions and nothing is closed, a half-open link. Closes seen meanwhile are held back too (a
 *   FIN lost on a dead network) and delivered when the black hole ends.
 * - `latency(ms)`: toxiproxy's `latency` toxic: every chunk is delayed, order kept.
 * - `setEnabled(false)`: toxiproxy's disabled proxy: open connections are reset, new ones are reset
 *   as soon as they are accepted (the port stays bound, so nobody else can take it).
 */
export interface FaultProxy extends AsyncDisposable {
  /** The port the proxy listens on. */
  readonly port: number;
  /** `ws://127.0.0.1:<port>`, ready for createClient. */
  readonly url: string;
  /** Connections accepted so far, including those refused while disabled. */
  readonly accepted: number;
  /** Connections currently forwarding (client and upstream both alive). */
  readonly open: number;
  /** Cuts every open connection with an RST; returns how many were cut. */
  resetAll(): number;
  /**
   * Starts or ends a black hole: bytes dropped, nothing closed. `stream` picks the direction, as in
   * toxiproxy: `upstream` is client to server, `downstream` server to client. @default 'both'
   */
  blackhole(on: boolean, stream?: 'both' | 'upstream' | 'downstream'): void;
  /** Delays every chunk by `ms` (0 to stop). */
  latency(ms: number): void;
  /** `false`: resets open connections and every new one; `true`: forwards again. */
  setEnabled(on: boolean): void;
  /** Stops listening and destroys every connection. */
  close(): Promise<void>;
}

interface Direction {
  /** Whether a black hole swallows this direction now. */
  blocked: () => boolean;
  from: net.Socket;
  to: net.Socket;
  /** Chunks waiting for their latency to pass; `null` marks the end of the stream. */
  queue: { due: number; chunk: Buffer | null }[];
  timer: ReturnType<typeof setTimeout> | undefined;
  lastDue: number;
}

interface Pair {
  client: net.Socket;
  upstream: net.Socket;
  up: Direction;
  down: Direction;
  /** A side closed during a black hole; the other side learns when the black hole ends. */
  closeHeld: boolean;
}

function reset(socket: net.Socket): void {
  if (socket.destroyed) return;
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}

/** Starts a proxy on 127.0.0.1 and a free port in front of `targetPort`. */
export async function startFaultProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<FaultProxy> {
  const pairs = new Set<Pair>();
  let accepted = 0;
  let latencyMs = 0;
  const blackholed = { upstream: false, downstream: false };
  let enabled = true;

  function schedule(direction: Direction): void {
    if (direction.timer !== undefined) return;
    const head = direction.queue[0];
    if (head === undefined) return;
    direction.timer = setTimeout(
      () => {
        direction.timer = undefined;
        flush(direction);
      },
      Math.max(0, head.due - Date.now()),
    );
  }

  function flush(direction: Direction): void {
    const now = Date.now();
    while (direction.queue.length > 0 && (direction.queue[0]?.due ?? 0) <= now) {
      const { chunk } = direction.queue.shift()!;
      if (direction.to.destroyed) continue;
      if (chunk === null) direction.to.end();
      else direction.to.write(chunk);
    }
    schedule(direction);
  }

  function forward(direction: Direction, chunk: Buffer | null): void {
    if (latencyMs === 0 && direction.queue.length === 0) {
      if (direction.to.destroyed) return;
      if (chunk === null) direction.to.end();
      else direction.to.write(chunk);
      return;
    }
    const due = Math.max(Date.now() + latencyMs, direction.lastDue);
    direction.lastDue = due;
    direction.queue.push({ due, chunk });
    schedule(direction);
  }

  function release(pair: Pair): void {
    if (!pairs.delete(pair)) return;
    clearTimeout(pair.up.timer);
    clearTimeout(pair.down.timer);
    pair.up.queue.length = 0;
    pair.down.queue.length = 0;
  }

  function wire(pair: Pair, direction: Direction, peer: net.Socket): void {
    const { from } = direction;
    from.on('data', (chunk: Buffer) => {
      if (!direction.blocked()) forward(direction, chunk);
    });
    from.on('end', () => {
      if (direction.blocked()) pair.closeHeld = true;
      else forward(direction, null);
    });
    // 'close' always follows 'error'; the error itself needs a listener and nothing more.
    from.on('error', () => {});
    from.on('close', (hadError) => {
      if (direction.blocked()) {
        pair.closeHeld = true;
        return;
      }
      if (hadError) {
        release(pair);
        reset(peer);
      } else if (!peer.destroyed && direction.queue.length === 0 && !peer.writableEnded) {
        peer.end();
      }
      if (peer.destroyed) release(pair);
    });
  }

  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    accepted++;
    if (!enabled) {
      client.on('error', () => {});
      reset(client);
      return;
    }
    const upstream = net.connect({ port: targetPort, host: targetHost, allowHalfOpen: true });
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const pair: Pair = {
      client,
      upstream,
      up: { blocked: () => blackholed.upstream, from: client, to: upstream, queue: [], timer: undefined, lastDue: 0 },
      down: {
        blocked: () => blackholed.downstream,
        from: upstream,
        to: client,
        queue: [],
        timer: undefined,
        lastDue: 0,
      },
      closeHeld: false,
    };
    pairs.add(pair);
    wire(pair, pair.up, upstream);
    wire(pair, pair.down, client);
    const releaseWhenBothGone = (): void => {
      if (client.destroyed && upstream.destroyed) release(pair);
    };
    client.on('close', releaseWhenBothGone);
    upstream.on('close', releaseWhenBothGone);
  });
  server.on('error', () => {});

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as net.AddressInfo;

  function resetAll(): number {
    const cut = [...pairs];
    for (const pair of cut) {
      release(pair);
      reset(pair.client);
      reset(pair.upstream);
    }
    return cut.length;
  }

  let closed: Promise<void> | undefined;
  function close(): Promise<void> {
    closed ??= new Promise<void>((resolve) => {
      enabled = false;
      server.close(() => resolve());
      resetAll();
    });
    return closed;
  }

  return {
    port,
    url: `ws://127.0.0.1:${port}`,
    get accepted() {
      return accepted;
    },
    get open() {
      let count = 0;
      for (const pair of pairs) if (!pair.client.destroyed && !pair.upstream.destroyed) count++;
      return count;
    },
    resetAll,
    blackhole(on, stream = 'both') {
      if (stream !== 'downstream') blackholed.upstream = on;
      if (stream !== 'upstream') blackholed.downstream = on;
      if (on) return;
      // The network is back: closes that happened meanwhile reach the other side now.
      for (const pair of [...pairs]) {
        if (!pair.closeHeld) continue;
        release(pair);
        reset(pair.client);
        reset(pair.upstream);
      }
    },
    latency(ms) {
      latencyMs = Math.max(0, ms);
    },
    setEnabled(on) {
      enabled = on;
      if (!on) resetAll();
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
