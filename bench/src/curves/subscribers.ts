/**
 * Curve: what one delivered event costs as the subscribers of one event grow from 10 to 10,000.
 * One server; 4 client processes, each on its own loopback source address (127.0.0.2 to .5: one
 * process may hold 20,000 open files, and one source address has ~28,000 ports towards the
 * server). Subscribers are added point by point (10, then 20 more, ...), all on the one `tick`
 * stream; at each point the server emits paced (one event per turn), a warm-up round and then a
 * measured round of ~100,000 deliveries (10 events at least), each client checking every event.
 *
 * Cost per delivery = CPU time (user + system) of the server process, and of the client
 * processes, during the measured round / deliveries.
 */
import { HOST, withChildren, type Child } from '../harness.js';
import type { PeerName } from '../peers/types.js';
import { awaitSubscribers, fanoutRound } from '../scenarios/c-fanout.js';
import { JOB_TIMEOUT_MS } from '../scenarios/types.js';
import { formatCount, type Curve, type CurveEnv, type CurvePoint, type CurveRun } from './types.js';

const POINTS = [10, 30, 100, 300, 1_000, 3_000, 10_000];
const CLIENT_PROCESSES = 4;

/** Events per measured round: ~100,000 deliveries (40,000 with --quick), between 10 and 10,000 events. */
const eventsAt = (subscribers: number, quick: boolean): number =>
  Math.min(10_000, Math.max(10, Math.round((quick ? 40_000 : 100_000) / subscribers)));

/** Process p's share of n subscribers (round-robin). */
const shareOf = (n: number, p: number): number => Math.floor((n + CLIENT_PROCESSES - 1 - p) / CLIENT_PROCESSES);

async function run(peer: PeerName, env: CurveEnv): Promise<CurveRun> {
  return withChildren(env.harness, 'curve-subscribers', async (start) => {
    const [server, ...clientProcesses] = await Promise.all([
      start({ role: 'server', peer }),
      ...Array.from({ length: CLIENT_PROCESSES }, () => start({ role: 'clients', peer })),
    ]);
    const { payload } = env;
    const { url } = await server.call<{ url: string }>('listen', { host: HOST, payload }, JOB_TIMEOUT_MS);
    const points: CurvePoint[] = [];
    const failures: string[] = [];
    let seq = 0;
    const connected = clientProcesses.map(() => 0);
    for (const subscribers of POINTS) {
      await grow(clientProcesses, connected, { url, subscribers, env });
      await awaitSubscribers([server], subscribers);
      const events = eventsAt(subscribers, env.quick);
      const warmup = await fanoutRound([server], clientProcesses, {
        base: seq,
        count: Math.max(5, Math.round(events / 10)),
        batch: 1,
        payload,
      });
      seq += Math.max(5, Math.round(events / 10));
      const measured = await fanoutRound([server], clientProcesses, { base: seq, count: events, batch: 1, payload });
      seq += events;
      failures.push(
        ...[...warmup.failures.map((failure) => `warm-up: ${failure}`), ...measured.failures].map(
          (failure) => `${formatCount(subscribers)} subscribers: ${failure}`,
        ),
      );
      const m = measured.metrics;
      points.push({
        x: subscribers,
        metrics: {
          cpuUs: (m.serverCpuUs ?? Number.NaN) + (m.clientCpuUs ?? Number.NaN),
          serverCpuUs: m.serverCpuUs ?? Number.NaN,
          // On loopback the sender's write also runs much of the receiver's TCP path (softirq in its context).
          serverSystemUs: m.serverSystemUs ?? Number.NaN,
          clientCpuUs: m.clientCpuUs ?? Number.NaN,
          eventsPerSec: m.eventsPerSec ?? Number.NaN,
          events,
        },
      });
    }
    return { points, failures };
  });
}

/**
 * Connects and subscribes each process's new share of `subscribers`, from its own source address;
 * `connected` holds each process's count so far.
 */
async function grow(
  clientProcesses: readonly Child[],
  connected: number[],
  { url, subscribers, env }: { url: string; subscribers: number; env: CurveEnv },
): Promise<void> {
  await Promise.all(
    clientProcesses.map(async (child, p) => {
      const count = shareOf(subscribers, p) - connected[p]!;
      if (count <= 0) return;
      await child.call(
        'connect',
        {
          urls: [url],
          count,
          offset: connected[p],
          concurrency: 50,
          payload: env.payload,
          localAddress: `127.0.0.${p + 2}`,
        },
        JOB_TIMEOUT_MS,
      );
      connected[p]! += count;
      await child.call('subscribe', {}, JOB_TIMEOUT_MS);
    }),
  );
}

export const subscribersCurve: Curve = {
  id: 'subscribers',
  title: 'subscribers per event: cost of one delivered event',
  xLabel: 'subscribers of the event',
  xLog: true,
  formatX: formatCount,
  peers: ['raw', 'wirecall'],
  metrics: [
    { key: 'cpuUs', label: 'CPU per delivery (server + clients)', unit: 'µs', better: 'lower', digits: 2, chart: true },
    { key: 'serverCpuUs', label: 'server CPU per delivery', unit: 'µs', better: 'lower', digits: 2, chart: true },
    {
      key: 'serverSystemUs',
      label: 'server system (kernel) CPU per delivery',
      unit: 'µs',
      better: 'lower',
      digits: 2,
    },
    { key: 'clientCpuUs', label: 'client CPU per delivery', unit: 'µs', better: 'lower', digits: 2 },
    { key: 'eventsPerSec', label: 'delivered events/s', unit: 'events/s', better: 'higher', digits: 0, chart: true },
    { key: 'events', label: 'events in the measured round', unit: 'events', better: 'higher', digits: 0 },
  ],
  describe: (quick) =>
    `one server, ${CLIENT_PROCESSES} client processes on 127.0.0.2-${CLIENT_PROCESSES + 1}; ` +
    `${POINTS.map(formatCount).join(', ')} subscribers of one stream; paced (one event per turn); ` +
    `~${quick ? '40,000' : '100,000'} deliveries per point (${eventsAt(POINTS.at(-1)!, quick)} to ` +
    `${formatCount(eventsAt(POINTS[0]!, quick))} events) after a tenth as many untimed`,
  run,
};
