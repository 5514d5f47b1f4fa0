/**
 * Curve: throughput as the payload grows from 100 B to 256 KiB. Calls `blob({ size, at })` whose
 * result `{ at, text }` carries `size` bytes of text (server to client, the direction of query
 * results and pushed data), 16 in flight on one connection: MB/s of payload and calls/s.
 *
 * 16, not B's 64, in flight: 64 results of 256 KiB would queue 16 MiB in the server's send buffer,
 * past wirecall's default `limits.maxBufferedBytes` (8 MiB), which closes a slow consumer.
 */
import { HOST, withChildren } from '../harness.js';
import { EPOCH_MS, instantOf, isInstant, type ArrivesAs } from '../peers/payloads.js';
import { WEBSOCKET_PEERS, type BenchClient, type Payload } from '../peers/types.js';
import { cpuMicros, JOB_TIMEOUT_MS } from '../scenarios/types.js';
import { formatBytes, type Curve, type CurvePoint } from './types.js';

export interface BlobsArgs {
  calls: number;
  /** Warm-ups: keep calling past `calls` until this many milliseconds have passed. */
  minMs?: number;
  inFlight: number;
  size: number;
  payload: Payload;
  arrivesAs: ArrivesAs;
}

export interface BlobsReport {
  calls: number;
  seconds: number;
  wrong: number;
  cpuUs: number;
}

/** Client side: `calls` blob calls, `inFlight` at a time; each result's length and instant checked. */
export async function runBlobs(client: BenchClient, args: BlobsArgs): Promise<BlobsReport> {
  const { calls, inFlight, size, payload, arrivesAs, minMs = 0 } = args;
  const deadline = performance.now() + minMs;
  let next = 0;
  let wrong = 0;
  const caller = async (): Promise<void> => {
    while (next < calls || performance.now() < deadline) {
      const i = next++;
      const result = await client.blob({ size, at: instantOf(payload, i) });
      if (result?.text?.length !== size || !isInstant(result.at, EPOCH_MS + i, arrivesAs)) wrong++;
    }
  };
  const cpuStart = cpuMicros();
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: inFlight }, caller));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { calls: next, seconds, wrong, cpuUs: cpuMicros() - cpuStart };
}

const POINTS = [100, 1_024, 4_096, 16_384, 65_536, 262_144];
const IN_FLIGHT = 16;

/** Calls per point: 32 MB of payload (16 with --quick), between 200 and 20,000 calls. */
const callsAt = (size: number, quick: boolean): number =>
  Math.min(quick ? 10_000 : 20_000, Math.max(200, Math.round((quick ? 16e6 : 32e6) / size)));

export const payloadCurve: Curve = {
  id: 'payload',
  title: 'payload size: throughput of calls whose results carry N bytes',
  xLabel: 'payload per result (bytes of text)',
  xLog: true,
  formatX: formatBytes,
  peers: WEBSOCKET_PEERS,
  metrics: [
    { key: 'mbPerSec', label: 'payload MB/s', unit: 'MB/s', better: 'higher', digits: 1, chart: true, logY: true },
    { key: 'callsPerSec', label: 'calls/s', unit: 'calls/s', better: 'higher', digits: 0, chart: true, logY: true },
    { key: 'serverCpuUs', label: 'server CPU per call', unit: 'µs', better: 'lower', digits: 1 },
    { key: 'clientCpuUs', label: 'client CPU per call', unit: 'µs', better: 'lower', digits: 1 },
  ],
  describe: (quick) =>
    `one connection, ${IN_FLIGHT} calls in flight; results of ${POINTS.map(formatBytes).join(', ')} ` +
    `(${callsAt(POINTS.at(-1)!, quick)} to ${callsAt(POINTS[0]!, quick).toLocaleString('en-US')} calls per point, ` +
    `~${quick ? 16 : 32} MB each) after 1,000 untimed calls of 1 KiB (1 s at least)`,
  run: (peer, env) =>
    withChildren(env.harness, 'curve-payload', async (start) => {
      const [server, clients] = await Promise.all([start({ role: 'server', peer }), start({ role: 'clients', peer })]);
      const { payload } = env;
      const { url } = await server.call<{ url: string }>('listen', { host: HOST, payload }, JOB_TIMEOUT_MS);
      await clients.call('connect', { urls: [url], count: 1, offset: 0, concurrency: 1, payload }, JOB_TIMEOUT_MS);
      const warm = await clients.call<BlobsReport>(
        'blobs',
        { calls: 1_000, inFlight: IN_FLIGHT, size: 1_024, minMs: 1_000 },
        JOB_TIMEOUT_MS,
      );
      const failures = warm.wrong > 0 ? [`warm-up: ${warm.wrong} wrong results`] : [];
      const points: CurvePoint[] = [];
      for (const size of POINTS) {
        const calls = callsAt(size, env.quick);
        const serverCpuStart = await server.call<number>('cpu', {}, JOB_TIMEOUT_MS);
        const report = await clients.call<BlobsReport>('blobs', { calls, inFlight: IN_FLIGHT, size }, JOB_TIMEOUT_MS);
        const serverCpuUs = (await server.call<number>('cpu', {}, JOB_TIMEOUT_MS)) - serverCpuStart;
        if (report.wrong > 0) failures.push(`${formatBytes(size)}: ${report.wrong} wrong results`);
        points.push({
          x: size,
          metrics: {
            mbPerSec: (calls * size) / report.seconds / 1e6,
            callsPerSec: calls / report.seconds,
            serverCpuUs: serverCpuUs / calls,
            clientCpuUs: report.cpuUs / calls,
          },
        });
      }
      return { points, failures };
    }),
};
