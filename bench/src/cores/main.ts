/**
 * @module Cores: how fan-out and call throughput grow from 1 to 2 wirecall server processes on one
 * port (node:cluster, the in-machine broker: `setupPrimary()` here, `workerBroker()` in each worker).
 *
 *   npm run bench:cores -w bench                  1 then 2 processes, median of 3
 *   npm run bench:cores -w bench -- --quick       median of 1, smaller sizes
 *   npm run bench:cores -w bench -- --reps=5 --processes=1,2,4
 *
 * This process is the node:cluster primary: it runs the shared broker and forks the server workers
 * (the benchmark's usual child, `child.ts server wirecall`, with a `node-cluster` broker), which all
 * listen on one port; the primary hands each accepted connection to the next worker (SCHED_RR).
 * The client processes are the usual `child.ts clients wirecall`, started by the harness.
 *
 * - Fan-out: as scenario C (200 clients in 2 client processes, one `tick` stream), the first
 *   worker emits; every worker delivers to its own connections, the events going through the primary.
 * - Calls: as scenario B (64 calls in flight per connection), on 8 connections in 2 client processes
 *   at once (so that they spread over the workers); calls/s = all calls / (last end − first start).
 */
import { execFileSync } from 'node:child_process';
import cluster from 'node:cluster';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setupPrimary } from '@wirecall/server/node-cluster';
import { Remote } from '../capacity/remote.js';
import { BENCH_DIR, HOST, runMain, withChildren, type HarnessSettings } from '../harness.js';
import type { PipelinedReport } from '../scenarios/b-pipelined.js';
import { awaitSubscribers, connectSubscribers, fanoutRounds, type FanoutSizes } from '../scenarios/c-fanout.js';
import { JOB_TIMEOUT_MS } from '../scenarios/types.js';
import { median } from '../stats.js';

const CHILD_FILE = fileURLToPath(new URL('../child.ts', import.meta.url));
const RESULTS_DIR = join(BENCH_DIR, 'results');
const USAGE = 'usage: npm run bench:cores -w bench -- [--quick] [--reps=N] [--processes=1,2]';

interface Options {
  quick: boolean;
  reps: number;
  processes: number[];
}

function parseOptions(argv: readonly string[]): Options {
  const options: Options = { quick: false, reps: 0, processes: [1, 2] };
  for (const arg of argv) {
    const [flag, value] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg];
    if (flag === '--quick') options.quick = true;
    else if (flag === '--reps' && Number(value) >= 1) options.reps = Number(value);
    else if (flag === '--processes' && value) {
      options.processes = value.split(',').map(Number);
      if (options.processes.some((count) => !Number.isInteger(count) || count < 1)) throw new Error(USAGE);
    } else if (flag === '--help' || flag === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown argument ${arg}\n${USAGE}`);
  }
  options.reps ||= options.quick ? 1 : 3;
  return options;
}

const fanoutSizes = (quick: boolean): FanoutSizes =>
  quick
    ? { clients: 200, clientProcesses: 2, warmupEvents: 20, events: 200, batch: 10 }
    : { clients: 200, clientProcesses: 2, warmupEvents: 100, events: 1_000, batch: 10 };

/** Per connection: B's 64 in flight; 8 connections in 2 client processes. */
const callSizes = (quick: boolean) =>
  quick
    ? { clientProcesses: 2, connectionsPerProcess: 4, inFlight: 64, warmup: 500, calls: 5_000 }
    : { clientProcesses: 2, connectionsPerProcess: 4, inFlight: 64, warmup: 1_000, calls: 25_000 };

interface Measurement {
  eventsPerSec: number;
  /** CPU time per delivery of the workers (summed), and of the client processes, in µs. */
  fanoutServerCpuUs: number;
  fanoutClientCpuUs: number;
  callsPerSec: number;
  /** CPU time per call of the workers (summed), and of the client processes, in µs. */
  callServerCpuUs: number;
  callClientCpuUs: number;
  /** Connections each worker held in the calls phase (how evenly the primary spread them). */
  callConnections: number[];
  failures: string[];
}

/** Forks `count` workers (the benchmark's server child) on one port, behind this process's broker. */
async function startWorkers(count: number, timeoutMs: number): Promise<{ workers: Remote[]; url: string }> {
  const workers = Array.from({ length: count }, (_, index) => {
    const worker = cluster.fork({ BENCH_CHILD_TIMEOUT_MS: String(timeoutMs) });
    return new Remote(`cores worker ${index + 1}/${count}`, worker, 30_000);
  });
  await Promise.all(workers.map((worker) => worker.ready));
  const urls = await Promise.all(
    workers.map(
      async (worker) =>
        (await worker.call<{ url: string }>('listen', { host: HOST, broker: { kind: 'node-cluster' } }, JOB_TIMEOUT_MS))
          .url,
    ),
  );
  if (urls.some((url) => url !== urls[0])) throw new Error(`workers listen on different URLs: ${urls.join(', ')}`);
  return { workers, url: urls[0]! };
}

async function stopWorkers(workers: readonly Remote[]): Promise<void> {
  await Promise.all(
    workers.map(async (worker) => {
      await worker.call('close', {}, 5_000).catch(() => {});
      worker.disconnect();
      const timer = setTimeout(() => worker.kill(), 5_000);
      await worker.exited;
      clearTimeout(timer);
    }),
  );
}

async function measure(processes: number, quick: boolean, harness: HarnessSettings): Promise<Measurement> {
  const primary = setupPrimary();
  const { workers, url } = await startWorkers(processes, harness.childTimeoutMs);
  const failures: string[] = [];
  try {
    // Fan-out, as C.
    const fanout = await withChildren(harness, 'cores', async (start) => {
      const size = fanoutSizes(quick);
      const clients = await Promise.all(
        Array.from({ length: size.clientProcesses }, () => start({ role: 'clients', peer: 'wirecall' })),
      );
      await connectSubscribers(clients, [url], { clients: size.clients });
      await awaitSubscribers(workers, size.clients);
      return fanoutRounds(workers, clients, size);
    });
    failures.push(...fanout.failures.map((failure) => `fan-out: ${failure}`));

    // Pipelined calls, as B, on several connections at once.
    const calls = await withChildren(harness, 'cores', async (start) => {
      const size = callSizes(quick);
      const clients = await Promise.all(
        Array.from({ length: size.clientProcesses }, () => start({ role: 'clients', peer: 'wirecall' })),
      );
      await Promise.all(
        clients.map((child, index) =>
          child.call(
            'connect',
            {
              urls: [url],
              count: size.connectionsPerProcess,
              offset: index * size.connectionsPerProcess,
              concurrency: 4,
            },
            JOB_TIMEOUT_MS,
          ),
        ),
      );
      const connections = await Promise.all(
        workers.map(
          async (worker) => (await worker.call<{ connections: number }>('stats', {}, JOB_TIMEOUT_MS)).connections,
        ),
      );
      const run = async (count: number) =>
        (
          await Promise.all(
            clients.map((child) =>
              child.call<PipelinedReport[]>('pipelinedAll', { calls: count, inFlight: size.inFlight }, JOB_TIMEOUT_MS),
            ),
          )
        ).flat();
      const workersCpu = async () =>
        (await Promise.all(workers.map((worker) => worker.call<number>('cpu', {}, JOB_TIMEOUT_MS)))).reduce(
          (sum, cpu) => sum + cpu,
          0,
        );
      await run(size.warmup);
      const cpuBefore = await workersCpu();
      const reports = await run(size.calls);
      const serverCpuUs = (await workersCpu()) - cpuBefore;
      const first = reports.reduce((min, report) => (report.startNs < min ? report.startNs : min), reports[0]!.startNs);
      const last = reports.reduce((max, report) => (report.endNs > max ? report.endNs : max), reports[0]!.endNs);
      const total = reports.reduce((sum, report) => sum + report.calls, 0);
      const wrong = reports.reduce((sum, report) => sum + report.wrong, 0);
      const clientCpuUs = reports.reduce((sum, report) => sum + report.cpuUs, 0);
      return {
        callsPerSec: total / (Number(last - first) / 1e9),
        serverCpuUs: serverCpuUs / total,
        clientCpuUs: clientCpuUs / total,
        connections,
        wrong,
      };
    });
    if (calls.wrong > 0) failures.push(`calls: ${calls.wrong} wrong answers`);
    return {
      eventsPerSec: fanout.metrics.eventsPerSec ?? Number.NaN,
      fanoutServerCpuUs: fanout.metrics.serverCpuUs ?? Number.NaN,
      fanoutClientCpuUs: fanout.metrics.clientCpuUs ?? Number.NaN,
      callsPerSec: calls.callsPerSec,
      callServerCpuUs: calls.serverCpuUs,
      callClientCpuUs: calls.clientCpuUs,
      callConnections: calls.connections,
      failures,
    };
  } finally {
    await stopWorkers(workers);
    primary.stop();
  }
}

function format(value: number, digits = 0): string {
  return Number.isFinite(value)
    ? value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : 'n/a';
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const startedAt = new Date();
  const cpus = os.cpus();
  const revision = execFileSync('git', ['describe', '--always', '--dirty'], {
    cwd: BENCH_DIR,
    encoding: 'utf8',
  }).trim();
  console.log(
    `wirecall cores: ${options.quick ? 'quick' : 'full'} run, median of ${options.reps}, ${startedAt.toISOString()}`,
  );
  console.log(
    `wirecall ${revision} · node ${process.version} · ${cpus[0]?.model.trim()} · ${cpus.length} cores · load average ${os
      .loadavg()
      .map((load) => load.toFixed(2))
      .join(' ')}`,
  );
  const harness: HarnessSettings = { childTimeoutMs: options.quick ? 120_000 : 300_000 };
  cluster.schedulingPolicy = cluster.SCHED_RR;
  cluster.setupPrimary({
    exec: CHILD_FILE,
    args: ['server', 'wirecall'],
    execArgv: process.execArgv,
    serialization: 'advanced',
  });

  const runs = new Map<number, Measurement[]>(options.processes.map((count) => [count, []]));
  for (let rep = 1; rep <= options.reps; rep++) {
    for (const processes of options.processes) {
      const began = Date.now();
      let result: Measurement;
      try {
        result = await measure(processes, options.quick, harness);
      } catch (error) {
        result = {
          eventsPerSec: Number.NaN,
          fanoutServerCpuUs: Number.NaN,
          fanoutClientCpuUs: Number.NaN,
          callsPerSec: Number.NaN,
          callServerCpuUs: Number.NaN,
          callClientCpuUs: Number.NaN,
          callConnections: [],
          failures: [`run failed: ${error instanceof Error ? error.message : String(error)}`],
        };
      }
      runs.get(processes)!.push(result);
      console.log(
        `  ${rep}/${options.reps}  ${processes} process(es)  fan-out ${format(result.eventsPerSec)} events/s (server / client CPU ${format(result.fanoutServerCpuUs, 2)} / ${format(result.fanoutClientCpuUs, 2)} µs)  calls ${format(result.callsPerSec)} calls/s (${format(result.callServerCpuUs, 2)} / ${format(result.callClientCpuUs, 2)} µs)  (connections per worker ${result.callConnections.join(' / ')}; ${((Date.now() - began) / 1e3).toFixed(1)} s)${result.failures.length > 0 ? `  FAILED: ${result.failures.join('; ')}` : ''}`,
      );
    }
  }

  const summary = options.processes.map((processes) => {
    const results = runs.get(processes)!;
    const med = (key: keyof Omit<Measurement, 'failures' | 'callConnections'>) =>
      median(results.map((result) => result[key]).filter(Number.isFinite));
    return {
      processes,
      eventsPerSec: med('eventsPerSec'),
      fanoutServerCpuUs: med('fanoutServerCpuUs'),
      fanoutClientCpuUs: med('fanoutClientCpuUs'),
      callsPerSec: med('callsPerSec'),
      callServerCpuUs: med('callServerCpuUs'),
      callClientCpuUs: med('callClientCpuUs'),
      failures: results.flatMap((result) => result.failures),
    };
  });
  const base = summary[0]!;
  console.log(`\nMedians (ratio against ${base.processes} process(es))\n`);
  console.log(
    'processes  fan-out events/s  ratio  server / client CPU per delivery (µs)  pipelined calls/s  ratio  server / client CPU per call (µs)',
  );
  for (const row of summary) {
    console.log(
      [
        String(row.processes).padStart(9),
        format(row.eventsPerSec).padStart(16),
        format(row.eventsPerSec / base.eventsPerSec, 2).padStart(5),
        `${format(row.fanoutServerCpuUs, 2)} / ${format(row.fanoutClientCpuUs, 2)}`.padStart(37),
        format(row.callsPerSec).padStart(17),
        format(row.callsPerSec / base.callsPerSec, 2).padStart(5),
        `${format(row.callServerCpuUs, 2)} / ${format(row.callClientCpuUs, 2)}`.padStart(33),
      ].join('  '),
    );
  }
  const failures = summary.flatMap((row) => row.failures.map((failure) => `${row.processes} process(es): ${failure}`));
  console.log(
    failures.length === 0 ? '\nChecks: every answer was a + b; every client got every event once.' : '\nFAILED:',
  );
  for (const failure of failures) console.log(`  ${failure}`);

  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `cores-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    `${JSON.stringify({ startedAt: startedAt.toISOString(), revision, node: process.version, cpu: cpus[0]?.model, cores: cpus.length, options, sizes: { fanout: fanoutSizes(options.quick), calls: callSizes(options.quick) }, summary, runs: Object.fromEntries(runs) }, null, 2)}\n`,
  );
  console.log(`\nwrote ${relative(process.cwd(), file)}`);
  return failures.length === 0 ? 0 : 1;
}

await runMain(main, () => {
  for (const worker of Object.values(cluster.workers ?? {})) worker?.kill('SIGKILL');
});
