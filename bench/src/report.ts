/**
 * How the orchestrator reads repetitions: medians with their spread (lowest to highest), ratios
 * against raw ws with the spread of the per-repetition ratios, and notes where a spread is wider
 * than the difference a figure claims (from a target, from raw ws, between Date and numbers).
 */
import type { PeerName } from './peers/types.js';
import type { MetricSpec, RunResult, Target } from './scenarios/types.js';
import { median } from './stats.js';

/** A figure over the repetitions: its median and its lowest and highest value. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  /** Repetitions with a value. */
  count: number;
}

export function spreadOf(values: readonly number[]): Spread {
  const finite = values.filter((value) => Number.isFinite(value));
  return finite.length === 0
    ? { median: Number.NaN, min: Number.NaN, max: Number.NaN, count: 0 }
    : { median: median(finite), min: Math.min(...finite), max: Math.max(...finite), count: finite.length };
}

/** One metric of one peer over its repetitions. */
export function metricSpread(runs: readonly RunResult[] | undefined, key: string): Spread {
  return spreadOf((runs ?? []).map((run) => run.metrics[key] ?? Number.NaN));
}

/**
 * The ratio of `peer` to raw ws: the ratio of the medians (what the tables show), and the spread
 * of the ratios of each repetition with raw's of the same repetition (repetitions are interleaved
 * across peers, so the two ran a few seconds apart, in the same conditions).
 */
export function ratioSpread(runs: Partial<Record<PeerName, RunResult[]>>, peer: PeerName, key: string): Spread {
  const mine = runs[peer] ?? [];
  const raw = runs.raw ?? [];
  const paired = mine.slice(0, raw.length).map((run, index) => {
    const base = raw[index]!.metrics[key];
    const value = run.metrics[key];
    return value !== undefined && base !== undefined && base > 0 ? value / base : Number.NaN;
  });
  const spread = spreadOf(paired);
  const value = metricSpread(mine, key).median;
  const base = metricSpread(raw, key).median;
  return { ...spread, median: base > 0 ? value / base : Number.NaN };
}

export function formatNumber(value: number | undefined, digits: number): string {
  if (value === undefined || !Number.isFinite(value)) return 'n/a';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** `median` alone for one repetition, `median [min–max]` for several. */
export function formatSpread(spread: Spread, digits: number): string {
  const value = formatNumber(spread.median, digits);
  if (spread.count < 2) return value;
  return `${value} [${formatNumber(spread.min, digits)}–${formatNumber(spread.max, digits)}]`;
}

export function meets(value: number, target: Target): boolean {
  return target.op === '>=' ? value >= target.value : value <= target.value;
}

/**
 * A note when the spread of a ratio (highest − lowest repetition) is wider than its distance from
 * what it is read against: the target when there is one, else 1.0 (raw ws). Undefined when the
 * spread is narrower, or with a single repetition (no spread to compare).
 */
export function spreadNote(spread: Spread, target: Target | undefined): string | undefined {
  if (spread.count < 2 || !Number.isFinite(spread.median)) return undefined;
  const against = target?.value ?? 1;
  const width = spread.max - spread.min;
  const distance = Math.abs(spread.median - against);
  if (width <= distance) return undefined;
  return `spread ${formatNumber(width, 2)} exceeds its distance ${formatNumber(distance, 2)} from ${target ? `the target ${against}` : 'raw ws (1.0)'}`;
}

/** In how many repetitions wirecall's paired ratio met the target, as `n of N`. */
export function repetitionsMeeting(
  runs: Partial<Record<PeerName, RunResult[]>>,
  spec: MetricSpec & { target: Target },
): string {
  const mine = runs.wirecall ?? [];
  const raw = runs.raw ?? [];
  let met = 0;
  let counted = 0;
  mine.slice(0, raw.length).forEach((run, index) => {
    const value = run.metrics[spec.key];
    const base = raw[index]!.metrics[spec.key];
    if (value === undefined || base === undefined || !(base > 0)) return;
    counted++;
    if (meets(value / base, spec.target)) met++;
  });
  return `${met} of ${counted}`;
}

/**
 * For a `beatPeers` target: is wirecall's median above every other library's, and in how many
 * repetitions was it above all of them (repetition by repetition)?
 */
export function beatsPeers(
  runs: Partial<Record<PeerName, RunResult[]>>,
  key: string,
  peers: readonly PeerName[],
): { median: boolean; repetitions: string } {
  // The other libraries: not raw ws (the ratio's base), nor wirecall's own HTTP + SSE transport.
  const others = peers.filter((peer) => peer !== 'wirecall' && peer !== 'raw' && peer !== 'wirecallHttp');
  const mine = runs.wirecall ?? [];
  const medianAbove = others.every((peer) => metricSpread(mine, key).median > metricSpread(runs[peer], key).median);
  let above = 0;
  mine.forEach((run, index) => {
    const value = run.metrics[key] ?? Number.NaN;
    if (others.every((peer) => value > (runs[peer]?.[index]?.metrics[key] ?? Number.POSITIVE_INFINITY))) above++;
  });
  return { median: medianAbove, repetitions: `${above} of ${mine.length}` };
}

export function printTable(headers: string[], rows: string[][]): void {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
      .join('  ');
  console.log(line(headers));
  console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  for (const row of rows) console.log(line(row));
}
