/**
 * Curve: call rate and latency as calls in flight on one connection grow from 1 to 1,024 (B's
 * pipeline with 1 to 1,024 callers, every call timed). One server and one client process per peer,
 * warmed up once, then each point in turn on the same connection.
 *
 * wirecall keeps its default `limits.maxInFlightCalls` (128): past it, the server's welcome tells
 * the client to hold the rest, so from 256 up calls wait in the client (their latency counts it).
 */
import { HOST, withChildren } from '../harness.js';
import { WEBSOCKET_PEERS } from '../peers/types.js';
import type { PipelinedReport } from '../scenarios/b-pipelined.js';
import { JOB_TIMEOUT_MS } from '../scenarios/types.js';
import type { Curve, CurvePoint } from './types.js';

const POINTS = [1, 4, 16, 64, 256, 1_024];

/** Calls per point: enough for a p99 (3,000 at least), ~40 per caller at high counts. */
const callsAt = (inFlight: number, quick: boolean): number =>
  Math.min(quick ? 20_000 : 40_000, Math.max(quick ? 2_000 : 3_000, inFlight * (quick ? 20 : 40)));

export const inFlightCurve: Curve = {
  id: 'in-flight',
  title: 'calls in flight on one connection: rate and latency',
  xLabel: 'calls in flight (one connection)',
  xLog: true,
  formatX: (x) => x.toLocaleString('en-US'),
  peers: WEBSOCKET_PEERS,
  metrics: [
    { key: 'callsPerSec', label: 'calls/s', unit: 'calls/s', better: 'higher', digits: 0, chart: true },
    { key: 'p99Us', label: 'p99 latency', unit: 'µs', better: 'lower', digits: 0, chart: true, logY: true },
    { key: 'p50Us', label: 'p50 latency', unit: 'µs', better: 'lower', digits: 0 },
    { key: 'serverCpuUs', label: 'server CPU per call', unit: 'µs', better: 'lower', digits: 1 },
    { key: 'clientCpuUs', label: 'client CPU per call', unit: 'µs', better: 'lower', digits: 1 },
  ],
  describe: (quick) =>
    `one connection; N callers each awaiting its call before the next (N = ${POINTS.join(', ')}); ` +
    `${callsAt(1, quick).toLocaleString('en-US')} to ${callsAt(1_024, quick).toLocaleString('en-US')} calls per point ` +
    `after 2,000 untimed at 64 in flight (1 s at least); every call timed`,
  run: (peer, env) =>
    withChildren(env.harness, 'curve-in-flight', async (start) => {
      const [server, clients] = await Promise.all([start({ role: 'server', peer }), start({ role: 'clients', peer })]);
      const { payload } = env;
      const { url } = await server.call<{ url: string }>('listen', { host: HOST, payload }, JOB_TIMEOUT_MS);
      await clients.call('connect', { urls: [url], count: 1, offset: 0, concurrency: 1, payload }, JOB_TIMEOUT_MS);
      const warm = await clients.call<PipelinedReport>(
        'pipelined',
        { calls: 2_000, inFlight: 64, minMs: 1_000 },
        JOB_TIMEOUT_MS,
      );
      const failures = warm.wrong > 0 ? [`warm-up: ${warm.wrong} wrong answers`] : [];
      const points: CurvePoint[] = [];
      for (const inFlight of POINTS) {
        const calls = callsAt(inFlight, env.quick);
        const serverCpuStart = await server.call<number>('cpu', {}, JOB_TIMEOUT_MS);
        const report = await clients.call<PipelinedReport>(
          'pipelined',
          { calls, inFlight, latencies: true },
          JOB_TIMEOUT_MS,
        );
        const serverCpuUs = (await server.call<number>('cpu', {}, JOB_TIMEOUT_MS)) - serverCpuStart;
        if (report.wrong > 0) failures.push(`${inFlight} in flight: ${report.wrong} wrong answers`);
        points.push({
          x: inFlight,
          metrics: {
            callsPerSec: calls / report.seconds,
            p50Us: (report.p50Ns ?? Number.NaN) / 1e3,
            p99Us: (report.p99Ns ?? Number.NaN) / 1e3,
            serverCpuUs: serverCpuUs / calls,
            clientCpuUs: report.cpuUs / calls,
          },
        });
      }
      return { points, failures };
    }),
};
