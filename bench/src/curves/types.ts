/** What a curve is to the curves' orchestrator (main.ts): its points, how to run them, how to chart them. */
import type { HarnessSettings } from '../harness.js';
import type { Payload, PeerName } from '../peers/types.js';

export type CurveId = 'subscribers' | 'in-flight' | 'payload' | 'isolation';

export interface CurveEnv {
  quick: boolean;
  harness: HarnessSettings;
  /** What `at` is in the calls and events (default `date`: the values users send). */
  payload: Payload;
}

/** One figure of a point, charted in its own panel when `chart` is set. */
export interface CurveMetric {
  key: string;
  label: string;
  unit: string;
  better: 'higher' | 'lower';
  digits: number;
  /** Drawn as a panel of the curve's SVG (the others are in the markdown and JSON only). */
  chart?: boolean;
  /** A logarithmic y axis (spans of several orders of magnitude). */
  logY?: boolean;
}

export interface CurvePoint {
  /** The point's x: subscribers, calls in flight, bytes, delivered events/s. */
  x: number;
  /** The point's name in tables, when x alone does not say it (x measured rather than set). */
  label?: string;
  metrics: Record<string, number>;
}

/** One peer's curve, once: every point in one set of processes (warmed up once). */
export interface CurveRun {
  points: CurvePoint[];
  failures: string[];
}

export interface Curve {
  id: CurveId;
  title: string;
  /** What the x axis is, and how its values read. */
  xLabel: string;
  xLog: boolean;
  formatX(x: number): string;
  /** Charted by point (evenly spaced, named by their labels) rather than by x: x is measured and may not grow. */
  categorical?: boolean;
  /** The peers run by default (`--peers` narrows them). */
  peers: readonly PeerName[];
  metrics: readonly CurveMetric[];
  /** What the run does, for the markdown and the JSON. */
  describe(quick: boolean): string;
  run(peer: PeerName, env: CurveEnv): Promise<CurveRun>;
}

/** Bytes as a short label: 100 B, 1 KiB, 256 KiB. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  return `${Number.isInteger(bytes / 1024) ? bytes / 1024 : (bytes / 1024).toFixed(1)} KiB`;
}

/** A count with thousands separators. */
export function formatCount(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}
