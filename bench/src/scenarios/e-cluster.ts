/**
 * E: events through several wirecall nodes, streams partitioned across them. For each broker
 * (Redis, a Redis Cluster of the run's own, NATS JetStream) and 1, 2 and 4 nodes: 8 rooms (the
 * event `roomTick` with params `{ room }`, one stream per room); node i's clients subscribe only to
 * the rooms of partition i (room r belongs to partition r % nodes); the first node emits every
 * tick to every room. Reports delivered events/s, lost and duplicate deliveries, and what each
 * node received from its broker during the measured round (events, bytes, and their share of all
 * the events published): with interest routing, each node hears about 1/nodes of them.
 *
 * Raw ws has no equivalent; E is reported in absolute figures (and against wirecall's C).
 */
import {
  deleteNatsStreams,
  redisClusterAvailable,
  startRedisCluster,
  tcpAvailable,
  type RedisCluster,
} from '../brokers.js';
import { HOST, withChildren } from '../harness.js';
import type { BrokerKind, BrokerSetup, PeerName } from '../peers/types.js';
import { redisAvailable } from '../redis.js';
import { awaitSubscribers, connectSubscribers, fanoutRounds, type FanoutSizes } from './c-fanout.js';
import { JOB_TIMEOUT_MS, type MetricSpec, type RunResult, type Scenario, type ScenarioEnv } from './types.js';

export const E_BROKERS: readonly BrokerKind[] = ['redis', 'redis-cluster', 'nats'];
export const E_NODES: readonly number[] = [1, 2, 4];
/** Divisible by every node count, so each partition holds the same number of rooms. */
export const E_ROOMS = 8;

export const BROKER_LABELS: Record<BrokerKind, string> = {
  redis: 'Redis',
  'redis-cluster': 'Redis Cluster',
  nats: 'NATS JetStream',
};

/** `events` ticks per room (8 rooms), each client in one room: deliveries = clients × events. */
const sizes = (quick: boolean): FanoutSizes =>
  quick
    ? { clients: 200, clientProcesses: 2, warmupEvents: 10, events: 100, batch: 10 }
    : { clients: 200, clientProcesses: 2, warmupEvents: 50, events: 500, batch: 10 };

/** The key of one figure of one configuration in the run's metrics. */
export const eKey = (broker: BrokerKind, nodes: number, metric: string): string => `${broker}.${nodes}.${metric}`;

function metricSpecs(): MetricSpec[] {
  const specs: MetricSpec[] = [];
  for (const broker of E_BROKERS) {
    for (const nodes of E_NODES) {
      const label = `E ${BROKER_LABELS[broker]}, ${nodes} node${nodes > 1 ? 's' : ''}:`;
      const key = (metric: string) => eKey(broker, nodes, metric);
      specs.push(
        {
          key: key('eventsPerSec'),
          label: `${label} delivered events/s`,
          unit: 'events/s',
          better: 'higher',
          digits: 0,
        },
        { key: key('lost'), label: `${label} lost`, unit: 'deliveries', better: 'lower', digits: 0, aggregate: 'sum' },
        {
          key: key('duplicates'),
          label: `${label} duplicates`,
          unit: 'deliveries',
          better: 'lower',
          digits: 0,
          aggregate: 'sum',
        },
        {
          key: key('meanNodeShare'),
          label: `${label} broker share per node`,
          unit: 'ratio',
          better: 'lower',
          digits: 3,
        },
      );
    }
  }
  return specs;
}

interface Availability {
  brokers: BrokerKind[];
  skipped: string[];
}

/** Which brokers answer; the others are skipped with a note. */
async function available(env: ScenarioEnv): Promise<Availability> {
  const result: Availability = { brokers: [], skipped: [] };
  for (const broker of env.brokers) {
    const check =
      broker === 'redis'
        ? await redisAvailable(env.redisUrl)
        : broker === 'redis-cluster'
          ? await redisClusterAvailable()
          : await tcpAvailable(env.natsUrl);
    if (check.ok) result.brokers.push(broker);
    else result.skipped.push(`${BROKER_LABELS[broker]} skipped: ${check.reason}`);
  }
  return result;
}

/** One configuration: `nodes` nodes on `broker`, the rooms partitioned across them. */
function runConfiguration(peer: PeerName, env: ScenarioEnv, nodes: number, broker: BrokerSetup): Promise<RunResult> {
  return withChildren(env.harness, 'E', async (start) => {
    const size = sizes(env.quick);
    const children = await Promise.all([
      ...Array.from({ length: nodes }, () => start({ role: 'server', peer })),
      ...Array.from({ length: size.clientProcesses }, () => start({ role: 'clients', peer })),
    ]);
    const servers = children.slice(0, nodes);
    const clientProcesses = children.slice(nodes);
    const urls = await Promise.all(
      servers.map(
        async (node) => (await node.call<{ url: string }>('listen', { host: HOST, broker }, JOB_TIMEOUT_MS)).url,
      ),
    );
    await connectSubscribers(clientProcesses, urls, { clients: size.clients, plan: { rooms: E_ROOMS, nodes } });
    await awaitSubscribers(servers, size.clients);
    return fanoutRounds(servers, clientProcesses, size, E_ROOMS);
  });
}

export const scenarioE: Scenario = {
  id: 'E',
  title: `events through 1, 2 and 4 wirecall nodes, ${E_ROOMS} rooms partitioned across the nodes (200 clients), per broker`,
  peers: ['wirecall'],
  metrics: metricSpecs(),
  sizes: (quick) => ({ brokers: E_BROKERS, nodes: E_NODES, rooms: E_ROOMS, eventsArePerRoom: true, ...sizes(quick) }),
  run: async (peer, env) => {
    const { brokers, skipped } = await available(env);
    const metrics: Record<string, number> = {};
    const failures: string[] = [];
    for (const note of skipped) console.log(`  E: ${note}`);
    for (const kind of brokers) {
      let cluster: RedisCluster | undefined;
      try {
        if (kind === 'redis-cluster') cluster = await startRedisCluster();
      } catch (error) {
        failures.push(`${BROKER_LABELS[kind]}: could not start a cluster: ${String(error)}`);
        continue;
      }
      try {
        for (const nodes of E_NODES) {
          const setup: BrokerSetup =
            kind === 'redis'
              ? { kind, url: env.redisUrl, prefix: env.nextRedisPrefix() }
              : kind === 'redis-cluster'
                ? { kind, nodes: cluster!.nodes, prefix: env.nextRedisPrefix(true) }
                : { kind, servers: env.natsUrl, prefix: env.nextNatsPrefix() };
          const began = Date.now();
          let result: RunResult;
          try {
            result = await runConfiguration(peer, env, nodes, setup);
          } catch (error) {
            result = {
              metrics: {},
              failures: [`run failed: ${error instanceof Error ? error.message : String(error)}`],
            };
          }
          for (const [metric, value] of Object.entries(result.metrics)) metrics[eKey(kind, nodes, metric)] = value;
          failures.push(...result.failures.map((failure) => `${BROKER_LABELS[kind]}, ${nodes} nodes: ${failure}`));
          const m = result.metrics;
          const perNode = Array.from({ length: nodes }, (_, node) => m[`node${node}Events`] ?? Number.NaN);
          console.log(
            `    E ${BROKER_LABELS[kind].padEnd(14)} ${nodes} node(s): ${Math.round(m.eventsPerSec ?? Number.NaN).toLocaleString('en-US')} events/s, lost ${m.lost ?? 'n/a'}, duplicates ${m.duplicates ?? 'n/a'}, broker events per node ${perNode.join(' / ')} of ${m.published ?? 'n/a'} (${((Date.now() - began) / 1e3).toFixed(1)} s)`,
          );
        }
      } finally {
        await cluster?.stop();
      }
    }
    return { metrics, failures };
  },
};

/** Deletes the JetStream streams of the run's NATS prefixes (history and KV buckets). */
export async function cleanUpNats(natsUrl: string, prefixes: readonly string[]): Promise<void> {
  const deleted = await deleteNatsStreams(natsUrl, prefixes);
  if (process.env.BENCH_DEBUG) console.error(`  deleted ${deleted} JetStream streams`);
}
