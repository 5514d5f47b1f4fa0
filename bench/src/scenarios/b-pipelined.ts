/**
 * B: pipelined calls on one connection: 64 callers each await their call and start the next, so
 * 64 calls are in flight at all times. Reports calls/s, and the CPU time per call of the server
 * process and of the client process.
 */
import { HOST, withChildren } from '../harness.js';
import { PEER_NAMES, type BenchClient } from '../peers/types.js';
import { cpuMicros, JOB_TIMEOUT_MS, operands, type Scenario } from './types.js';

export interface PipelinedArgs {
  calls: number;
  inFlight: number;
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
}

/** `count` calls, `inFlight` at a time; returns how many answers were wrong. */
async function pipeline(client: BenchClient, count: number, inFlight: number): Promise<number> {
  let next = 0;
  let wrong = 0;
  const caller = async (): Promise<void> => {
    while (next < count) {
      const input = operands(next++);
      if ((await client.add(input)) !== input.a + input.b) wrong++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, caller));
  return wrong;
}

/** Client side: `calls` calls, `inFlight` at a time, timed as a whole. */
export async function runPipelined(client: BenchClient, { calls, inFlight }: PipelinedArgs): Promise<PipelinedReport> {
  const cpuStart = cpuMicros();
  const start = process.hrtime.bigint();
  const wrong = await pipeline(client, calls, inFlight);
  const end = process.hrtime.bigint();
  return {
    calls,
    seconds: Number(end - start) / 1e9,
    wrong,
    cpuUs: cpuMicros() - cpuStart,
    startNs: start,
    endNs: end,
  };
}

const sizes = (quick: boolean): PipelinedArgs & { warmup: number } =>
  quick ? { warmup: 2_000, calls: 20_000, inFlight: 64 } : { warmup: 5_000, calls: 100_000, inFlight: 64 };

export const scenarioB: Scenario = {
  id: 'B',
  title: 'pipelined calls, 64 in flight, one connection',
  peers: PEER_NAMES,
  metrics: [
    {
      key: 'callsPerSec',
      label: 'B calls/s',
      unit: 'calls/s',
      better: 'higher',
      digits: 0,
      ratio: true,
      target: { op: '>=', value: 0.9 },
    },
    { key: 'serverCpuUs', label: 'B server CPU per call', unit: 'µs', better: 'lower', digits: 1, ratio: true },
    { key: 'clientCpuUs', label: 'B client CPU per call', unit: 'µs', better: 'lower', digits: 1, ratio: true },
    { key: 'wrong', label: 'B wrong answers', unit: 'calls', better: 'lower', digits: 0, aggregate: 'sum' },
  ],
  sizes,
  run: (peer, env) =>
    withChildren(env.harness, 'B', async (start) => {
      const [server, clients] = await Promise.all([start({ role: 'server', peer }), start({ role: 'clients', peer })]);
      const { url } = await server.call<{ url: string }>('listen', { host: HOST }, JOB_TIMEOUT_MS);
      await clients.call('connect', { urls: [url], count: 1, offset: 0, concurrency: 1 }, JOB_TIMEOUT_MS);
      const { warmup: warmupCalls, calls, inFlight } = sizes(env.quick);
      const warmup = await clients.call<PipelinedReport>('pipelined', { calls: warmupCalls, inFlight }, JOB_TIMEOUT_MS);
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
        },
        failures: wrong > 0 ? [`${wrong} answers were not a + b`] : [],
      };
    }),
};
