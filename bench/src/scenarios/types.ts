/** What a scenario is to the orchestrator: what it measures, how to run it once, how to read it. */
import type { HarnessSettings } from '../harness.js';
import type { AddInput, BrokerKind, PeerName } from '../peers/types.js';

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
  target?: { op: '>=' | '<='; value: number };
}

/** One run of one peer: its figures, and every correctness check that failed. */
export interface RunResult {
  metrics: Record<string, number>;
  failures: string[];
}

export interface Scenario {
  id: ScenarioId;
  title: string;
  peers: readonly PeerName[];
  /** Printed under the scenario's title and kept in the JSON: peers left out and why, caveats. */
  notes?: readonly string[];
  metrics: readonly MetricSpec[];
  /** The sizes a run uses (printed with the results). */
  sizes(quick: boolean): object;
  run(peer: PeerName, env: ScenarioEnv): Promise<RunResult>;
}

/** The operands of call `i`: fractional, so each answer checks the number encoding too (sums are exact). */
export function operands(i: number): AddInput {
  return { a: i + 0.25, b: 2 * i };
}

/** CPU time this process has used so far (user + system), in microseconds. */
export function cpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

/** Generous upper bound for one job of a child, so a stuck peer fails the run instead of hanging it. */
export const JOB_TIMEOUT_MS = 90_000;
