/**
 * Curve: latency of calls while a heavy fan-out runs on the same server (isolation). One server;
 * 1,000 subscribers of one stream in 2 client processes (127.0.0.2 and .3); one more client
 * process makes sequential calls (one in flight, each timed) on its own connection. At each point
 * the server emits at a set rate (one event per turn, each at its time) for a few seconds while
 * the calls run; the last point emits as fast as it can (paced, one event per turn). The first
 * point has no fan-out at all: the calls' own latency.
 *
 * Raw ws and Socket.IO broadcast to every connection, so the caller's connection gets the events
 * too (and ignores them), as their users' broadcasts would; wirecall and tRPC send them only to
 * subscribers.
 *
 * Points are charted in order, named by their offered rate; the table also gives the delivered
 * events/s the fan-out achieved (deliveries / (last delivery - first emit));
 * the calls' p50 and p99 are over the calls made during that round. On 2 cores the subscriber
 * processes compete with the server for CPU, as they would not in production: the curve says how
 * much a fan-out delays calls on a busy machine, for each library alike.
 */
import { HOST, sleep, withChildren } from '../harness.js';
import type { ArrivesAs } from '../peers/payloads.js';
import type { BenchClient, Payload, PeerName } from '../peers/types.js';
import { awaitSubscribers, connectSubscribers, fanoutRound } from '../scenarios/c-fanout.js';
import { isAnswer, JOB_TIMEOUT_MS, operands } from '../scenarios/types.js';
import { percentile } from '../stats.js';
import { formatCount, type Curve, type CurveEnv, type CurvePoint, type CurveRun } from './types.js';

export interface CallLoopReport {
  calls: number;
  seconds: number;
  p50Ns: number;
  p99Ns: number;
  maxNs: number;
  wrong: number;
}

/** Client side: sequential calls, each timed, from `start` until `stop`. */
export class CallLoop {
  #running: Promise<CallLoopReport> | undefined;
  #stopping = false;

  start(client: BenchClient, context: { payload: Payload; arrivesAs: ArrivesAs }): void {
    if (this.#running !== undefined) throw new Error('the calls are already running');
    this.#stopping = false;
    this.#running = this.#loop(client, context);
    // A failure surfaces from stop(); until then it must not count as unhandled.
    this.#running.catch(() => {});
  }

  async stop(): Promise<CallLoopReport> {
    if (this.#running === undefined) throw new Error('no calls running');
    this.#stopping = true;
    try {
      return await this.#running;
    } finally {
      this.#running = undefined;
    }
  }

  async #loop(client: BenchClient, { payload, arrivesAs }: { payload: Payload; arrivesAs: ArrivesAs }) {
    const latencies: number[] = [];
    let wrong = 0;
    const start = process.hrtime.bigint();
    for (let i = 0; !this.#stopping; i++) {
      const input = operands(i, payload);
      const before = process.hrtime.bigint();
      const result = await client.add(input);
      latencies.push(Number(process.hrtime.bigint() - before));
      if (!isAnswer(result, i, arrivesAs)) wrong++;
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const sorted = Float64Array.from(latencies).sort();
    return {
      calls: sorted.length,
      seconds,
      p50Ns: percentile(sorted, 50),
      p99Ns: percentile(sorted, 99),
      maxNs: sorted.at(-1) ?? Number.NaN,
      wrong,
    };
  }
}

const SUBSCRIBERS = 1_000;
/** Emitted events/s at each point (× 1,000 subscribers = deliveries/s); `max`: as fast as one per turn. */
const RATES: readonly (number | 'max')[] = [0, 10, 25, 50, 100, 'max'];

const windowSeconds = (quick: boolean) => (quick ? 1.5 : 3);
/** The last point's events: enough for a few seconds of raw ws at its paced rate on 2 cores. */
const maxEvents = (quick: boolean) => (quick ? 200 : 500);

const rateLabel = (rate: number | 'max') =>
  rate === 'max' ? 'max (paced)' : rate === 0 ? 'none' : `${formatCount(rate * SUBSCRIBERS)}/s`;

async function run(peer: PeerName, env: CurveEnv): Promise<CurveRun> {
  return withChildren(env.harness, 'curve-isolation', async (start) => {
    const [server, caller, ...subscriberProcesses] = await Promise.all([
      start({ role: 'server', peer }),
      start({ role: 'clients', peer }),
      start({ role: 'clients', peer }),
      start({ role: 'clients', peer }),
    ]);
    const { payload } = env;
    const { url } = await server.call<{ url: string }>('listen', { host: HOST, payload }, JOB_TIMEOUT_MS);
    await caller.call('connect', { urls: [url], count: 1, offset: 0, concurrency: 1, payload }, JOB_TIMEOUT_MS);
    await connectSubscribers(subscriberProcesses, [url], { clients: SUBSCRIBERS, payload });
    await awaitSubscribers([server], SUBSCRIBERS + (peer === 'raw' || peer === 'socketio' ? 1 : 0));
    const points: CurvePoint[] = [];
    const failures: string[] = [];
    // Warm-up: calls alone, then calls during a short fan-out.
    await caller.call('startCalls', {}, JOB_TIMEOUT_MS);
    await sleep(300);
    await caller.call('stopCalls', {}, JOB_TIMEOUT_MS);
    let seq = 0;
    await caller.call('startCalls', {}, JOB_TIMEOUT_MS);
    const warm = await fanoutRound([server], subscriberProcesses, { base: seq, count: 50, batch: 1, payload });
    seq += 50;
    await caller.call('stopCalls', {}, JOB_TIMEOUT_MS);
    failures.push(...warm.failures.map((failure) => `warm-up: ${failure}`));
    for (const rate of RATES) {
      await caller.call('startCalls', {}, JOB_TIMEOUT_MS);
      let deliveriesPerSec = 0;
      if (rate === 0) {
        await sleep(windowSeconds(env.quick) * 1e3);
      } else {
        const count = rate === 'max' ? maxEvents(env.quick) : Math.round(rate * windowSeconds(env.quick));
        const round = await fanoutRound([server], subscriberProcesses, {
          base: seq,
          count,
          batch: 1,
          payload,
          ...(rate === 'max' ? {} : { ratePerSec: rate }),
        });
        seq += count;
        deliveriesPerSec = round.metrics.eventsPerSec ?? Number.NaN;
        failures.push(...round.failures.map((failure) => `${rateLabel(rate)}: ${failure}`));
      }
      const calls = await caller.call<CallLoopReport>('stopCalls', {}, JOB_TIMEOUT_MS);
      if (calls.wrong > 0) failures.push(`${rateLabel(rate)}: ${calls.wrong} wrong answers`);
      points.push({
        x: deliveriesPerSec,
        label: rateLabel(rate),
        metrics: {
          deliveriesPerSec,
          p50Us: calls.p50Ns / 1e3,
          p99Us: calls.p99Ns / 1e3,
          maxUs: calls.maxNs / 1e3,
          calls: calls.calls,
        },
      });
    }
    return { points, failures };
  });
}

export const isolationCurve: Curve = {
  id: 'isolation',
  title: 'isolation: call latency while a fan-out runs on the same server',
  xLabel: 'fan-out on the same server (1,000 subscribers)',
  xLog: false,
  categorical: true,
  formatX: formatCount,
  peers: ['raw', 'socketio', 'wirecall'],
  metrics: [
    { key: 'p99Us', label: 'p99 call latency', unit: 'µs', better: 'lower', digits: 0, chart: true, logY: true },
    { key: 'p50Us', label: 'p50 call latency', unit: 'µs', better: 'lower', digits: 0, chart: true, logY: true },
    { key: 'maxUs', label: 'slowest call', unit: 'µs', better: 'lower', digits: 0 },
    { key: 'deliveriesPerSec', label: 'fan-out delivered events/s', unit: 'events/s', better: 'higher', digits: 0 },
    { key: 'calls', label: 'calls made', unit: 'calls', better: 'higher', digits: 0 },
  ],
  describe: (quick) =>
    `one server; ${formatCount(SUBSCRIBERS)} subscribers in 2 client processes; a third process makes ` +
    `sequential calls (1 in flight) during each round; rounds of ${windowSeconds(quick)} s at ` +
    `${RATES.filter((rate) => rate !== 'max')
      .map((rate) => formatCount(rate))
      .join(', ')} events/s, then ${maxEvents(quick)} events as fast as paced (one per turn)`,
  run,
};
