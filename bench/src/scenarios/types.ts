/** What a scenario is to the orchestrator: what it measures, how to run it once, how to read it. */
import type { HarnessSettings } from '../harness.js';
import { EPOCH_MS, instantOf, isInstant, type ArrivesAs } from '../peers/payloads.js';
import type { AddInput, AddResult, BrokerKind, Payload, PeerName } from '../peers/types.js';

export type ScenarioId = 'A' | 'B' | 'C' | 'D' | 'E' | 'F';

export interface ScenarioEnv {
  quick: boolean;
  harness: HarnessSettings;
  /** Scenario E's Redis. */
  redisUrl: string;
  /** Scenario E's NATS server (with JetStream). */
  natsUrl: string;
  /** The brokers scenario E runs on. */
  brokers: readonly BrokerKind[];
  /**
   * A Redis key prefix no other run (or repetition) uses; deleted from `redisUrl` at the end of
   * the run unless it is for a Redis Cluster of the run's own (which goes away with its keys).
   */
  nextRedisPrefix(inOwnCluster?: boolean): string;
  /** A NATS prefix (letters, digits, - and _) no other run uses; its JetStream streams are deleted at the end. */
  nextNatsPrefix(): string;
}

export interface MetricSpec {
  key: string;
  label: string;
  unit: string;
  better: 'higher' | 'lower';
  /** Decimals shown in tables. */
  digits: number;
  /** How repetitions combine: the median (default), or the sum (for error counts, which must stay visible). */
  aggregate?: 'median' | 'sum';
  /** Shown in the table of ratios against raw ws. */
  ratio?: boolean;
  /** The target for wirecall's ratio against raw ws. */
  target?: Target;
  /** Drawn in results/ratios.svg without a target (the numbers line of a metric with one); those with a target are. */
  chart?: boolean;
}

export interface Target {
  op: '>=' | '<=';
  value: number;
  /** Also above (for `>=`) every other peer's ratio, not only the target. */
  beatPeers?: boolean;
}

/** Scenario C's two emitting patterns: one event per event-loop turn, or 10 per turn. */
export type Pattern = 'paced' | 'burst';

/** One run of one peer: its figures, and every correctness check that failed. */
export interface RunResult {
  metrics: Record<string, number>;
  failures: string[];
}

/**
 * One line of the report: a scenario (A to F) with one payload and pattern (`C paced, Date`). The
 * lines of a scenario run one after the other, each with its own processes; repetitions of a line
 * are interleaved across peers.
 */
export interface Scenario {
  id: ScenarioId;
  /** What tells this line from the scenario's others (`paced, Date`); absent for a scenario of one line. */
  line?: string;
  /** The payload of the line (A, B, C, F's small items). */
  payload?: Payload;
  /** The emitting pattern of the line (C). */
  pattern?: Pattern;
  title: string;
  peers: readonly PeerName[];
  /** Printed under the scenario's title and kept in the JSON: peers left out and why, caveats. */
  notes?: readonly string[];
  metrics: readonly MetricSpec[];
  /** The sizes a run uses (printed with the results). */
  sizes(quick: boolean): object;
  run(peer: PeerName, env: ScenarioEnv): Promise<RunResult>;
}

/** A line's name in tables and results: `C paced, Date`, or the scenario's letter alone. */
export function lineKey(scenario: Pick<Scenario, 'id' | 'line'>): string {
  return scenario.line === undefined ? scenario.id : `${scenario.id} ${scenario.line}`;
}

/**
 * The operands of call `i`: fractional, so each answer checks the number encoding too (sums are
 * exact), and its instant EPOCH_MS + i, which the answer must carry back.
 */
export function operands(i: number, payload: Payload): AddInput {
  return { a: i + 0.25, b: 2 * i, at: instantOf(payload, i) };
}

/** CPU time this process has used so far (user + system), in microseconds. */
export function cpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

/** Generous upper bound for one job of a child, so a stuck peer fails the run instead of hanging it. */
export const JOB_TIMEOUT_MS = 90_000;

/** True when `result` answers call `i` (see {@link operands}): the sum, and the instant back as this peer delivers it. */
export function isAnswer(result: AddResult, i: number, as: ArrivesAs): boolean {
  return result?.sum === i + 0.25 + 2 * i && isInstant(result.at, EPOCH_MS + i, as);
}

/** What the client side of a call scenario is told: how many calls, of which payload, arriving how. */
export interface CallArgs {
  calls: number;
  payload: Payload;
  arrivesAs: ArrivesAs;
}

/**
 * The measured part of a run as a window of the monotonic clock, in microseconds (`windowFromUs`,
 * `windowToUs`): profile-top.ts `--window` keeps a CPU profile's samples of that part only.
 */
export function profileWindow(startNs: bigint, endNs: bigint): Record<string, number> {
  return { windowFromUs: Number(startNs / 1_000n), windowToUs: Number(endNs / 1_000n) };
}
