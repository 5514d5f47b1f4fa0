import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import net from 'node:net';
import { spawnRedis, type Running } from './redis-server.js';

const run = promisify(execFile);

/** Every member still running in this process: killed when it exits, so a failed test leaves none behind. */
const running = new Set<Running>();
process.once('exit', () => {
  for (const member of running) member.child.kill('SIGKILL');
});

/** How long a primary may be silent before its replica takes over: short, so failover tests are quick. */
const NODE_TIMEOUT_MS = 1_000;

/** One redis-server of a test cluster. */
export interface ClusterMember {
  readonly port: number;
  readonly running: boolean;
}

/** A Redis Cluster of a test's own: three primaries with replicas, on free local ports. */
export interface RedisClusterProcess extends AsyncDisposable {
  /** Its startup nodes, for ioredis' `Cluster`. */
  readonly nodes: { host: string; port: number }[];
  readonly members: readonly ClusterMember[];
  /** The port of the primary that holds a key's slot now. */
  primaryOf(key: string): Promise<number>;
  /**
   * SIGKILLs the primary on `port` and resolves once its replica has taken over its slots and the
   * cluster is healthy again.
   */
  failOver(port: number): Promise<void>;
  /** Kills every member and deletes their files. */
  stop(): Promise<void>;
}

/**
 * Starts three primaries with `replicas` replicas each (no persistence, cluster files in a
 * temporary folder), joins them with `redis-cli --cluster create`, and waits until every member says
 * the cluster is ok. Two replicas per primary leave one after a failover (for writes that wait for
 * a replica).
 */
export async function startRedisCluster({ replicas = 1 }: { replicas?: number } = {}): Promise<RedisClusterProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'wirecall-redis-cluster-'));
  const members = new Map<number, Running>();
  const stop = async (): Promise<void> => {
    for (const member of members.values()) member.child.kill('SIGKILL');
    await Promise.all([...members.values()].map((member) => member.exited));
    for (const member of members.values()) running.delete(member);
    members.clear();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < 3 * (1 + replicas); i++) {
      const port = await unusedClusterPort();
      const member = await spawnRedis(port, [
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(dir, `nodes-${port}.conf`),
        '--cluster-node-timeout',
        String(NODE_TIMEOUT_MS),
        // A replica takes over however long ago it last heard from its primary (with the default
        // it may refuse, judging an idle link too old, and the slots stay down).
        '--cluster-replica-validity-factor',
        '0',
        '--dir',
        dir,
      ]);
      members.set(port, member);
      running.add(member);
    }
    const ports = [...members.keys()];
    await run('redis-cli', [
      '--cluster',
      'create',
      ...ports.map((port) => `127.0.0.1:${port}`),
      '--cluster-replicas',
      String(replicas),
      '--cluster-yes',
    ]);
    await waitUntil(() => allOk(ports), 'the cluster to be ok');
  } catch (error) {
    await stop();
    throw error;
  }
  const ports = [...members.keys()];
  const handle: RedisClusterProcess = {
    nodes: ports.map((port) => ({ host: '127.0.0.1', port })),
    members: ports.map((port) => ({
      port,
      get running() {
        return members.has(port);
      },
    })),
    async primaryOf(key) {
      const anyMember = ports.find((port) => members.has(port))!;
      const slot = Number(await ask(anyMember, ['CLUSTER', 'KEYSLOT', key]));
      const shard = (await shardsOf(anyMember)).find(([from, to]) => slot >= from && slot <= to);
      if (shard === undefined) throw new Error(`no shard holds slot ${slot}`);
      return shard[2][1];
    },
    async failOver(port) {
      const member = members.get(port);
      if (member === undefined) throw new Error(`no running member on ${port}`);
      members.delete(port);
      running.delete(member);
      member.child.kill('SIGKILL');
      await member.exited;
      // Right after the kill the others still say ok: wait until a replica serves its slots.
      const survivors = [...members.keys()];
      await waitUntil(
        async () => !(await primaryPorts(survivors[0]!)).includes(port) && (await allOk(survivors)),
        'a replica to take over',
      );
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
  return handle;
}

/**
 * A free port whose cluster bus port (the port + 10,000, which Redis Cluster binds too) is free
 * and valid: an ephemeral port above 55,535 has none.
 */
async function unusedClusterPort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if ((await isFree(port)) && (await isFree(port + 10_000))) return port;
  }
  throw new Error('no free port pair for a Redis Cluster member');
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Every member answers `cluster_state:ok` and sees every slot served; every replica is in sync. */
async function allOk(ports: readonly number[]): Promise<boolean> {
  for (const port of ports) {
    const info = await ask(port, ['CLUSTER', 'INFO']).catch(() => '');
    if (!info.includes('cluster_state:ok') || !info.includes('cluster_slots_ok:16384')) return false;
    const replication = await ask(port, ['INFO', 'replication']).catch(() => '');
    if (replication.includes('role:slave') && !replication.includes('master_link_status:up')) return false;
  }
  return true;
}

type Shard = [from: number, to: number, primary: [host: string, port: number]];

/** The slot ranges and their primaries, as member `port` sees them. */
async function shardsOf(port: number): Promise<Shard[]> {
  return (await askRaw(port, ['CLUSTER', 'SLOTS'])) as Shard[];
}

async function primaryPorts(port: number): Promise<number[]> {
  return (await shardsOf(port).catch(() => [])).map((shard) => shard[2][1]);
}

async function askRaw(port: number, command: readonly string[]): Promise<unknown> {
  const redis = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return await redis.call(command[0]!, ...command.slice(1));
  } finally {
    redis.disconnect();
  }
}

async function ask(port: number, command: readonly string[]): Promise<string> {
  return String(await askRaw(port, command));
}

async function waitUntil(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
