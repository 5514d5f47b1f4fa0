/**
 * B: pipelined calls on one connection: 64 callers each await their call and start the next, so
 * 64 calls are in flight at all times. Reports calls/s, and the CPU time per call of the server
 * process and of the client process. One line per payload, as A.
 *
 * The in-flight curve (curves/in-flight.ts) runs the same pipeline with 1 to 1,024 callers and
 * times every call (`latencies`), for its p99.
 */
import { HOST, withChildren } from '../harness.js';
import { PAYLOAD_LABELS, PEER_NAMES, type BenchClient, type Payload } from '../peers/types.js';
import { percentile } from '../stats.js';
import { cpuMicros, isAnswer, JOB_TIMEOUT_MS, operands, profileWindow, type CallArgs, type Scenario } from './types.js';

export interface PipelinedArgs extends CallArgs {
  inFlight: number;
  /** Time every call (two clock readings per call), for the p50 and p99 of the report. */
  latencies?: boolean;
  /** Warm-ups: keep calling past `calls` until this many milliseconds have passed. */
  minMs?: number;
}

export interface PipelinedReport {
  calls: number;
  seconds: number;
  wrong: number;
  /** CPU time of the client process during the calls, in microseconds. */
  cpuUs: number;
  /** When the calls began and ended (`process.hrtime.bigint()`, comparable across processes). */
  startNs: bigint;
  endNs: bigint;
  /** With `latencies`: the p50 and p99 of the calls' round trips, in nanoseconds. */
  p50Ns?: number;
  p99Ns?: number;
}

/** `args.calls` calls (or more, until `args.minMs`), `args.inFlight` at a time; returns how many, and how many answers were wrong. */
async function pipeline(client: BenchClient, args: PipelinedArgs, latencies: Float64Array | undefined) {
  const { calls, inFlight, payload, arrivesAs, minMs = 0 } = args;
  const deadline = performance.now() + minMs;
  let next = 0;
  let wrong = 0;
  const caller = async (): Promise<void> => {
    while (next < calls || performance.now() < deadline) {
      const i = next++;
      const input = operands(i, payload);
      if (latencies === undefined) {
        if (!isAnswer(await client.add(input), i, arrivesAs)) wrong++;
        continue;
      }
      const before = process.hrtime.bigint();
      const result = await client.add(input);
      if (i < calls) latencies[i] = Number(process.hrtime.bigint() - before);
      if (!isAnswer(result, i, arrivesAs)) wrong++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, caller));
  return { wrong, calls: next };
}

/** Client side: `calls` calls, `inFlight` at a time, timed as a whole. */
export async function runPipelined(client: BenchClient, args: PipelinedArgs): Promise<PipelinedReport> {
  const latencies = args.latencies ? new Float64Array(args.calls) : undefined;
  const cpuStart = cpuMicros();
  const start = process.hrtime.bigint();
  const { wrong, calls } = await pipeline(client, args, latencies);
  const end = process.hrtime.bigint();
  const report: PipelinedReport = {
    calls,
    seconds: Number(end - start) / 1e9,
    wrong,
    cpuUs: cpuMicros() - cpuStart,
    startNs: start,
    endNs: end,
  };
  if (latencies !== undefined) {
    latencies.sort();
    report.p50Ns = percentile(latencies, 50);
    report.p99Ns = percentile(latencies, 99);
  }
  return report;
}

interface PipelinedSizes {
  warmup: number;
  /** The warm-up lasts at least this long (see A). */
  warmupMs: number;
  calls: number;
  inFlight: number;
}

const sizes = (quick: boolean): PipelinedSizes =>
  quick
    ? { warmup: 2_000, warmupMs: 300, calls: 20_000, inFlight: 64 }
    : { warmup: 5_000, warmupMs: 1_500, calls: 100_000, inFlight: 64 };

/** B with one payload; the target (≥ 1.1 of raw ws, and above every other peer) goes on the Date line. */
export function scenarioB(payload: Payload): Scenario {
  const line = PAYLOAD_LABELS[payload];
  return {
    id: 'B',
    line,
    payload,
    title: `pipelined calls, 64 in flight, one connection; at: ${line}`,
    peers: PEER_NAMES,
    metrics: [
      {
        key: 'callsPerSec',
        label: `B calls/s, ${line}`,
        unit: 'calls/s',
        better: 'higher',
        digits: 0,
        ratio: true,
        ...(payload === 'date' ? { target: { op: '>=', value: 1.1, beatPeers: true } } : { chart: true }),
      },
      {
        key: 'serverCpuUs',
        label: `B server CPU per call, ${line}`,
        unit: 'µs',
        better: 'lower',
        digits: 1,
        ratio: true,
      },
      {
        key: 'clientCpuUs',
        label: `B client CPU per call, ${line}`,
        unit: 'µs',
        better: 'lower',
        digits: 1,
        ratio: true,
      },
      { key: 'wrong', label: `B wrong answers, ${line}`, unit: 'calls', better: 'lower', digits: 0, aggregate: 'sum' },
    ],
    sizes,
    run: (peer, env) =>
      withChildren(env.harness, 'B', async (start) => {
        const [server, clients] = await Promise.all([
          start({ role: 'server', peer }),
          start({ role: 'clients', peer }),
        ]);
        const { url } = await server.call<{ url: string }>('listen', { host: HOST, payload }, JOB_TIMEOUT_MS);
        await clients.call('connect', { urls: [url], count: 1, offset: 0, concurrency: 1, payload }, JOB_TIMEOUT_MS);
        const { warmup: warmupCalls, warmupMs, calls, inFlight } = sizes(env.quick);
        const warmup = await clients.call<PipelinedReport>(
          'pipelined',
          { calls: warmupCalls, inFlight, minMs: warmupMs },
          JOB_TIMEOUT_MS,
        );
        const serverCpuStart = await server.call<number>('cpu', {}, JOB_TIMEOUT_MS);
        const report = await clients.call<PipelinedReport>('pipelined', { calls, inFlight }, JOB_TIMEOUT_MS);
        const serverCpuUs = (await server.call<number>('cpu', {}, JOB_TIMEOUT_MS)) - serverCpuStart;
        const wrong = warmup.wrong + report.wrong;
        return {
          metrics: {
            callsPerSec: report.calls / report.seconds,
            serverCpuUs: serverCpuUs / report.calls,
            clientCpuUs: report.cpuUs / report.calls,
            wrong,
            ...profileWindow(report.startNs, report.endNs),
          },
          failures: wrong > 0 ? [`${wrong} answers were not a + b with the instant sent`] : [],
        };
      }),
  };
}
