import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { unusedPort } from '../../helpers/chaos-kit.js';
import { inCi, type RedisCheck } from './redis.js';

/** A redis-server of a test's own, on a free port, that the test can kill and start again. */
export interface RedisServerProcess extends AsyncDisposable {
  readonly port: number;
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  readonly running: boolean;
  /** SIGKILL (no shutdown, nothing saved); resolves once the process has exited. */
  kill(): Promise<void>;
  /** Starts it again on the same port (empty: nothing is persisted). */
  restart(): Promise<void>;
}

const live = new Set<RedisServerProcess>();

/** Kills every redis-server a test started; call it in afterEach/afterAll. */
export async function killAllRedisServers(): Promise<void> {
  await Promise.all([...live].map((server) => server.kill()));
}

export interface Running {
  child: ChildProcess;
  exited: Promise<void>;
}

/**
 * Spawns redis-server on `port` without persistence (and with `extraArgs`, such as cluster mode)
 * and resolves once it accepts connections.
 */
export async function spawnRedis(
  port: number,
  extraArgs: readonly string[] = [],
  timeoutMs = 10_000,
): Promise<Running> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extraArgs],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (output += text));
  const lines = createInterface({ input: child.stdout });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('error', reject); // redis-server is not installed
      lines.on('line', (line) => {
        output += `${line}\n`;
        if (line.includes('Ready to accept connections')) resolve();
      });
      void exited.then(() => reject(new Error(`redis-server exited before it was ready:\n${output}`)));
      timer = setTimeout(
        () => reject(new Error(`redis-server not ready after ${timeoutMs} ms:\n${output}`)),
        timeoutMs,
      );
    });
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    throw error;
  } finally {
    clearTimeout(timer);
  }
  lines.removeAllListeners('line');
  lines.on('line', () => {}); // keep draining stdout so redis never blocks on a full pipe
  return { child, exited };
}

export async function startRedisServer(): Promise<RedisServerProcess> {
  let port = 0;
  let running: Running | undefined;
  // The free port may be taken between the check and redis-server's bind: try a few.
  for (let attempt = 1; running === undefined; attempt++) {
    port = await unusedPort();
    try {
      running = await spawnRedis(port);
    } catch (error) {
      if (attempt >= 3) throw error;
    }
  }
  let current: Running | undefined = running;
  const handle: RedisServerProcess = {
    port,
    url: `redis://127.0.0.1:${port}`,
    get running() {
      return current !== undefined;
    },
    async kill() {
      const stopping = current;
      current = undefined;
      live.delete(handle);
      if (stopping === undefined) return;
      stopping.child.kill('SIGKILL');
      await stopping.exited;
    },
    async restart() {
      if (current !== undefined) throw new Error('redis-server is still running');
      current = await spawnRedis(port);
      live.add(handle);
    },
    [Symbol.asyncDispose]: () => handle.kill(),
  };
  live.add(handle);
  return handle;
}

/**
 * Whether the `redis-server` binary can be started (tests that restart Redis run their own). Like
 * `requireRedis`: missing in CI throws, missing locally answers a reason to skip with.
 */
export function requireRedisServerBinary(env: NodeJS.ProcessEnv = process.env): RedisCheck {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.status === 0) return { available: true, url: '', reason: '' };
  const reason =
    'the redis-server binary is not installed, and this test starts and kills its own Redis ' +
    '(apt-get install redis-server, or brew install redis)';
  if (inCi(env)) throw new Error(`${reason}. CI is set, so this fails the run instead of skipping.`);
  return { available: false, url: '', reason };
}
