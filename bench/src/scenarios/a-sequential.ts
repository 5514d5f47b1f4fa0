/**
 * A: sequential calls on one connection, one in flight: each call's round trip is timed with
 * `process.hrtime.bigint()` after a warm-up. Reports calls/s, the p50 / p99 latency, and the CPU
 * time each call costs the server process and the client process (user + system, so the socket
 * writes count too): a figure that scheduling noise hardly moves. One line per payload: `add({ a,
 * b, at })` answering `{ sum, at }`, `at` a Date or a number.
 */
import { HOST, withChildren } from '../harness.js';
import { PAYLOAD_LABELS, PEER_NAMES, type BenchClient, type Payload } from '../peers/types.js';
import { percentile } from '../stats.js';
import { isAnswer, JOB_TIMEOUT_MS, operands, profileWindow, type CallArgs, type Scenario } from './types.js';

export interface SequentialArgs extends CallArgs {
  /** Warm-ups: keep calling past `calls` until this many milliseconds have passed. */
  minMs?: number;
}

export interface SequentialReport {
  calls: number;
  seconds: number;
  p50Ns: number;
  p99Ns: number;
  /** Answers that were not a + b with the instant sent. */
  wrong: number;
  /** CPU time of the client process during the calls, in microseconds. */
  cpuUs: number;
  /** Of which system (kernel) time. */
  systemUs: number;
  /** When the calls began and ended (`process.hrtime.bigint()`): the window of a CPU profile's measured part. */
  startNs: bigint;
  endNs: bigint;
}

/** Client side: `calls` timed calls, one after the other. */
export async function runSequential(
  client: BenchClient,
  { calls, payload, arrivesAs, minMs = 0 }: SequentialArgs,
): Promise<SequentialReport> {
  let wrong = 0;
  const latencies = new Float64Array(calls);
  const cpuStart = process.cpuUsage();
  const start = process.hrtime.bigint();
  const deadline = performance.now() + minMs;
  let i = 0;
  for (; i < calls || performance.now() < deadline; i++) {
    const input = operands(i, payload);
    const before = process.hrtime.bigint();
    const result = await client.add(input);
    if (i < calls) latencies[i] = Number(process.hrtime.bigint() - before);
    if (!isAnswer(result, i, arrivesAs)) wrong++;
  }
  const end = process.hrtime.bigint();
  const elapsedNs = Number(end - start);
  const { user, system } = process.cpuUsage(cpuStart);
  latencies.sort();
  return {
    calls: i,
    seconds: elapsedNs / 1e9,
    p50Ns: percentile(latencies, 50),
    p99Ns: percentile(latencies, 99),
    wrong,
    cpuUs: user + system,
    systemUs: system,
    startNs: start,
    endNs: end,
  };
}

const sizes = (quick: boolean): { warmup: number; warmupMs: number; calls: number } =>
  quick ? { warmup: 300, warmupMs: 300, calls: 2_000 } : { warmup: 1_000, warmupMs: 1_500, calls: 5_000 };

/** A with one payload; the targets go on the Date line (the values users send), numbers is for comparison. */
export function scenarioA(payload: Payload): Scenario {
  const line = PAYLOAD_LABELS[payload];
  const targets = payload === 'date';
  return {
    id: 'A',
    line,
    payload,
    title: `sequential calls, 1 in flight, one connection; at: ${line}`,
    peers: PEER_NAMES,
    metrics: [
      { key: 'callsPerSec', label: `A calls/s, ${line}`, unit: 'calls/s', better: 'higher', digits: 0, ratio: true },
      {
        key: 'p50Us',
        label: `A p50 latency, ${line}`,
        unit: 'µs',
        better: 'lower',
        digits: 1,
        ratio: true,
        ...(targets ? { target: { op: '<=', value: 1.1 } } : { chart: true }),
      },
      { key: 'p99Us', label: `A p99 latency, ${line}`, unit: 'µs', better: 'lower', digits: 1, ratio: true },
      {
        key: 'serverCpuUs',
        label: `A server CPU per call, ${line}`,
        unit: 'µs',
        better: 'lower',
        digits: 1,
        ratio: true,
      },
      {
        key: 'clientCpuUs',
        label: `A client CPU per call, ${line}`,
        unit: 'µs',
        better: 'lower',
        digits: 1,
        ratio: true,
      },
      { key: 'wrong', label: `A wrong answers, ${line}`, unit: 'calls', better: 'lower', digits: 0, aggregate: 'sum' },
    ],
    sizes,
    run: (peer, env) =>
      withChildren(env.harness, 'A', async (start) => {
        const [server, clients] = await Promise.all([
          start({ role: 'server', peer }),
          start({ role: 'clients', peer }),
        ]);
        const { url } = await server.call<{ url: string }>('listen', { host: HOST, payload }, JOB_TIMEOUT_MS);
        await clients.call('connect', { urls: [url], count: 1, offset: 0, concurrency: 1, payload }, JOB_TIMEOUT_MS);
        const size = sizes(env.quick);
        // At least warmupMs: V8 is still compiling the call path after a few hundred calls, and would
        // compile on the other core during the measured part (profiles showed a quarter of the CPU).
        const warmup = await clients.call<SequentialReport>(
          'sequential',
          { calls: size.warmup, minMs: size.warmupMs },
          JOB_TIMEOUT_MS,
        );
        const serverCpuStart = await server.call<NodeJS.CpuUsage>('cpuUsage', {}, JOB_TIMEOUT_MS);
        const report = await clients.call<SequentialReport>('sequential', { calls: size.calls }, JOB_TIMEOUT_MS);
        const serverCpu = await server.call<NodeJS.CpuUsage>('cpuUsage', {}, JOB_TIMEOUT_MS);
        const serverSystemUs = serverCpu.system - serverCpuStart.system;
        const serverCpuUs = serverCpu.user - serverCpuStart.user + serverSystemUs;
        const wrong = warmup.wrong + report.wrong;
        return {
          metrics: {
            callsPerSec: report.calls / report.seconds,
            p50Us: report.p50Ns / 1e3,
            p99Us: report.p99Ns / 1e3,
            serverCpuUs: serverCpuUs / report.calls,
            clientCpuUs: report.cpuUs / report.calls,
            // In the JSON only: the kernel accounts user and system time by its tick, too coarse for A's
            // short runs to read per call (C's, longer, show theirs).
            serverSystemUs: serverSystemUs / report.calls,
            clientSystemUs: report.systemUs / report.calls,
            wrong,
            ...profileWindow(report.startNs, report.endNs),
          },
          failures: wrong > 0 ? [`${wrong} answers were not a + b with the instant sent`] : [],
        };
      }),
  };
}
