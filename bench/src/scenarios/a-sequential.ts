/**
 * A: sequential calls on one connection, one in flight: each call's round trip is timed with
 * `process.hrtime.bigint()` after a warm-up. Reports calls/s, the p50 / p99 latency, and the CPU
 * time each call costs the server process and the client process (user + system, so the socket
 * writes count too): a figure that scheduling noise hardly moves.
 */
import { HOST, withChildren } from '../harness.js';
import { PEER_NAMES, type BenchClient } from '../peers/types.js';
import { percentile } from '../stats.js';
import { cpuMicros, JOB_TIMEOUT_MS, operands, type Scenario } from './types.js';

export interface SequentialArgs {
  calls: number;
}

export interface SequentialReport {
  calls: number;
  seconds: number;
  p50Ns: number;
  p99Ns: number;
  /** Answers that were not a + b. */
  wrong: number;
  /** CPU time of the client process during the calls, in microseconds. */
  cpuUs: number;
}

/** Client side: `calls` timed calls, one after the other. */
export async function runSequential(client: BenchClient, { calls }: SequentialArgs): Promise<SequentialReport> {
  let wrong = 0;
  const latencies = new Float64Array(calls);
  const cpuStart = cpuMicros();
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) {
    const input = operands(i);
    const before = process.hrtime.bigint();
    const sum = await client.add(input);
    latencies[i] = Number(process.hrtime.bigint() - before);
    if (sum !== input.a + input.b) wrong++;
  }
  const elapsedNs = Number(process.hrtime.bigint() - start);
  const cpuUs = cpuMicros() - cpuStart;
  latencies.sort();
  return {
    calls,
    seconds: elapsedNs / 1e9,
    p50Ns: percentile(latencies, 50),
    p99Ns: percentile(latencies, 99),
    wrong,
    cpuUs,
  };
}

const sizes = (quick: boolean): { warmup: number; calls: number } =>
  quick ? { warmup: 300, calls: 2_000 } : { warmup: 1_000, calls: 5_000 };

export const scenarioA: Scenario = {
  id: 'A',
  title: 'sequential calls, 1 in flight, one connection',
  peers: PEER_NAMES,
  metrics: [
    { key: 'callsPerSec', label: 'A calls/s', unit: 'calls/s', better: 'higher', digits: 0, ratio: true },
    {
      key: 'p50Us',
      label: 'A p50 latency',
      unit: 'µs',
      better: 'lower',
      digits: 1,
      ratio: true,
      target: { op: '<=', value: 1.2 },
    },
    { key: 'p99Us', label: 'A p99 latency', unit: 'µs', better: 'lower', digits: 1, ratio: true },
    { key: 'serverCpuUs', label: 'A server CPU per call', unit: 'µs', better: 'lower', digits: 1, ratio: true },
    { key: 'clientCpuUs', label: 'A client CPU per call', unit: 'µs', better: 'lower', digits: 1, ratio: true },
    { key: 'wrong', label: 'A wrong answers', unit: 'calls', better: 'lower', digits: 0, aggregate: 'sum' },
  ],
  sizes,
  run: (peer, env) =>
    withChildren(env.harness, 'A', async (start) => {
      const [server, clients] = await Promise.all([start({ role: 'server', peer }), start({ role: 'clients', peer })]);
      const { url } = await server.call<{ url: string }>('listen', { host: HOST }, JOB_TIMEOUT_MS);
      await clients.call('connect', { urls: [url], count: 1, offset: 0, concurrency: 1 }, JOB_TIMEOUT_MS);
      const size = sizes(env.quick);
      const warmup = await clients.call<SequentialReport>('sequential', { calls: size.warmup }, JOB_TIMEOUT_MS);
      const serverCpuStart = await server.call<number>('cpu', {}, JOB_TIMEOUT_MS);
      const report = await clients.call<SequentialReport>('sequential', { calls: size.calls }, JOB_TIMEOUT_MS);
      const serverCpuUs = (await server.call<number>('cpu', {}, JOB_TIMEOUT_MS)) - serverCpuStart;
      const wrong = warmup.wrong + report.wrong;
      return {
        metrics: {
          callsPerSec: report.calls / report.seconds,
          p50Us: report.p50Ns / 1e3,
          p99Us: report.p99Ns / 1e3,
          serverCpuUs: serverCpuUs / report.calls,
          clientCpuUs: report.cpuUs / report.calls,
          wrong,
        },
        failures: wrong > 0 ? [`${wrong} answers were not a + b`] : [],
      };
    }),
};
