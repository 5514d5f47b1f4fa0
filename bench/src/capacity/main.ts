/**
 * @module Capacity: how many concurrent connections one machine holds, what each costs the
 * server, and how long one event takes to reach all of them (issue #16: at least 50,000).
 *
 *   npm run bench:capacity                                   50,000 connections, 4 servers, 3 client processes
 *   npm run bench:capacity -- --connections 18000 --servers 1
 *
 * This process is the node:cluster primary: it forks the server workers (server-worker.ts), which
 * all listen on one port and share events through the Redis broker, and the client processes
 * (client-process.ts), each on its own loopback source address. It measures nothing itself: the
 * workers read their memory, the clients time each delivery against the emitter's clock.
 */
import { execFileSync, fork } from 'node:child_process';
import cluster from 'node:cluster';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCH_DIR, sleep } from '../harness.js';
import { redisAvailable, redisCommands } from '../redis.js';
import { median, percentile } from '../stats.js';
import { Remote } from './remote.js';

const HOST = '127.0.0.1';
const SERVER_FILE = fileURLToPath(new URL('./server-worker.ts', import.meta.url));
const CLIENT_FILE = fileURLToPath(new URL('./client-process.ts', import.meta.url));
const RESULTS_DIR = join(BENCH_DIR, 'results');
/** Each process may hold this many open files (the hard limit here); a few go to Node and Redis. */
const FILES_PER_PROCESS = 20_000;
const SPARE_FILES = 200;
/** Ephemeral ports of one source address towards one destination (32768-60999 on Linux). */
const PORTS_PER_SOURCE = 28_232;
const STEP_TIMEOUT_MS = 30_000;

interface Options {
  connections: number;
  servers: number;
  clients: number;
  batch: number;
  rounds: number;
  warmup: number;
  gapMs: number;
  timeoutMs: number;
  redisUrl: string;
}

const USAGE = `usage: npm run bench:capacity -- [--connections 50000] [--servers 4] [--clients 3] [--batch 500]
       [--rounds 5] [--warmup 1] [--gap-ms 3000] [--timeout-ms 300000]
Each also reads CAPACITY_<NAME> from the environment (CAPACITY_CONNECTIONS=18000); REDIS_URL as the
other benchmarks (default redis://127.0.0.1:6379).`;

function parseOptions(argv: readonly string[]): Options {
  const defaults: Record<string, number> = {
    connections: 50_000,
    servers: 4,
    clients: 3,
    batch: 500,
    rounds: 5,
    warmup: 1,
    'gap-ms': 3_000,
    'timeout-ms': 300_000,
  };
  const values = { ...defaults };
  for (const name of Object.keys(defaults)) {
    const fromEnv = process.env[`CAPACITY_${name.toUpperCase().replace('-', '_')}`];
    if (fromEnv !== undefined) values[name] = Number(fromEnv);
  }
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index]!;
    if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    }
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    const name = match?.[1];
    if (name === undefined || !(name in defaults)) throw new Error(`unknown option ${arg}\n${USAGE}`);
    values[name] = Number(match![2] ?? argv[++index]);
  }
  for (const [name, value] of Object.entries(values)) {
    if (!Number.isInteger(value) || value < (name === 'gap-ms' || name === 'warmup' ? 0 : 1)) {
      throw new Error(`--${name} must be a whole number (above 0 but for --gap-ms and --warmup), not ${value}`);
    }
  }
  return {
    connections: values.connections!,
    servers: values.servers!,
    clients: values.clients!,
    batch: values.batch!,
    rounds: values.rounds!,
    warmup: values.warmup!,
    gapMs: values['gap-ms']!,
    timeoutMs: values['timeout-ms']!,
    redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  };
}

/** Refuses sizes this machine cannot hold, with the reason, before starting anything. */
function checkSizes(options: Options): void {
  const perClient = Math.ceil(options.connections / options.clients);
  // Round-robin hands each connection to the next worker that is free, not strictly in turn:
  // shares came within 5% of even in our runs, so leave 15% headroom under the open-files cap.
  const perServer =
    options.servers === 1 ? options.connections : Math.ceil((1.15 * options.connections) / options.servers);
  const usable = FILES_PER_PROCESS - SPARE_FILES;
  const problems: string[] = [];
  if (perClient > usable) {
    problems.push(`${perClient} connections per client process exceed ~${usable} open files: use more --clients`);
  }
  if (perClient > PORTS_PER_SOURCE) {
    problems.push(`${perClient} connections from one source address exceed its ${PORTS_PER_SOURCE} ports`);
  }
  if (perServer > usable) {
    problems.push(`${perServer} connections per server process exceed ~${usable} open files: use more --servers`);
  }
  if (options.clients > 250) problems.push('at most 250 client processes (127.0.0.2 to 127.0.0.251)');
  if (problems.length > 0) throw new Error(problems.join('\n'));
}

function gitCommit(): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: BENCH_DIR }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', '../packages'], { cwd: BENCH_DIR }).toString();
    return dirty.trim() === '' ? commit : `${commit} (packages/ modified)`;
  } catch {
    return 'unknown';
  }
}

function environment() {
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    commit: gitCommit(),
    node: process.version,
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    loadAverage: os.loadavg().map((load) => Number(load.toFixed(2))),
  };
}

/** Every process this run started, to kill on failure. */
const remotes: Remote[] = [];

interface Memory {
  rss: number;
  heapUsed: number;
  connections: number;
  subscriptions: number;
}

interface RoundResult {
  seq: number;
  received: number;
  duplicates: number;
  /** Time from the emit to the last delivery, ms. */
  lastMs: number;
  p50Ms: number;
  p99Ms: number;
  /** How long the emitting worker waited for Redis to take the event, ms. */
  publishedMs: number;
  /** Each client process's last delivery, ms: one slow process (a GC, the scheduler) shows here. */
  lastMsPerProcess: number[];
  /** The machine's 1-minute load average when the event was emitted (other work slows delivery). */
  loadAverage: number;
}

/** Deletes every key of this run's prefix (history streams; nothing else is written here). */
async function deleteRedisKeys(url: string, prefix: string): Promise<number> {
  // SCAN inside one script: the reply is one integer, all ../redis.ts reads.
  const script = `local cursor, deleted = '0', 0
repeat
  local reply = redis.call('SCAN', cursor, 'MATCH', ARGV[1], 'COUNT', 1000)
  cursor = reply[1]
  for _, key in ipairs(reply[2]) do deleted = deleted + redis.call('DEL', key) end
until cursor == '0'
return deleted`;
  const [reply] = await redisCommands(url, [['EVAL', script, '0', `${prefix}:*`]]);
  if (!reply?.startsWith(':')) throw new Error(`deleting ${prefix}:* answered ${reply}`);
  return Number(reply.slice(1));
}

const format = (value: number, digits = 0): string =>
  Number.isFinite(value)
    ? value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : 'n/a';
const mib = (bytes: number): string => format(bytes / 2 ** 20, 1);

async function run(options: Options, prefix: string): Promise<{ failures: string[] }> {
  const env = environment();
  console.log(
    `capacity: ${format(options.connections)} connections, ${options.servers} server processes, ` +
      `${options.clients} client processes, batches of ${options.batch}\n` +
      `${env.date}, commit ${env.commit}, Node ${env.node}, ${env.cpu}, ${env.cores} cores, ` +
      `${env.memoryGiB} GiB, load ${env.loadAverage.join(' ')}`,
  );
  const redis = await redisAvailable(options.redisUrl);
  if (!redis.ok) throw new Error(`Redis at ${options.redisUrl} does not answer (${redis.reason}); set REDIS_URL`);
  const failures: string[] = [];
  const began = Date.now();

  // Servers: node:cluster workers on one port. Round-robin (the default on Linux, set here so
  // that it is not left to the platform): the primary accepts and hands each connection to the
  // next free worker, so shares are close to even; with SCHED_NONE the kernel picks, unevenly.
  cluster.schedulingPolicy = cluster.SCHED_RR;
  cluster.setupPrimary({
    exec: SERVER_FILE,
    // tsx's loader (this process's execArgv) and gc() for memory readings.
    execArgv: [...process.execArgv, '--expose-gc'],
    serialization: 'advanced',
  });
  const childTimeoutMs = String(options.timeoutMs + 30_000);
  const servers = Array.from({ length: options.servers }, (_, index) => {
    const worker = cluster.fork({
      CAPACITY_REDIS_URL: options.redisUrl,
      CAPACITY_REDIS_PREFIX: prefix,
      // Port 0 in every worker: node:cluster gives them all the same port (one shared handle).
      CAPACITY_PORT: '0',
      CAPACITY_HOST: HOST,
      // Any worker could in principle get every connection; the real cap is its open files.
      CAPACITY_MAX_CONNECTIONS: String(Math.max(options.connections, 100_000)),
      CAPACITY_TIMEOUT_MS: childTimeoutMs,
    });
    const remote = new Remote(`server ${index + 1}`, worker, 30_000);
    remotes.push(remote);
    return remote;
  });
  await Promise.all(servers.map((server) => server.ready));
  const urls = await Promise.all(
    servers.map((server) => server.call<{ url: string; pid: number }>('url', {}, STEP_TIMEOUT_MS)),
  );
  const url = urls[0]!.url;
  if (urls.some((entry) => entry.url !== url)) {
    throw new Error(`workers listen on different URLs: ${urls.map((entry) => entry.url).join(', ')}`);
  }
  const baseline = await Promise.all(servers.map((server) => server.call<Memory>('memory', {}, STEP_TIMEOUT_MS)));
  console.log(`servers listening on ${url} (pids ${urls.map((entry) => entry.pid).join(', ')})`);

  // Clients: one process per loopback source address, each with its share.
  const shares = Array.from({ length: options.clients }, (_, index) =>
    Math.floor((options.connections + index) / options.clients),
  );
  const clients = shares.map((_, index) => {
    const child = fork(CLIENT_FILE, [], {
      execArgv: process.execArgv,
      serialization: 'advanced',
      env: { ...process.env, CAPACITY_TIMEOUT_MS: childTimeoutMs },
    });
    const remote = new Remote(`client ${index + 1}`, child, 30_000);
    remotes.push(remote);
    return remote;
  });
  await Promise.all(clients.map((client) => client.ready));

  interface Progress {
    opened: number;
    subscribed: number;
    reconnects: number;
    closed: number;
    subscribeErrors: number;
  }
  const progress = async (): Promise<Progress[]> =>
    Promise.all(clients.map((client) => client.call<Progress>('progress', {}, STEP_TIMEOUT_MS)));
  const openBegan = Date.now();
  let opening = true;
  const reporter = (async () => {
    while (opening) {
      await sleep(2_000);
      if (!opening) break;
      const all = await progress().catch(() => []);
      const sum = (key: keyof Progress) => all.reduce((total, entry) => total + entry[key], 0);
      console.log(
        `  ${((Date.now() - openBegan) / 1000).toFixed(0)} s: ${format(sum('subscribed'))} subscribed ` +
          `of ${format(sum('opened'))} opened; reconnects ${sum('reconnects')}`,
      );
    }
  })();
  let opened: { opened: number; ms: number }[];
  try {
    opened = await Promise.all(
      clients.map((client, index) =>
        client.call<{ opened: number; ms: number }>(
          'open',
          {
            url,
            count: shares[index],
            batch: options.batch,
            localAddress: `127.0.0.${index + 2}`,
            batchTimeoutMs: 60_000,
          },
          options.timeoutMs,
        ),
      ),
    );
  } finally {
    opening = false;
    await reporter;
  }
  const openMs = Math.max(...opened.map((entry) => entry.ms));
  console.log(
    `${format(options.connections)} connections open and subscribed in ${(openMs / 1000).toFixed(1)} s ` +
      `(${format(options.connections / (openMs / 1000))}/s)`,
  );

  // The servers' own counts must agree before anything is measured.
  const serverStats = async () =>
    Promise.all(
      servers.map((server) =>
        server.call<{ connections: number; subscriptions: number; errors: Record<string, number> }>(
          'stats',
          {},
          STEP_TIMEOUT_MS,
        ),
      ),
    );
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  for (;;) {
    const stats = await serverStats();
    const connections = stats.reduce((sum, entry) => sum + entry.connections, 0);
    const subscriptions = stats.reduce((sum, entry) => sum + entry.subscriptions, 0);
    if (connections === options.connections && subscriptions === options.connections) break;
    if (Date.now() > deadline) {
      throw new Error(`servers count ${connections} connections and ${subscriptions} subscriptions`);
    }
    await sleep(100);
  }
  // Let late allocations of the last handshakes settle, then read memory after gc.
  await sleep(2_000);
  const loaded = await Promise.all(servers.map((server) => server.call<Memory>('memory', {}, STEP_TIMEOUT_MS)));
  const clientMemory = await Promise.all(
    clients.map((client) => client.call<{ rss: number; heapUsed: number }>('memory', {}, STEP_TIMEOUT_MS)),
  );
  const perWorker = loaded.map((after, index) => {
    const before = baseline[index]!;
    return {
      worker: index + 1,
      connections: after.connections,
      baselineRss: before.rss,
      rss: after.rss,
      baselineHeapUsed: before.heapUsed,
      heapUsed: after.heapUsed,
      rssPerConnection: (after.rss - before.rss) / after.connections,
      heapPerConnection: (after.heapUsed - before.heapUsed) / after.connections,
    };
  });
  const totalOf = (key: 'rss' | 'heapUsed' | 'baselineRss' | 'baselineHeapUsed' | 'connections') =>
    perWorker.reduce((sum, entry) => sum + entry[key], 0);
  const memory = {
    perWorker,
    rssPerConnection: (totalOf('rss') - totalOf('baselineRss')) / totalOf('connections'),
    heapPerConnection: (totalOf('heapUsed') - totalOf('baselineHeapUsed')) / totalOf('connections'),
    totalRss: totalOf('rss'),
    clientRssPerConnection: clientMemory.reduce((sum, entry) => sum + entry.rss, 0) / Math.max(1, options.connections),
  };

  // Fan-out: one event at a time, emitted by the first worker; the others hear it through Redis.
  // The first (warm-up, checked but not timed) pays for compiling the event path in every process
  // and loading the broker's publish script into Redis: up to twice the time of the next ones.
  const rounds: RoundResult[] = [];
  const warmups: RoundResult[] = [];
  for (let seq = 1; seq <= options.warmup + options.rounds; seq++) {
    const warm = seq <= options.warmup;
    await sleep(options.gapMs);
    const emitted = await servers[0]!.call<{ sentAt: number; publishedMs: number }>('emit', { seq }, STEP_TIMEOUT_MS);
    const roundDeadline = Date.now() + STEP_TIMEOUT_MS;
    // Polling only says when to collect; each client timed its own deliveries.
    while (Date.now() < roundDeadline) {
      const counts = await Promise.all(
        clients.map((client) => client.call<{ received: number }>('received', { seq }, STEP_TIMEOUT_MS)),
      );
      if (counts.reduce((sum, entry) => sum + entry.received, 0) >= options.connections) break;
      await sleep(20);
    }
    const parts = await Promise.all(
      clients.map((client) =>
        client.call<{ latencies: number[]; duplicates: number }>('latencies', { seq }, STEP_TIMEOUT_MS),
      ),
    );
    const latencies = new Float64Array(parts.flatMap((part) => part.latencies)).sort();
    const result: RoundResult = {
      seq,
      received: latencies.length,
      duplicates: parts.reduce((sum, part) => sum + part.duplicates, 0),
      lastMs: latencies.at(-1) ?? Number.NaN,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      publishedMs: emitted.publishedMs,
      lastMsPerProcess: parts.map((part) => Math.max(...part.latencies)),
      loadAverage: Number(os.loadavg()[0]!.toFixed(2)),
    };
    (warm ? warmups : rounds).push(result);
    console.log(
      `  ${warm ? 'warm-up event' : 'event'} ${seq}: ${format(result.received)} of ${format(options.connections)} received, last after ` +
        `${format(result.lastMs)} ms (per client process ${result.lastMsPerProcess.map((ms) => format(ms)).join(', ')}), ` +
        `p50 ${format(result.p50Ms)} ms, p99 ${format(result.p99Ms)} ms, load ${result.loadAverage}` +
        (result.duplicates > 0 ? `, ${result.duplicates} duplicates` : ''),
    );
    if (result.received !== options.connections) {
      failures.push(`event ${seq} reached ${result.received} of ${options.connections} connections`);
    }
    if (result.duplicates > 0) failures.push(`event ${seq} arrived twice at ${result.duplicates} connections`);
  }

  // Still all there after the rounds (heartbeats ran meanwhile): nothing dropped or reconnected.
  const after = await progress();
  const reconnects = after.reduce((sum, entry) => sum + entry.reconnects, 0);
  const closed = after.reduce((sum, entry) => sum + entry.closed, 0);
  const subscribeErrors = after.reduce((sum, entry) => sum + entry.subscribeErrors, 0);
  const finalStats = await serverStats();
  const finalConnections = finalStats.reduce((sum, entry) => sum + entry.connections, 0);
  if (reconnects > 0) failures.push(`${reconnects} client reconnects during the run`);
  if (closed > 0) failures.push(`${closed} clients closed for good`);
  if (subscribeErrors > 0) failures.push(`${subscribeErrors} subscriptions refused`);
  if (finalConnections !== options.connections) {
    failures.push(`servers hold ${finalConnections} connections at the end, not ${options.connections}`);
  }
  const serverErrors = finalStats.map((entry) => entry.errors);

  const spread = (key: 'lastMs' | 'p50Ms' | 'p99Ms' | 'publishedMs') => {
    const values = rounds.map((round) => round[key]);
    return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
  };
  const fanout = {
    lastMs: spread('lastMs'),
    p50Ms: spread('p50Ms'),
    p99Ms: spread('p99Ms'),
    publishedMs: spread('publishedMs'),
    receivedAll: rounds.every((round) => round.received === options.connections),
  };
  printTables(options, memory, fanout, openMs);

  const result = {
    scenario: 'capacity',
    environment: env,
    options: { ...options, redisUrl: undefined },
    clientKind: 'wirecall createClient (default heartbeat and reconnect), ws with localAddress',
    durationMs: Date.now() - began,
    open: { ms: openMs, perSecond: options.connections / (openMs / 1000), perProcess: opened },
    memory,
    fanout,
    rounds,
    warmups,
    stability: { reconnects, closed, subscribeErrors, finalConnections, serverErrors },
    failures,
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `capacity-${env.date.replaceAll(':', '-').replace('.', '-')}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\nwrote ${relative(process.cwd(), file)}`);

  // Clients close first, for good: servers closing first would send them all reconnecting.
  await Promise.all(clients.map((client) => client.call('close', {}, 60_000)));
  await Promise.all(servers.map((server) => server.call('close', {}, STEP_TIMEOUT_MS)));
  return { failures };
}

interface Spread {
  median: number;
  min: number;
  max: number;
}

function printTables(
  options: Options,
  memory: {
    perWorker: {
      worker: number;
      connections: number;
      rssPerConnection: number;
      heapPerConnection: number;
      rss: number;
    }[];
    rssPerConnection: number;
    heapPerConnection: number;
    totalRss: number;
    clientRssPerConnection: number;
  },
  fanout: { lastMs: Spread; p50Ms: Spread; p99Ms: Spread; publishedMs: Spread },
  openMs: number,
): void {
  const row = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  const lines = [
    '',
    row(['server process', 'connections', 'RSS (MiB)', 'RSS per connection (bytes)', 'heap per connection (bytes)']),
    row(['---', '---:', '---:', '---:', '---:']),
    ...memory.perWorker.map((entry) =>
      row([
        String(entry.worker),
        format(entry.connections),
        mib(entry.rss),
        format(entry.rssPerConnection),
        format(entry.heapPerConnection),
      ]),
    ),
    row([
      'all',
      format(options.connections),
      mib(memory.totalRss),
      format(memory.rssPerConnection),
      format(memory.heapPerConnection),
    ]),
    '',
    row(['fan-out of one event', `median of ${options.rounds} (ms)`, 'min to max (ms)']),
    row(['---', '---:', '---:']),
    ...(
      [
        ['time to last delivery', fanout.lastMs],
        ['p50 delivery latency', fanout.p50Ms],
        ['p99 delivery latency', fanout.p99Ms],
        ['emit until Redis took it', fanout.publishedMs],
      ] as const
    ).map(([label, spread]) => row([label, format(spread.median), `${format(spread.min)} to ${format(spread.max)}`])),
    '',
    `opening: ${format(options.connections)} connections in ${(openMs / 1000).toFixed(1)} s`,
    `client processes: ${format(memory.clientRssPerConnection)} bytes of RSS per connection`,
  ];
  console.log(lines.join('\n'));
}

let options: Options;
try {
  options = parseOptions(process.argv.slice(2));
  checkSizes(options);
} catch (error) {
  console.error(`capacity: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(2);
}
const prefix = `wirecall-capacity:${Date.now().toString(36)}-${process.pid}`;

// The whole run is bounded: past the timeout everything is killed, and the keys deleted.
const globalTimer = setTimeout(() => {
  console.error(`capacity: still running after ${options.timeoutMs} ms: stopping everything`);
  void finish(1);
}, options.timeoutMs);

let finishing = false;
async function finish(code: number): Promise<void> {
  if (finishing) return;
  finishing = true;
  clearTimeout(globalTimer);
  // On success every process has closed its sockets: closing its IPC channel lets it exit.
  for (const remote of remotes) {
    if (code === 0) remote.disconnect();
    else remote.kill();
  }
  const exits = Promise.all(remotes.map((remote) => remote.exited));
  const grace = setTimeout(() => remotes.forEach((remote) => remote.kill()), 10_000);
  await exits;
  clearTimeout(grace);
  try {
    const deleted = await deleteRedisKeys(options.redisUrl, prefix);
    console.log(`deleted ${deleted} Redis keys of ${prefix}`);
  } catch (error) {
    console.error(`could not delete the Redis keys of ${prefix}:`, error);
  }
  process.exit(code);
}

try {
  const { failures } = await run(options, prefix);
  if (failures.length > 0) console.error(`\nFAILED:\n- ${failures.join('\n- ')}`);
  await finish(failures.length > 0 ? 1 : 0);
} catch (error) {
  console.error('capacity: the run failed:', error);
  await finish(1);
}
