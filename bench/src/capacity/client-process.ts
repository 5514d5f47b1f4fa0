/**
 * One client process of the capacity run: opens its share of the connections with the real
 * wirecall client (createClient, default heartbeat and reconnect), every one from this process's
 * own loopback source address, and subscribes each to `tick`. It records, per event, how long each
 * connection waited for it (Date.now() - sentAt).
 *
 * The source address is why there are several client processes: one (source IP, destination) pair
 * has ~28,000 ephemeral ports, and one process may hold 20,000 open files.
 */
import { createClient, type SocketConstructor, type WirecallClient } from '@wirecall/client';
import WebSocket from 'ws';
import { serveRequests } from '../ipc.js';
import { assertBuiltPackages, capacityApi } from './contract.js';

assertBuiltPackages(['@wirecall/core', '@wirecall/client']);

const timeoutMs = Number(process.env.CAPACITY_TIMEOUT_MS ?? 300_000);
setTimeout(() => {
  console.error(`hard timeout: still running after ${timeoutMs} ms, exiting`);
  process.exit(3);
}, timeoutMs).unref();
process.on('disconnect', () => process.exit(0));

type Client = WirecallClient<typeof capacityApi>;

/** What this process knows about one of its connections. */
interface Connection {
  client: Client;
  /** Set once the server confirmed the subscription on the current socket. */
  subscribed: boolean;
  /** The highest `seq` received, to tell duplicates from new events. */
  lastSeq: number;
}

/** Latencies of one event, one slot per connection of this process. */
interface Round {
  latencies: number[];
  duplicates: number;
}

const connections: Connection[] = [];
const rounds = new Map<number, Round>();
const counts = { reconnects: 0, closed: 0, subscribeErrors: 0 };

/**
 * `ws` with a fixed source address. createClient takes a WebSocket constructor `(url, protocols)`;
 * this one also tells `connection` when the server confirms a subscription. The client API has no
 * such callback (a subscription just starts delivering), so the socket watches for the
 * `subscribed` frame itself, and stops reading frames once it has seen it.
 */
function socketClass(localAddress: string, connection: () => Connection): SocketConstructor {
  // ws types its handlers' events more narrowly than wirecall's SocketLike; the objects are the same.
  return class SourceBoundSocket extends WebSocket {
    constructor(url: string, protocols: string | string[]) {
      super(url, protocols, { localAddress });
      const watch = (data: WebSocket.RawData, isBinary: boolean): void => {
        if (isBinary) return;
        const bytes = Array.isArray(data)
          ? Buffer.concat(data)
          : data instanceof ArrayBuffer
            ? Buffer.from(data)
            : data;
        const text = bytes.toString();
        if (!text.includes('"t":"subscribed"')) return;
        connection().subscribed = true;
        this.off('message', watch);
      };
      this.on('message', watch);
    }
  } as unknown as SocketConstructor;
}

interface OpenArgs {
  url: string;
  count: number;
  /** Connections opening at once: the next batch starts when this one is open and subscribed. */
  batch: number;
  localAddress: string;
  /** How long one batch may take before the run fails. */
  batchTimeoutMs: number;
}

function openOne(url: string, localAddress: string): Connection {
  // The socket class needs the connection, the connection needs the client, which needs the class.
  // eslint-disable-next-line prefer-const -- assigned once, after the client exists
  let connection: Connection;
  const client = createClient(capacityApi, {
    url,
    WebSocket: socketClass(localAddress, () => connection),
  });
  connection = { client, subscribed: false, lastSeq: -1 };
  client.onStateChange(({ state }) => {
    if (state === 'reconnecting') {
      counts.reconnects++;
      connection.subscribed = false;
    } else if (state === 'closed') counts.closed++;
  });
  client.on(
    'tick',
    (tick) => {
      // First thing, before any other work of ours: this is the delivery time.
      const latency = Date.now() - tick.sentAt;
      let round = rounds.get(tick.seq);
      if (round === undefined) rounds.set(tick.seq, (round = { latencies: [], duplicates: 0 }));
      if (tick.seq <= connection.lastSeq) {
        round.duplicates++;
        return;
      }
      connection.lastSeq = tick.seq;
      round.latencies.push(latency);
    },
    { onError: () => counts.subscribeErrors++ },
  );
  return connection;
}

async function open({ url, count, batch, localAddress, batchTimeoutMs }: OpenArgs) {
  const began = Date.now();
  while (connections.length < count) {
    const size = Math.min(batch, count - connections.length);
    const opened = Array.from({ length: size }, () => openOne(url, localAddress));
    connections.push(...opened);
    // Polling is cheaper than a promise per connection, and a batch takes at least tens of ms.
    const deadline = Date.now() + batchTimeoutMs;
    while (opened.some((connection) => !connection.subscribed)) {
      if (Date.now() > deadline) {
        const waiting = opened.filter((connection) => !connection.subscribed).length;
        throw new Error(
          `${waiting} of a batch of ${size} not subscribed after ${batchTimeoutMs} ms ` +
            `(${connections.length - size} open before it; reconnects ${counts.reconnects}, closed ${counts.closed})`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
  // One call per process: the procedure works with every connection open.
  const echoed = await connections[0]!.client.call.echo({ n: connections.length });
  if (echoed !== connections.length) throw new Error(`echo answered ${echoed}, not ${connections.length}`);
  return { opened: connections.length, ms: Date.now() - began };
}

serveRequests({
  open: (args: OpenArgs) => open(args),
  progress: () => ({
    opened: connections.length,
    subscribed: connections.reduce((sum, connection) => sum + (connection.subscribed ? 1 : 0), 0),
    ...counts,
  }),
  /** How many connections have this event so far (the primary polls until all have it). */
  received: ({ seq }: { seq: number }) => {
    const round = rounds.get(seq);
    return { received: round?.latencies.length ?? 0, duplicates: round?.duplicates ?? 0 };
  },
  /** The latencies of one event, once the primary is done waiting for it. */
  latencies: ({ seq }: { seq: number }) => {
    const round = rounds.get(seq);
    rounds.delete(seq);
    return { latencies: round?.latencies ?? [], duplicates: round?.duplicates ?? 0 };
  },
  memory: () => {
    const { rss, heapUsed } = process.memoryUsage();
    return { rss, heapUsed, connections: connections.length };
  },
  status: () => ({ ...counts, connections: connections.length }),
  // Closing for good first (clients do not reconnect), so that servers closing next find no one.
  close: async () => {
    await Promise.all(connections.splice(0).map((connection) => connection.client.close()));
  },
});
