/**
 * @module The benchmark's orchestrator: runs each scenario for each peer in child processes
 * (servers and clients apart, all on 127.0.0.1), repetitions interleaved across peers, and reports
 * medians: a table of absolute figures, a table of ratios against raw ws, a JSON file under
 * bench/results/ and the chart bench/results/ratios.svg.
 *
 * Scenarios A, B, C and F run in lines (each with its own processes): A and B with `at` a Date and
 * a number, C paced and burst with each, F's small items with each and its slices.
 *
 *   npm run bench                          the full run: every line, 3 repetitions (~10 minutes on 2 cores)
 *   npm run bench -- --quick               1 repetition, smaller sizes (about a minute on 2 cores)
 *   npm run bench -- --only=A,C            some scenarios
 *   npm run bench -- --payloads=date       only the lines of these payloads (date, numbers)
 *   npm run bench -- --patterns=paced      only C's lines of these patterns (paced, burst)
 *   npm run bench -- --peers=raw,wirecall  some peers
 *   npm run bench -- --reps=5              another number of repetitions
 *   npm run bench -- --cpu-prof[=peers]    children of these peers (default wirecall) write CPU profiles
 *   npm run bench -- --curves [...]        the curves instead (curves/run.ts; its own options)
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import { join, relative } from 'node:path';
import { drawRatioChart, type ChartGroup } from './chart.js';
import { BENCH_DIR, runMain, startSpinners, type HarnessSettings } from './harness.js';
import {
  PAYLOAD_LABELS,
  PAYLOADS,
  PEER_COLORS,
  PEER_LABELS,
  PEER_NAMES,
  type Payload,
  type PeerName,
} from './peers/types.js';
import {
  beatsPeers,
  formatNumber as format,
  formatSpread,
  meets,
  metricSpread,
  printTable,
  ratioSpread,
  repetitionsMeeting,
  spreadNote,
} from './report.js';
import { scenarioA } from './scenarios/a-sequential.js';
import { scenarioB } from './scenarios/b-pipelined.js';
import { scenarioC } from './scenarios/c-fanout.js';
import { scenarioD } from './scenarios/d-idle-memory.js';
import { BROKER_LABELS, cleanUpNats, E_BROKERS, E_NODES, eKey, scenarioE } from './scenarios/e-cluster.js';
import { deleteRedisKeys } from './brokers.js';
import type { BrokerKind } from './peers/types.js';
import { scenarioF } from './scenarios/f-streams.js';
import {
  lineKey,
  type MetricSpec,
  type Pattern,
  type RunResult,
  type Scenario,
  type ScenarioEnv,
  type ScenarioId,
} from './scenarios/types.js';
import { median } from './stats.js';

/** Every line, in the order they run. */
const SCENARIOS: readonly Scenario[] = [
  scenarioA('date'),
  scenarioA('numbers'),
  scenarioB('date'),
  scenarioB('numbers'),
  scenarioC('paced', 'date'),
  scenarioC('paced', 'numbers'),
  scenarioC('burst', 'date'),
  scenarioC('burst', 'numbers'),
  scenarioD,
  scenarioE,
  scenarioF('items', 'date'),
  scenarioF('items', 'numbers'),
  scenarioF('slices'),
];
const SCENARIO_IDS: readonly ScenarioId[] = ['A', 'B', 'C', 'D', 'E', 'F'];
const PATTERNS: readonly Pattern[] = ['paced', 'burst'];
/** The line E is read against: C with E's own pattern and payload (10 per turn, numbers). */
const E_REFERENCE = 'C burst, numbers';
const ROOT_DIR = join(BENCH_DIR, '..');
const RESULTS_DIR = join(BENCH_DIR, 'results');

interface Options {
  quick: boolean;
  scenarios: ScenarioId[];
  peers: PeerName[];
  reps: number;
  cpuProfilePeers: PeerName[] | undefined;
  brokers: BrokerKind[];
  payloads: Payload[];
  patterns: Pattern[];
  /** Keep every core busy with a lowest-priority loop (see harness.ts startSpinners). */
  awake: boolean;
}

const USAGE =
  'usage: npm run bench -- [--quick] [--awake] [--only=A,B,C,D,E,F] [--payloads=date,numbers] [--patterns=paced,burst] [--peers=raw,socketio,trpc,wirecall] [--reps=N] [--cpu-prof[=peers]] [--brokers=redis,redis-cluster,nats]\n       npm run bench -- --curves [--quick] [--only=subscribers,in-flight,payload,isolation] [--peers=...] [--reps=N] [--payload=date|numbers]';

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
    scenarios: [...SCENARIO_IDS],
    peers: [...PEER_NAMES],
    reps: 0,
    cpuProfilePeers: undefined,
    brokers: [...E_BROKERS],
    payloads: [...PAYLOADS],
    patterns: [...PATTERNS],
    awake: false,
  };
  for (const arg of argv) {
    const [flag, value] = arg.includes('=')
      ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
      : [arg, undefined];
    if (flag === '--quick') options.quick = true;
    else if (flag === '--awake') options.awake = true;
    else if (flag === '--only' && value) {
      options.scenarios = parseList(value.toUpperCase(), SCENARIO_IDS, 'scenario');
    } else if (flag === '--payloads' && value) options.payloads = parseList(value, PAYLOADS, 'payload');
    else if (flag === '--patterns' && value) options.patterns = parseList(value, PATTERNS, 'pattern');
    else if (flag === '--peers' && value) options.peers = parseList(value, PEER_NAMES, 'peer');
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

interface ScenarioOutcome {
  id: ScenarioId;
  /** The line's name: `C paced, Date`, or the letter for a scenario of one line. */
  key: string;
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

/** True when the options select this line. */
function selected(scenario: Scenario, options: Options): boolean {
  return (
    options.scenarios.includes(scenario.id) &&
    (scenario.payload === undefined || options.payloads.includes(scenario.payload)) &&
    (scenario.pattern === undefined || options.patterns.includes(scenario.pattern))
  );
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv.includes('--curves')) {
    const { curvesMain } = await import('./curves/run.js');
    return curvesMain(argv.filter((arg) => arg !== '--curves'));
  }
  const redrawFrom = argv.find((arg) => arg.startsWith('--redraw='));
  if (redrawFrom !== undefined) return redraw(redrawFrom.slice('--redraw='.length));
  const options = parseOptions(argv);
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
  if (options.awake) {
    startSpinners(env.cores, 1_800_000);
    console.log(`awake: ${env.cores} busy loops at nice 19 keep the cores out of idle for the whole run`);
  }

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
    if (!selected(scenario, options)) continue;
    const peers = scenario.peers.filter((peer) => options.peers.includes(peer));
    const key = lineKey(scenario);
    const outcome: ScenarioOutcome = {
      id: scenario.id,
      key,
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
    console.log(`\n${key}: ${scenario.title}  ${JSON.stringify(outcome.sizes)}`);
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
        // With --cpu-prof: the measured part, for `profile-top --window=…`.
        const window =
          harness.cpuProfile && result.metrics.windowFromUs !== undefined
            ? `  window ${result.metrics.windowFromUs}-${result.metrics.windowToUs}`
            : '';
        console.log(
          `  ${key} ${rep}/${options.reps}  ${PEER_LABELS[peer].padEnd(9)}  ${figures}  (${((Date.now() - began) / 1e3).toFixed(1)} s)${window}${failed}`,
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
  const spreads = options.reps > 1 ? ' [lowest–highest repetition]' : '';
  console.log(`\nResults (${mode} run, median of ${options.reps}${spreads}; error counts are sums)\n`);
  printTable(
    ['measure', 'unit', ...tablePeers.map((peer) => PEER_LABELS[peer])],
    single.flatMap((outcome) =>
      specOf(outcome.key).metrics.map((spec) => [
        spec.label,
        spec.unit,
        ...tablePeers.map((peer) =>
          spec.aggregate === 'sum' || outcome.runs[peer] === undefined
            ? format(outcome.combined[peer]?.[spec.key], spec.digits)
            : formatSpread(metricSpread(outcome.runs[peer], spec.key), spec.digits),
        ),
      ]),
    ),
  );
  const ratioRows: string[][] = [];
  const ratios: Record<string, Record<string, number>> = {};
  const ratioSpreads: Record<string, Record<string, { min: number; max: number }>> = {};
  const notes: string[] = [];
  for (const outcome of single) {
    for (const spec of specOf(outcome.key).metrics.filter((metric) => metric.ratio)) {
      const values = ratioPeers.map((peer) => ratioSpread(outcome.runs, peer, spec.key));
      ratioPeers.forEach((peer, index) => {
        const { median: value, min, max } = values[index]!;
        (ratios[`${outcome.key}.${spec.key}`] ??= {})[peer] = value;
        (ratioSpreads[`${outcome.key}.${spec.key}`] ??= {})[peer] = { min, max };
      });
      const wirecall = ratioSpread(outcome.runs, 'wirecall', spec.key);
      const { target } = spec;
      let verdict = '';
      if (target && Number.isFinite(wirecall.median)) {
        const beat = target.beatPeers ? beatsPeers(outcome.runs, spec.key, outcome.peers) : undefined;
        const met = meets(wirecall.median, target) && (beat?.median ?? true);
        verdict = `${met ? 'yes' : 'NO'} (${repetitionsMeeting(outcome.runs, { ...spec, target })} reps)`;
        if (beat) verdict += `; above every peer: ${beat.median ? 'yes' : 'NO'} (${beat.repetitions} reps)`;
      }
      const note = ratioPeers.includes('wirecall') ? spreadNote(wirecall, target) : undefined;
      if (note) notes.push(`${spec.label}: wirecall ${formatSpread(wirecall, 2)}: ${note}`);
      ratioRows.push([
        `${spec.label} (${spec.better} is better)`,
        ...values.map(
          (value, index) => `${formatSpread(value, 2)}${ratioPeers[index] === 'wirecall' && note ? ' *' : ''}`,
        ),
        target ? `${target.op} ${target.value}${target.beatPeers ? ', > peers' : ''}` : '',
        verdict,
      ]);
    }
  }
  if (tablePeers.includes('raw') && ratioRows.length > 0) {
    console.log(
      `\nRatios against raw ws (peer / raw ws: ratio of the medians${spreads ? ' [lowest–highest ratio of a repetition to raw ws in the same repetition]' : ''})\n`,
    );
    printTable(['measure', ...ratioPeers.map((peer) => PEER_LABELS[peer]), 'target', 'wirecall meets it'], ratioRows);
    if (notes.length > 0) {
      console.log('\n* The spread is wider than the difference the ratio claims (from its target, or from raw ws):');
      for (const note of notes) console.log(`  ${note}`);
    }
  }
  const typedCost = printTypedCost(single, tablePeers);
  const cluster = outcomes.find((outcome) => outcome.id === 'E');
  const clusterRatio: Record<string, number> = {};
  if (cluster && !cluster.skipped && cluster.combined.wirecall) {
    const e = cluster.combined.wirecall;
    const c = outcomes.find((outcome) => outcome.key === E_REFERENCE)?.combined.wirecall;
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
    awake: options.awake,
    environment: env,
    notes: [
      'wirecall servers raise limits.rateLimit (10,000,000 messages/s) and maxConnections.perIp (10,000); everything else is default',
      'tRPC and wirecall validate inputs with zod; raw ws and Socket.IO validate nothing',
    ],
    scenarios: Object.fromEntries(outcomes.map((outcome) => [outcome.key, outcome])),
    ratiosAgainstRawWs: ratios,
    ratioSpreads,
    ratioNotes: notes,
    dateAgainstNumbers: typedCost,
    clusterAgainstSingleNode: clusterRatio,
    failures: failing,
  };
  const json = `${JSON.stringify(report, null, 2)}\n`;
  writeFileSync(join(RESULTS_DIR, `${stamp}.json`), json);
  writeFileSync(join(RESULTS_DIR, 'latest.json'), json);
  console.log(`\nwrote ${relative(process.cwd(), join(RESULTS_DIR, `${stamp}.json`))} and latest.json`);

  // The committed chart shows full runs only: a partial or profiled run must not replace it.
  const completeRun =
    !options.quick &&
    options.cpuProfilePeers === undefined &&
    options.scenarios.length === SCENARIO_IDS.length &&
    options.payloads.length === PAYLOADS.length &&
    options.patterns.length === PATTERNS.length &&
    options.peers.length === PEER_NAMES.length &&
    !options.awake;
  if (!completeRun) {
    console.log('kept results/ratios.svg: only a full run of every scenario and peer redraws it');
  } else {
    drawChart(single, { mode, reps: options.reps, startedAt, env });
  }
  console.log(`total ${((finishedAt.getTime() - startedAt.getTime()) / 1e3).toFixed(0)} s`);
  return failing.length === 0 ? 0 : 1;
}

/** Draws results/ratios.svg: the lines with a target, and their numbers twins. */
function drawChart(
  single: readonly ScenarioOutcome[],
  run: { mode: string; reps: number; startedAt: Date; env: ReturnType<typeof environment> },
): void {
  const ratioPeers = PEER_NAMES.filter((peer) => peer !== 'raw');
  const groups: ChartGroup[] = [];
  for (const outcome of single) {
    for (const spec of specOf(outcome.key).metrics.filter((metric) => metric.target || metric.chart)) {
      groups.push({
        label: spec.label,
        note: `${spec.better} is better`,
        ...(spec.target ? { target: spec.target } : {}),
        bars: ratioPeers.map((peer) => {
          const { median: value, min, max, count } = ratioSpread(outcome.runs, peer, spec.key);
          return { label: PEER_LABELS[peer], color: PEER_COLORS[peer], value, ...(count > 1 ? { min, max } : {}) };
        }),
      });
    }
  }
  if (groups.length === 0) return;
  const { mode, reps, startedAt, env } = run;
  const svg = drawRatioChart({
    title: 'wirecall, Socket.IO and tRPC against raw ws (ratio; raw ws = 1.0)',
    subtitle: `${mode} run, median of ${reps} (whiskers: lowest to highest repetition) · ${startedAt.toISOString().slice(0, 10)} · wirecall ${env.revision} · node ${env.node} · ${env.cpu}, ${env.cores} cores · 127.0.0.1`,
    groups,
  });
  writeFileSync(join(RESULTS_DIR, 'ratios.svg'), svg);
  console.log(`drew ${relative(process.cwd(), join(RESULTS_DIR, 'ratios.svg'))}`);
}

/**
 * `--redraw=results/<time>.json`: draws results/ratios.svg again from a full run's results (after a
 * change to the chart), without running anything.
 */
function redraw(file: string): number {
  const report = JSON.parse(readFileSync(file, 'utf8')) as {
    mode: string;
    reps: number;
    startedAt: string;
    environment: ReturnType<typeof environment>;
    scenarios: Record<string, ScenarioOutcome>;
  };
  if (report.mode !== 'full') throw new Error(`${file} is a ${report.mode} run: the chart shows full runs only`);
  const single = Object.values(report.scenarios).filter(
    (outcome) => outcome.id !== 'E' && outcome.peers.length > 0 && outcome.key !== undefined,
  );
  drawChart(single, {
    mode: report.mode,
    reps: report.reps,
    startedAt: new Date(report.startedAt),
    env: report.environment,
  });
  return 0;
}

/**
 * The cost of typed values: for each pair of lines that differ only by payload, each peer's Date
 * line against its numbers line (the headline figure of each scenario), with a note where the
 * two lines' spreads overlap (the difference is then within the noise).
 */
function printTypedCost(single: readonly ScenarioOutcome[], peers: readonly PeerName[]) {
  const headline: Partial<Record<ScenarioId, string>> = {
    A: 'p50Us',
    B: 'callsPerSec',
    C: 'eventsPerSec',
    F: 'itemsPerSec',
  };
  const rows: string[][] = [];
  const result: Record<string, Record<string, number>> = {};
  const overlaps: string[] = [];
  for (const dated of single.filter((outcome) => specOf(outcome.key).payload === 'date')) {
    const numbersKey = dated.key.replace(PAYLOAD_LABELS.date, PAYLOAD_LABELS.numbers);
    const numbers = single.find((outcome) => outcome.key === numbersKey);
    const key = headline[dated.id];
    if (numbers === undefined || key === undefined) continue;
    const spec = specOf(dated.key).metrics.find((metric) => metric.key === key)!;
    const cells = peers.map((peer) => {
      const date = metricSpread(dated.runs[peer], key);
      const plain = metricSpread(numbers.runs[peer], key);
      if (date.count === 0 || plain.count === 0) return 'n/a';
      const value = date.median / plain.median;
      (result[`${dated.key}.${key}`] ??= {})[peer] = value;
      const overlap = date.count > 1 && plain.count > 1 && date.min <= plain.max && plain.min <= date.max;
      if (overlap) overlaps.push(`${PEER_LABELS[peer]}, ${spec.label.replace(`, ${PAYLOAD_LABELS.date}`, '')}`);
      return `${format(value, 2)}${overlap ? ' ~' : ''}`;
    });
    rows.push([`${spec.label.replace(`, ${PAYLOAD_LABELS.date}`, '')} (${spec.better} is better)`, ...cells]);
  }
  if (rows.length > 0) {
    console.log('\nThe cost of typed values: Date line / numbers line, per peer (medians)\n');
    printTable(['measure', ...peers.map((peer) => PEER_LABELS[peer])], rows);
    if (overlaps.length > 0)
      console.log(`\n~ the two lines' spreads overlap (the difference is within the noise): ${overlaps.join('; ')}`);
  }
  return result;
}

function specOf(key: string): Scenario {
  return SCENARIOS.find((scenario) => lineKey(scenario) === key)!;
}

await runMain(main);
