/**
 * The brokers of scenario E, seen from the orchestrator: is each there, a Redis Cluster of the
 * run's own, and deleting what a run left in Redis and in NATS JetStream.
 */
import { execFile } from 'node:child_process';
import net from 'node:net';
import { promisify } from 'node:util';
import { redisCommands } from './redis.js';

const run = promisify(execFile);

/** Whether a TCP server answers at `host:port` (NATS: its INFO line comes on connect). */
export function tcpAvailable(
  hostPort: string,
  timeoutMs = 2_000,
): Promise<{ ok: true } | { ok: false; reason: string }> {
  const url = new URL(hostPort.includes('://') ? hostPort : `nats://${hostPort}`);
  return new Promise((resolve) => {
    const socket = net.connect({ host: url.hostname || '127.0.0.1', port: Number(url.port || 4222) });
    const timer = setTimeout(() => done({ ok: false, reason: `no answer within ${timeoutMs} ms` }), timeoutMs);
    const done = (result: { ok: true } | { ok: false; reason: string }) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    socket.once('data', () => done({ ok: true }));
    socket.once('error', (error) => done({ ok: false, reason: error.message }));
  });
}

/** Deletes the JetStream streams (history, KV buckets) whose name holds `prefix`, as the broker names them. */
export async function deleteNatsStreams(servers: string, prefixes: readonly string[]): Promise<number> {
  if (prefixes.length === 0) return 0;
  const { connect } = await import('@nats-io/transport-node');
  const { jetstreamManager } = await import('@nats-io/jetstream');
  const connection = await connect({ servers });
  try {
    const manager = await jetstreamManager(connection);
    const names: string[] = [];
    for await (const name of manager.streams.names()) names.push(name);
    const ours = prefixes.map((prefix) => prefix.toUpperCase().replace(/-/g, '_'));
    const doomed = names.filter((name) => ours.some((prefix) => name.includes(prefix)));
    for (const name of doomed) await manager.streams.delete(name);
    return doomed.length;
  } finally {
    await connection.close();
  }
}

/** Deletes every key under `prefix:` (SCAN through redis-cli, DEL over the plain socket). */
export async function deleteRedisKeys(url: string, prefixes: readonly string[]): Promise<number> {
  let deleted = 0;
  for (const prefix of prefixes) {
    const { stdout } = await run('redis-cli', ['-u', url, '--scan', '--pattern', `${prefix}:*`]);
    const keys = stdout.split('\n').filter(Boolean);
    for (let i = 0; i < keys.length; i += 500) {
      await redisCommands(url, [['DEL', ...keys.slice(i, i + 500)]]);
    }
    deleted += keys.length;
  }
  return deleted;
}

/**
 * A Redis Cluster of the run's own: the tests' helper (three primaries with a replica each on free
 * local ports, joined by `redis-cli --cluster create`), one way to start one for tests and benchmarks.
 */
export {
  startRedisCluster,
  type RedisClusterProcess as RedisCluster,
} from '../../packages/tests/cluster/helpers/redis-cluster.js';

/** Whether redis-server (7 or later, for sharded Pub/Sub) and redis-cli are installed. */
export async function redisClusterAvailable(): Promise<{ ok: true } | { ok: false; reason: string }> {
  try {
    const { stdout } = await run('redis-server', ['--version']);
    const major = Number(/v=(\d+)/.exec(stdout)?.[1]);
    if (!(major >= 7)) return { ok: false, reason: `redis-server ${major} (a cluster broker needs 7)` };
    await run('redis-cli', ['--version']);
    return { ok: true };
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
}
