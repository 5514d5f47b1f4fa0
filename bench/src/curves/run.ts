/**
 * The curves' orchestrator (`npm run bench:curves -w bench`, or `npm run bench -w bench -- --curves`):
 * runs each curve for each of its peers, repetitions interleaved across peers, and reports the
 * median of each point with its spread (lowest to highest repetition):
 *
 * - a table per measure on the console, and `results/curves-<id>.md` (committed) with the same;
 * - `results/curves-<id>.svg` (committed): the charted measures, one panel each;
 * - `results/curves-<time>.json` (not committed): every repetition of every point.
 *
 * The committed files are rewritten by a full run (not --quick) of a curve with its default peers.
 *
 *   npm run bench:curves -w bench                                   every curve, default peers, median of 3 (~6 min)
 *   npm run bench:curves -w bench -- --quick                        1 repetition, smaller rounds
 *   npm run bench:curves -w bench -- --only=payload,in-flight --reps=3 --peers=raw,wirecall
 *   npm run bench:curves -w bench -- --payload=numbers              numbers instead of Dates
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, relative } from 'node:path';
import { drawCurveChart, type CurveSeries } from '../curve-chart.js';
import { BENCH_DIR, type HarnessSettings } from '../harness.js';
import {
  PAYLOAD_LABELS,
  PAYLOADS,
  PEER_COLORS,
  PEER_LABELS,
  PEER_NAMES,
  type Payload,
  type PeerName,
} from '../peers/types.js';
import { median } from '../stats.js';
import { inFlightCurve } from './in-flight.js';
import { isolationCurve } from './isolation.js';
import { payloadCurve } from './payload-size.js';
import { subscribersCurve } from './subscribers.js';
import type { Curve, CurveEnv, CurveId, CurveMetric, CurveRun } from './types.js';

const CURVES: readonly Curve[] = [subscribersCurve, inFlightCurve, payloadCurve, isolationCurve];
const RESULTS_DIR = join(BENCH_DIR, 'results');
const USAGE =
  'usage: npm run bench:curves -w bench -- [--quick] [--only=subscribers,in-flight,payload,isolation] [--peers=raw,wirecall] [--reps=N] [--payload=date|numbers]';

interface Options {
  quick: boolean;
  curves: CurveId[];
  peers: PeerName[] | undefined;
  reps: number;
  payload: Payload;
}

function parseList<T extends string>(value: string, allowed: readonly T[], what: string): T[] {
  const items = value.split(',').map((item) => item.trim());
  for (const item of items) {
    if (!allowed.includes(item as T)) throw new Error(`unknown ${what} "${item}" (one of ${allowed.join(', ')})`);
  }
  return items as T[];
}

function parseOptions(argv: readonly string[]): Options {
  const options: Options = {
    quick: false,
    curves: CURVES.map((curve) => curve.id),
    peers: undefined,
    reps: 0,
    payload: 'date',
  };
  for (const arg of argv) {
    const [flag, value] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg];
    if (flag === '--quick') options.quick = true;
    else if (flag === '--only' && value)
      options.curves = parseList(
        value,
        CURVES.map((curve) => curve.id),
        'curve',
      );
    else if (flag === '--peers' && value) options.peers = parseList(value, PEER_NAMES, 'peer');
    else if (flag === '--reps' && Number.isInteger(Number(value)) && Number(value) > 0) options.reps = Number(value);
    else if (flag === '--payload' && value) options.payload = parseList(value, PAYLOADS, 'payload')[0]!;
    else if (flag === '--help' || flag === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown argument ${arg}\n${USAGE}`);
  }
  options.reps ||= options.quick ? 1 : 3;
  return options;
}

/** One point of one peer's curve over the repetitions. */
interface AggregatePoint {
  x: number;
  label: string;
  median: Record<string, number>;
  min: Record<string, number>;
  max: Record<string, number>;
}

function aggregate(curve: Curve, runs: readonly CurveRun[]): AggregatePoint[] {
  const count = Math.max(0, ...runs.map((run) => run.points.length));
  return Array.from({ length: count }, (_, index) => {
    const points = runs.flatMap((run) => (run.points[index] ? [run.points[index]] : []));
    const x = median(points.map((point) => point.x));
    const result: AggregatePoint = {
      x,
      label: points[0]?.label ?? curve.formatX(x),
      median: {},
      min: {},
      max: {},
    };
    for (const { key } of curve.metrics) {
      const values = points
        .map((point) => point.metrics[key])
        .filter((value): value is number => Number.isFinite(value));
      result.median[key] = median(values);
      result.min[key] = values.length > 0 ? Math.min(...values) : Number.NaN;
      result.max[key] = values.length > 0 ? Math.max(...values) : Number.NaN;
    }
    return result;
  });
}

function format(value: number | undefined, digits: number): string {
  if (value === undefined || !Number.isFinite(value)) return 'n/a';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** `median` or `median [min–max]` when the repetitions differ. */
function withSpread(point: AggregatePoint | undefined, metric: CurveMetric, reps: number): string {
  if (point === undefined) return 'n/a';
  const { key, digits } = metric;
  const value = format(point.median[key], digits);
  if (reps < 2 || !Number.isFinite(point.min[key]!)) return value;
  return `${value} [${format(point.min[key], digits)}–${format(point.max[key], digits)}]`;
}

/** The tables of one curve, as markdown: one per measure, a row per point, a column per peer. */
function tables(curve: Curve, results: Partial<Record<PeerName, AggregatePoint[]>>, reps: number): string[] {
  const peers = PEER_NAMES.filter((peer) => results[peer] !== undefined);
  const reference = results.wirecall ?? results[peers[0]!] ?? [];
  const lines: string[] = [];
  for (const metric of curve.metrics) {
    const ratio = results.raw !== undefined && results.wirecall !== undefined;
    lines.push(`${metric.label} (${metric.unit}, ${metric.better} is better)`, '');
    const header = ['point', ...peers.map((peer) => PEER_LABELS[peer]), ...(ratio ? ['wirecall / raw ws'] : [])];
    lines.push(
      `| ${header.join(' | ')} |`,
      `| ${header.map((_, index) => (index === 0 ? '---' : '---:')).join(' | ')} |`,
    );
    reference.forEach((point, index) => {
      const cells = [
        point.label,
        ...peers.map((peer) => withSpread(results[peer]![index], metric, reps)),
        ...(ratio
          ? [
              format(
                (results.wirecall![index]?.median[metric.key] ?? Number.NaN) /
                  (results.raw![index]?.median[metric.key] ?? Number.NaN),
                2,
              ),
            ]
          : []),
      ];
      lines.push(`| ${cells.join(' | ')} |`);
    });
    lines.push('');
  }
  return lines;
}

function gitRevision(): string {
  try {
    return execFileSync('git', ['describe', '--always', '--dirty'], { cwd: BENCH_DIR, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

export async function curvesMain(argv: readonly string[]): Promise<number> {
  const options = parseOptions(argv);
  const startedAt = new Date();
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const cpus = os.cpus();
  const env = {
    revision: gitRevision(),
    node: process.version,
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    loadAverage: os.loadavg().map((load) => Math.round(load * 100) / 100),
  };
  const header = `${options.quick ? 'quick' : 'full'} run, median of ${options.reps}, at: ${PAYLOAD_LABELS[options.payload]} · ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} · wirecall ${env.revision} · node ${env.node} · ${env.cpu}, ${env.cores} cores`;
  console.log(`wirecall curves: ${header} · load average ${env.loadAverage.join(' ')}`);
  const harness: HarnessSettings = { childTimeoutMs: options.quick ? 240_000 : 600_000 };
  const curveEnv: CurveEnv = { quick: options.quick, harness, payload: options.payload };
  const report: Record<string, unknown> = {};
  const failures: string[] = [];
  mkdirSync(RESULTS_DIR, { recursive: true });

  for (const curve of CURVES.filter((candidate) => options.curves.includes(candidate.id))) {
    const peers = curve.peers.filter((peer) => options.peers === undefined || options.peers.includes(peer));
    const extra = (options.peers ?? []).filter((peer) => !curve.peers.includes(peer));
    peers.push(...extra);
    const ordered = PEER_NAMES.filter((peer) => peers.includes(peer));
    console.log(`\n${curve.id}: ${curve.title}\n  ${curve.describe(options.quick)}`);
    const runs: Partial<Record<PeerName, CurveRun[]>> = {};
    const began = Date.now();
    for (let rep = 1; rep <= options.reps; rep++) {
      for (const peer of ordered) {
        const runBegan = Date.now();
        let run: CurveRun;
        try {
          run = await curve.run(peer, curveEnv);
        } catch (error) {
          run = { points: [], failures: [`run failed: ${error instanceof Error ? error.message : String(error)}`] };
        }
        (runs[peer] ??= []).push(run);
        failures.push(...run.failures.map((failure) => `${curve.id} ${PEER_LABELS[peer]} rep ${rep}: ${failure}`));
        const charted = curve.metrics.filter((metric) => metric.chart);
        console.log(
          `  ${rep}/${options.reps} ${PEER_LABELS[peer].padEnd(9)} ${run.points
            .map(
              (point) =>
                `${point.label === undefined ? curve.formatX(point.x) : `${point.label} (${curve.formatX(point.x)})`}: ${charted.map((metric) => format(point.metrics[metric.key], metric.digits)).join(' / ')}`,
            )
            .join(
              ' · ',
            )}  (${((Date.now() - runBegan) / 1e3).toFixed(1)} s)${run.failures.length > 0 ? `  FAILED: ${run.failures.join('; ')}` : ''}`,
        );
      }
    }
    const results = Object.fromEntries(ordered.map((peer) => [peer, aggregate(curve, runs[peer] ?? [])])) as Partial<
      Record<PeerName, AggregatePoint[]>
    >;
    const markdown = tables(curve, results, options.reps);
    console.log(`\n${markdown.join('\n')}`);
    report[curve.id] = { title: curve.title, describe: curve.describe(options.quick), peers: ordered, runs, results };

    const complete = !options.quick && curve.peers.every((peer) => ordered.includes(peer));
    if (!complete) {
      console.log(
        `  kept results/curves-${curve.id}.svg and .md: only a full run with the curve's default peers rewrites them`,
      );
      continue;
    }
    const svg = drawCurveChart({
      title: `wirecall curves: ${curve.title}`,
      subtitle: header,
      xLabel: curve.xLabel,
      xLog: curve.xLog,
      formatX: curve.formatX,
      ...(curve.categorical ? { categories: (results.wirecall ?? results.raw ?? []).map((point) => point.label) } : {}),
      panels: curve.metrics
        .filter((metric) => metric.chart)
        .map((metric) => ({
          title: `${metric.label} (${metric.better} is better)`,
          yLabel: metric.unit,
          ...(metric.logY ? { logY: true } : {}),
          series: ordered.map((peer): CurveSeries => ({
            label: PEER_LABELS[peer],
            color: PEER_COLORS[peer],
            points: (results[peer] ?? []).map((point, index) => ({
              x: curve.categorical ? index : point.x,
              y: point.median[metric.key]!,
              min: point.min[metric.key]!,
              max: point.max[metric.key]!,
            })),
          })),
        })),
    });
    writeFileSync(join(RESULTS_DIR, `curves-${curve.id}.svg`), svg);
    writeFileSync(
      join(RESULTS_DIR, `curves-${curve.id}.md`),
      [
        `# Curve: ${curve.title}`,
        '',
        `${header}; load average ${env.loadAverage.join(' ')} at the start; ${((Date.now() - began) / 1e3).toFixed(0)} s.`,
        '',
        `Setup: ${curve.describe(options.quick)}. Figures: median [lowest–highest] of the repetitions.`,
        '',
        `![${curve.title}](curves-${curve.id}.svg)`,
        '',
        ...markdown,
      ].join('\n'),
    );
    console.log(`  drew results/curves-${curve.id}.svg and wrote results/curves-${curve.id}.md`);
  }

  const file = join(RESULTS_DIR, `curves-${stamp}.json`);
  writeFileSync(
    file,
    `${JSON.stringify({ startedAt: startedAt.toISOString(), options, environment: env, curves: report, failures }, null, 2)}\n`,
  );
  console.log(`\nwrote ${relative(process.cwd(), file)}`);
  console.log(failures.length === 0 ? 'Checks: every answer and every event as expected.' : 'FAILED CHECKS:');
  for (const failure of failures) console.log(`  ${failure}`);
  console.log(`total ${((Date.now() - startedAt.getTime()) / 1e3).toFixed(0)} s`);
  return failures.length === 0 ? 0 : 1;
}
