import { createServer, type HistoryOptions, type Logger, type WirecallServer } from '@wirecall/server';
import { redisBroker, type RedisBroker } from '@wirecall/server/redis';
import { chargeHandler } from './charge-handler.js';
import { clusterApi, type ClusterApi } from './cluster-api.js';

/** One line the node logged. */
export interface LogEntry {
  level: 'error' | 'warn' | 'info';
  message: string | undefined;
  err: unknown;
}

/** A server node in the test process, for tests that read its stats and emits directly. */
export interface InProcessNode extends AsyncDisposable {
  readonly name: string;
  readonly server: WirecallServer<ClusterApi>;
  readonly broker: RedisBroker;
  /** `ws://127.0.0.1:<port>`. */
  readonly url: string;
  /** What the server logged (broker status among it); nothing is printed. */
  readonly logs: LogEntry[];
  /** Emits `tick { room, seq }` to stream `{ room }`. */
  emit(room: string, seq: number): Promise<string>;
  close(): Promise<void>;
}

const live = new Set<InProcessNode>();

/** Closes every node still open; call it in afterEach so a failed test leaves none behind. */
export async function closeAllInProcessNodes(): Promise<void> {
  await Promise.all([...live].map((node) => node.close()));
}

function recordingLogger(logs: LogEntry[]): Logger {
  const record =
    (level: LogEntry['level']) =>
    (details: object, message?: string): void => {
      logs.push({ level, message, err: (details as { err?: unknown }).err });
    };
  return { error: record('error'), warn: record('warn'), info: record('info'), debug: () => {} };
}

export async function startInProcessNode(options: {
  name: string;
  /** A standalone Redis, or `cluster`. */
  redisUrl?: string;
  /** The startup nodes of a Redis Cluster. */
  cluster?: { host: string; port: number }[];
  /** Replicas each publish waits for (see the broker's `durability`). */
  replicas?: number;
  prefix: string;
  /** History of each stream (as the node that publishes trims it). */
  history?: HistoryOptions;
}): Promise<InProcessNode> {
  const broker = redisBroker({
    ...(options.cluster === undefined ? { url: options.redisUrl } : { cluster: { nodes: options.cluster } }),
    ...(options.replicas === undefined ? {} : { durability: { replicas: options.replicas } }),
    prefix: options.prefix,
    ...(options.history === undefined ? {} : { history: options.history }),
  });
  await broker.ready();
  const logs: LogEntry[] = [];
  // On a cluster, `charge` counts in the first node's Redis: only standalone tests use it.
  const charge = chargeHandler(
    options.redisUrl ?? `redis://127.0.0.1:${options.cluster?.[0]?.port ?? 6379}`,
    options.prefix,
  );
  const server = createServer(clusterApi, {
    broker,
    handlers: { whoami: () => options.name, ping: ({ input }) => input, charge: charge.handler },
    logger: recordingLogger(logs),
  });
  const { url } = await server.listen({ port: 0 });
  let closing: Promise<void> | undefined;
  const node: InProcessNode = {
    name: options.name,
    server,
    broker,
    url,
    logs,
    emit: (room, seq) => server.emit('tick', { room, seq }, { params: { room } }),
    close() {
      closing ??= (async () => {
        live.delete(node);
        await server.close({ graceMs: 0 });
        await broker.close(); // the server does not close a broker it was given
        charge.close();
      })();
      return closing;
    },
    [Symbol.asyncDispose]: () => node.close(),
  };
  live.add(node);
  return node;
}
