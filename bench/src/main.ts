/**
 * @module The benchmark's orchestrator: runs each scenario for each peer in child processes
 * (servers and clients apart, all on 127.0.0.1), repetitions interleaved across peers, and reports
 * medians: a table of absolute figures, a table of ratios against raw ws, a JSON file under
 * bench/results/ and the chart bench/results/ratios.svg.
 *
 *   npm run bench                          the full run: every scenario, 3 repetitions (~5 minutes)
 *   npm run bench -- --quick               1 repetition, smaller sizes (under a minute on 2 cores)
 *   npm run bench -- --only=A,C            some scenarios
 *   npm run bench -- --peers=raw,wirecall  some peers
 *   npm run bench -- --reps=5              another number of repetitions
 *   npm run bench -- --cpu-prof[=peers]    children of these peers (default wirecall) write CPU profiles
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import { join, relative } from 'node:path';
import { drawRatioChart, type ChartGroup } from './chart.js';
import { BENCH_DIR, runMain, type HarnessSettings } from './harness.js';
import { PEER_LABELS, PEER_NAMES, type PeerName } from './peers/types.js';
import { scenarioA } from './scenarios/a-sequential.js';
import { scenarioB } from './scenarios/b-pipelined.js';
import { scenarioC } from './scenarios/c-fanout.js';
import { scenarioD } from './scenarios/d-idle-memory.js';
import { BROKER_LABELS, cleanUpNats, E_BROKERS, E_NODES, eKey, scenarioE } from './scenarios/e-cluster.js';
import { deleteRedisKeys } from './brokers.js';
import type { BrokerKind } from './peers/types.js';
import { scenarioF } from './scenarios/f-streams.js';
import type { MetricSpec, RunResult, Scenario, ScenarioEnv, ScenarioId } from './scenarios/types.js';
import { median } from './stats.js';

const SCENARIOS: readonly Scenario[] = [scenarioA, scenarioB, scenarioC, scenarioD, scenarioE, scenarioF];
const ROOT_DIR = join(BENCH_DIR, '..');
const RESULTS_DIR = join(BENCH_DIR, 'results');
const PEER_COLORS: Record<PeerName, string> = {
  raw: '#111827',
  socketio: '#9ca3af',
  trpc: '#3b82f6',
  wirecall: '#f97316',
};

interface Options {
  quick: boolean;
  scenarios: ScenarioId[];
  peers: PeerName[];
  reps: number;
  cpuProfilePeers: PeerName[] | undefined;
  brokers: BrokerKind[];
}

const USAGE =
  'usage: npm run bench -- [--quick] [--only=A,B,C,D,E,F] [--peers=raw,socketio,trpc,wirecall] [--reps=N] [--cpu-prof[=peers]] [--brokers=redis,redis-cluster,nats]';

function parseList<T extends string>(value: string, allowed: readonly T[], what: string): T[] {
  const items = value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
  for (const item of items) {
    if (!allowed.includes(item as T)) throw new Error(`unknown ${what} "${item}" (one of ${allowed.join(', ')})`);
  }
  return items as T[];
}

function parseOptions(argv: readonly string[]): Options {
  const options: Options = {
    quick: false,
    scenarios: SCENARIOS.map((scenario) => scenario.id),
    peers: [...PEER_NAMES],
    reps: 0,
    cpuProfilePeers: undefined,
    brokers: [...E_BROKERS],
  };
  for (const arg of argv) {
    const [flag, value] = arg.includes('=')
      ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
      : [arg, undefined];
    if (flag === '--quick') options.quick = true;
    else if (flag === '--only' && value) {
      options.scenarios = parseList(
        value.toUpperCase(),
        SCENARIOS.map((scenario) => scenario.id),
        'scenario',
      );
    } else if (flag === '--peers' && value) options.peers = parseList(value, PEER_NAMES, 'peer');
    else if (flag === '--reps' && value && Number.isInteger(Number(value)) && Number(value) > 0)
      options.reps = Number(value);
    else if (flag === '--brokers' && value) options.brokers = parseList(value, E_BROKERS, 'broker');
    else if (flag === '--help' || flag === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else if (flag === '--cpu-prof')
      options.cpuProfilePeers = value ? parseList(value, PEER_NAMES, 'peer') : ['wirecall'];
    else throw new Error(`unknown argument ${arg}\n${USAGE}`);
  }
  options.reps ||= options.quick ? 1 : 3;
  // Interleave in the canonical order whatever order was asked for.
  options.peers = PEER_NAMES.filter((peer) => options.peers.includes(peer));
  return options;
}

function packageVersion(name: string): string {
  for (const dir of [join(BENCH_DIR, 'node_modules'), join(ROOT_DIR, 'node_modules')]) {
    const file = join(dir, name, 'package.json');
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  }
  return 'not found';
}

/** The commit measured, with `-dirty` when the working tree has changes. */
function gitRevision(): string {
  try {
    return execFileSync('git', ['describe', '--always', '--dirty'], { cwd: ROOT_DIR, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

function environment() {
  const cpus = os.cpus();
  return {
    revision: gitRevision(),
    node: process.version,
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    platform: `${os.platform()} ${os.arch()}`,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadAverage: os.loadavg().map((load) => Math.round(load * 100) / 100),
    versions: Object.fromEntries(
      [
        '@wirecall/server',
        '@wirecall/client',
        'ws',
        'socket.io',
        'socket.io-client',
        '@trpc/server',
        '@trpc/client',
        'zod',
        'superjson',
      ].map((name) => [name, packageVersion(name)]),
    ),
  };
}

/** The newest modification time of the files under `dir` that pass `filter`. */
function newestMtime(dir: string, filter: (file: string) => boolean): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path, filter));
    else if (filter(entry.name)) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** The benchmark runs the packages' dist: it must exist, and should be newer than the sources. */
function checkBuild(): string[] {
  const warnings: string[] = [];
  for (const name of ['core', 'server', 'client']) {
    const dist = join(ROOT_DIR, 'packages', name, 'dist', 'index.js');
    if (!existsSync(dist))
      throw new Error(`packages/${name}/dist is missing: run \`npm run build\` at the repository root`);
    const source = newestMtime(
      join(ROOT_DIR, 'packages', name, 'src'),
      (file) => file.endsWith('.ts') && !file.includes('.test'),
    );
    if (source > statSync(dist).mtimeMs) {
      warnings.push(`packages/${name}/src is newer than its dist: run \`npm run build\` to measure the current code`);
    }
  }
  return warnings;
}

function format(value: number | undefined, digits: number): string {
  if (value === undefined || !Number.isFinite(value)) return 'n/a';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function printTable(headers: string[], rows: string[][]): void {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
      .join('  ');
  console.log(line(headers));
  console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  for (const row of rows) console.log(line(row));
}

interface ScenarioOutcome {
  id: ScenarioId;
  title: string;
  sizes: object;
  peers: PeerName[];
  runs: Partial<Record<PeerName, RunResult[]>>;
  /** Each metric combined over the repetitions (median, or sum for error counts). */
  combined: Partial<Record<PeerName, Record<string, number>>>;
  failures: Partial<Record<PeerName, string[]>>;
  skipped?: string;
  notes?: readonly string[];
}

function combine(runs: RunResult[], specs: readonly MetricSpec[]): Record<string, number> {
  const keys = new Set(runs.flatMap((run) => Object.keys(run.metrics)));
  const combined: Record<string, number> = {};
  for (const key of keys) {
    const values = runs.map((run) => run.metrics[key]).filter((value): value is number => Number.isFinite(value));
    const sum = specs.find((spec) => spec.key === key)?.aggregate === 'sum';
    combined[key] = sum ? values.reduce((total, value) => total + value, 0) : median(values);
  }
  return combined;
}

function ratio(outcome: ScenarioOutcome, peer: PeerName, key: string): number {
  const value = outcome.combined[peer]?.[key];
  const base = outcome.combined.raw?.[key];
  return value !== undefined && base !== undefined && base > 0 ? value / base : Number.NaN;
}

function meets(value: number, target: { op: '>=' | '<='; value: number }): boolean {
  return target.op === '>=' ? value >= target.value : value <= target.value;
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const startedAt = new Date();
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const env = environment();
  const mode = options.quick ? 'quick' : 'full';
  console.log(`wirecall benchmark: ${mode} run, median of ${options.reps} repetition(s), ${startedAt.toISOString()}`);
  console.log(
    `node ${env.node} · ${env.cpu} · ${env.cores} cores · ${env.platform} · ${env.memoryGiB} GiB · load average ${env.loadAverage.join(' ')}`,
  );
  console.log(
    [`wirecall ${env.revision}`, ...Object.entries(env.versions).map(([name, version]) => `${name} ${version}`)].join(
      ' · ',
    ),
  );
  for (const warning of checkBuild()) console.log(`WARNING: ${warning}`);

  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const runId = `${stamp}-${process.pid}`;
  const natsUrl = process.env.NATS_URL ?? '127.0.0.1:4222';
  const redisPrefixes: string[] = [];
  const natsPrefixes: string[] = [];
  let prefixes = 0;
  const harness: HarnessSettings = { childTimeoutMs: options.quick ? 120_000 : 300_000 };
  if (options.cpuProfilePeers) {
    const dir = join(RESULTS_DIR, 'prof', stamp);
    harness.cpuProfile = { dir, peers: options.cpuProfilePeers };
    console.log(`CPU profiles of ${options.cpuProfilePeers.join(', ')} children go to ${relative(process.cwd(), dir)}`);
  }
  const scenarioEnv: ScenarioEnv = {
    quick: options.quick,
    harness,
    redisUrl,
    natsUrl,
    brokers: options.brokers,
    nextRedisPrefix: (inOwnCluster = false) => {
      const prefix = `wirecall-bench:${runId}:${prefixes++}`;
      if (!inOwnCluster) redisPrefixes.push(prefix);
      return prefix;
    },
    nextNatsPrefix: () => {
      const prefix = `wcbench_${runId.replace(/[^A-Za-z0-9]/g, '_')}_${prefixes++}`;
      natsPrefixes.push(prefix);
      return prefix;
    },
  };

  const outcomes: ScenarioOutcome[] = [];
  for (const scenario of SCENARIOS) {
    if (!options.scenarios.includes(scenario.id)) continue;
    const peers = scenario.peers.filter((peer) => options.peers.includes(peer));
    const outcome: ScenarioOutcome = {
      id: scenario.id,
      title: scenario.title,
      sizes: scenario.sizes(options.quick),
      peers,
      runs: {},
      combined: {},
      failures: {},
      ...(scenario.notes ? { notes: scenario.notes } : {}),
    };
    outcomes.push(outcome);
    if (peers.length === 0) continue;
    console.log(`\n${scenario.id}: ${scenario.title}  ${JSON.stringify(outcome.sizes)}`);
    for (const note of scenario.notes ?? []) console.log(`  note: ${note}`);
    for (let rep = 1; rep <= options.reps; rep++) {
      for (const peer of peers) {
        const began = Date.now();
        let result: RunResult;
        try {
          result = await scenario.run(peer, scenarioEnv);
        } catch (error) {
          result = { metrics: {}, failures: [`run failed: ${error instanceof Error ? error.message : String(error)}`] };
        }
        (outcome.runs[peer] ??= []).push(result);
        const figures = scenario.metrics
          .filter((spec) => scenario.id !== 'E' || result.metrics[spec.key] !== undefined)
          .map((spec) => `${spec.key} ${format(result.metrics[spec.key], spec.digits)}`)
          .join('  ');
        const failed = result.failures.length > 0 ? `  FAILED: ${result.failures.join('; ')}` : '';
        console.log(
          `  ${scenario.id} ${rep}/${options.reps}  ${PEER_LABELS[peer].padEnd(9)}  ${figures}  (${((Date.now() - began) / 1e3).toFixed(1)} s)${failed}`,
        );
      }
    }
    for (const peer of peers) {
      const runs = outcome.runs[peer] ?? [];
      outcome.combined[peer] = combine(runs, scenario.metrics);
      const failures = runs.flatMap((run, index) => run.failures.map((failure) => `rep ${index + 1}: ${failure}`));
      if (failures.length > 0) outcome.failures[peer] = failures;
    }
  }
  if (redisPrefixes.length > 0) {
    // The streams would expire by themselves (history.maxAgeMs); delete them now.
    await deleteRedisKeys(redisUrl, redisPrefixes).catch((error: unknown) =>
      console.log(`note: could not delete the run's Redis keys: ${String(error)}`),
    );
  }
  if (natsPrefixes.length > 0) {
    await cleanUpNats(natsUrl, natsPrefixes).catch((error: unknown) =>
      console.log(`note: could not delete the run's JetStream streams: ${String(error)}`),
    );
  }

  // Tables.
  const single = outcomes.filter((outcome) => outcome.id !== 'E' && outcome.peers.length > 0);
  const tablePeers = options.peers;
  const ratioPeers = tablePeers.filter((peer) => peer !== 'raw');
  const specOf = (id: ScenarioId) => SCENARIOS.find((scenario) => scenario.id === id)!;
  console.log(`\nResults (${mode} run, median of ${options.reps}; error counts are sums)\n`);
  printTable(
    ['measure', 'unit', ...tablePeers.map((peer) => PEER_LABELS[peer])],
    single.flatMap((outcome) =>
      specOf(outcome.id).metrics.map((spec) => [
        spec.label,
        spec.unit,
        ...tablePeers.map((peer) => format(outcome.combined[peer]?.[spec.key], spec.digits)),
      ]),
    ),
  );
  const ratioRows: string[][] = [];
  const ratios: Record<string, Record<string, number>> = {};
  for (const outcome of single) {
    for (const spec of specOf(outcome.id).metrics.filter((metric) => metric.ratio)) {
      const values = ratioPeers.map((peer) => ratio(outcome, peer, spec.key));
      ratioPeers.forEach((peer, index) => ((ratios[`${outcome.id}.${spec.key}`] ??= {})[peer] = values[index]!));
      const wirecall = ratio(outcome, 'wirecall', spec.key);
      ratioRows.push([
        `${spec.label} (${spec.better} is better)`,
        ...values.map((value) => format(value, 2)),
        spec.target ? `${spec.target.op} ${spec.target.value}` : '',
        spec.target && Number.isFinite(wirecall) ? (meets(wirecall, spec.target) ? 'yes' : 'NO') : '',
      ]);
    }
  }
  if (tablePeers.includes('raw') && ratioRows.length > 0) {
    console.log('\nRatios against raw ws (peer / raw ws)\n');
    printTable(['measure', ...ratioPeers.map((peer) => PEER_LABELS[peer]), 'target', 'wirecall meets it'], ratioRows);
  }
  const cluster = outcomes.find((outcome) => outcome.id === 'E');
  const clusterRatio: Record<string, number> = {};
  if (cluster && !cluster.skipped && cluster.combined.wirecall) {
    const e = cluster.combined.wirecall;
    const c = outcomes.find((outcome) => outcome.id === 'C')?.combined.wirecall;
    console.log(
      `\nE: wirecall nodes through a broker, 8 rooms partitioned across the nodes (raw ws has no equivalent)\n`,
    );
    const rows: string[][] = [];
    for (const broker of E_BROKERS) {
      for (const nodes of E_NODES) {
        const get = (metric: string) => e[eKey(broker, nodes, metric)];
        if (get('eventsPerSec') === undefined && get('lost') === undefined) continue;
        const perNode = Array.from({ length: nodes }, (_, node) => get(`node${node}Events`));
        const bytes = Array.from({ length: nodes }, (_, node) => get(`node${node}Bytes`));
        const vsC = c?.eventsPerSec ? (get('eventsPerSec') ?? Number.NaN) / c.eventsPerSec : Number.NaN;
        clusterRatio[`${broker}.${nodes}`] = vsC;
        rows.push([
          BROKER_LABELS[broker],
          String(nodes),
          format(get('eventsPerSec'), 0),
          `${format(get('lost'), 0)} / ${format(get('duplicates'), 0)}`,
          format(get('published'), 0),
          perNode.map((value) => format(value, 0)).join(' / '),
          bytes.map((value) => format(value, 0)).join(' / '),
          format(get('meanNodeShare'), 3),
          format(vsC, 2),
        ]);
      }
    }
    printTable(
      [
        'broker',
        'nodes',
        'delivered events/s',
        'lost / dup',
        'published',
        'broker events per node',
        'broker bytes per node',
        'share per node',
        'E / C events/s',
      ],
      rows,
    );
  } else if (cluster?.skipped) {
    console.log(`\nE: skipped: ${cluster.skipped}`);
  }
  const failing = outcomes.flatMap((outcome) =>
    Object.entries(outcome.failures).flatMap(([peer, failures]) =>
      failures.map((failure) => `${outcome.id} ${PEER_LABELS[peer as PeerName]}: ${failure}`),
    ),
  );
  console.log(
    failing.length === 0
      ? '\nChecks: every answer was a + b; every client got every event exactly once; every stream item arrived once, in order, intact.'
      : '\nFAILED CHECKS:',
  );
  for (const failure of failing) console.log(`  ${failure}`);

  // JSON and chart.
  mkdirSync(RESULTS_DIR, { recursive: true });
  const finishedAt = new Date();
  const report = {
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    mode,
    reps: options.reps,
    environment: env,
    notes: [
      'wirecall servers raise limits.rateLimit (10,000,000 messages/s) and maxConnections.perIp (10,000); everything else is default',
      'tRPC and wirecall validate inputs with zod; raw ws and Socket.IO validate nothing',
    ],
    scenarios: Object.fromEntries(outcomes.map((outcome) => [outcome.id, outcome])),
    ratiosAgainstRawWs: ratios,
    clusterAgainstSingleNode: clusterRatio,
    failures: failing,
  };
  const json = `${JSON.stringify(report, null, 2)}\n`;
  writeFileSync(join(RESULTS_DIR, `${stamp}.json`), json);
  writeFileSync(join(RESULTS_DIR, 'latest.json'), json);
  console.log(`\nwrote ${relative(process.cwd(), join(RESULTS_DIR, `${stamp}.json`))} and latest.json`);

  const groups: ChartGroup[] = [];
  for (const outcome of single) {
    for (const spec of specOf(outcome.id).metrics.filter((metric) => metric.target)) {
      groups.push({
        label: spec.label,
        note: `${spec.better} is better`,
        ...(spec.target ? { target: spec.target } : {}),
        bars: ratioPeers.map((peer) => ({
          label: PEER_LABELS[peer],
          color: PEER_COLORS[peer],
          value: ratio(outcome, peer, spec.key),
        })),
      });
    }
  }
  // The committed chart shows full runs only: a partial or profiled run must not replace it.
  const completeRun =
    !options.quick &&
    options.cpuProfilePeers === undefined &&
    options.scenarios.length === SCENARIOS.length &&
    options.peers.length === PEER_NAMES.length;
  if (!completeRun) {
    console.log('kept results/ratios.svg: only a full run of every scenario and peer redraws it');
  } else if (groups.length > 0) {
    const svg = drawRatioChart({
      title: 'wirecall, Socket.IO and tRPC against raw ws (ratio; raw ws = 1.0)',
      subtitle: `${mode} run, median of ${options.reps} · ${startedAt.toISOString().slice(0, 10)} · node ${env.node} · ${env.cpu}, ${env.cores} cores · same machine, 127.0.0.1`,
      groups,
    });
    writeFileSync(join(RESULTS_DIR, 'ratios.svg'), svg);
    console.log(`drew ${relative(process.cwd(), join(RESULTS_DIR, 'ratios.svg'))}`);
  }
  console.log(`total ${((finishedAt.getTime() - startedAt.getTime()) / 1e3).toFixed(0)} s`);
  return failing.length === 0 ? 0 : 1;
}

await runMain(main);
