/**
 * One server node of a test cluster, in a process of its own so a test can SIGKILL it: a wirecall
 * server for {@link clusterApi} on a Redis broker. Started by node-process.ts; configuration comes as
 * JSON in WIRECALL_CHILD_CONFIG ({@link NodeConfig}); commands and answers travel as JSON lines
 * (child-channel.ts):
 * - `emit { room, seqs }`: `server.emit('tick', { room, seq }, { params: { room } })` for each seq, all
 *   at once (in order: one Redis connection keeps the order of its commands); answers their ids, or
 *   fails if any emit failed;
 * - `stats`: `server.stats()`.
 * The server's log, broker status included, is forwarded to the parent as `log` lines.
 */
import { createServer } from '@wirecall/server';
import { redisBroker } from '@wirecall/server/redis';
import { chargeHandler } from './charge-handler.js';
import { channelLogger, serveCommands } from './child-channel.js';
import { clusterApi } from './cluster-api.js';

export interface NodeConfig {
  /** What `whoami` answers. */
  name: string;
  redisUrl: string;
  /** Redis key prefix, unique per test run. */
  prefix: string;
  /** @default 0 (any free port) */
  port?: number;
  /** The lease of a shared idempotency key (short, for tests that kill a node mid-call). */
  leaseMs?: number;
}

/** What the node announces once it listens. */
export interface NodeReady {
  port: number;
  pid: number;
}

const config = JSON.parse(process.env.WIRECALL_CHILD_CONFIG ?? '{}') as NodeConfig;
const broker = redisBroker({
  url: config.redisUrl,
  prefix: config.prefix,
  ...(config.leaseMs === undefined ? {} : { idempotency: { leaseMs: config.leaseMs, pollMs: 50 } }),
});
await broker.ready();
const charge = chargeHandler(config.redisUrl, config.prefix);
const server = createServer(clusterApi, {
  broker,
  handlers: { whoami: () => config.name, ping: ({ input }) => input, charge: charge.handler },
  logger: channelLogger,
  // Every test client comes from 127.0.0.1; a node may take over the clients of a dead one.
  maxConnections: { perIp: 10_000 },
});
const { port } = await server.listen({ port: config.port ?? 0, host: '127.0.0.1' });

serveCommands(
  {
    emit: ({ room, seqs }: { room: string; seqs: number[] }) =>
      Promise.all(seqs.map((seq) => server.emit('tick', { room, seq }, { params: { room } }))),
    stats: () => server.stats(),
  },
  { port, pid: process.pid } satisfies NodeReady,
);
