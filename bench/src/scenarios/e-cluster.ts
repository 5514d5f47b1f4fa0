/**
 * E: the fan-out of C across 3 wirecall nodes sharing events through the Redis broker: 200
 * clients spread round-robin over the nodes (in 2 client processes), events emitted on the first
 * node. Raw ws has no equivalent; E is reported in absolute figures and against wirecall's C.
 */
import { HOST, withChildren } from '../harness.js';
import { awaitSubscribers, connectSubscribers, fanoutRounds, type FanoutSizes } from './c-fanout.js';
import { JOB_TIMEOUT_MS, type Scenario } from './types.js';

const NODES = 3;

const sizes = (quick: boolean): FanoutSizes =>
  quick
    ? { clients: 200, clientProcesses: 2, warmupEvents: 20, events: 200, batch: 10 }
    : { clients: 200, clientProcesses: 2, warmupEvents: 100, events: 1_000, batch: 10 };

export const scenarioE: Scenario = {
  id: 'E',
  title: `fan-out across ${NODES} wirecall nodes through the Redis broker (200 clients)`,
  peers: ['wirecall'],
  metrics: [
    { key: 'eventsPerSec', label: 'E delivered events/s', unit: 'events/s', better: 'higher', digits: 0 },
    { key: 'durationMs', label: 'E first emit to last delivery', unit: 'ms', better: 'lower', digits: 0 },
    { key: 'serverCpuUs', label: 'E servers CPU per delivery (3 nodes)', unit: 'µs', better: 'lower', digits: 2 },
    { key: 'clientCpuUs', label: 'E client CPU per delivery', unit: 'µs', better: 'lower', digits: 2 },
    { key: 'lost', label: 'E lost deliveries', unit: 'deliveries', better: 'lower', digits: 0, aggregate: 'sum' },
    { key: 'duplicates', label: 'E duplicates', unit: 'deliveries', better: 'lower', digits: 0, aggregate: 'sum' },
  ],
  sizes: (quick) => ({ nodes: NODES, ...sizes(quick) }),
  run: (peer, env) =>
    withChildren(env.harness, 'E', async (start) => {
      const size = sizes(env.quick);
      const redis = { url: env.redisUrl, prefix: env.nextRedisPrefix() };
      const children = await Promise.all([
        ...Array.from({ length: NODES }, () => start({ role: 'server', peer })),
        ...Array.from({ length: size.clientProcesses }, () => start({ role: 'clients', peer })),
      ]);
      const nodes = children.slice(0, NODES);
      const clientProcesses = children.slice(NODES);
      const urls = await Promise.all(
        nodes.map(
          async (node) => (await node.call<{ url: string }>('listen', { host: HOST, redis }, JOB_TIMEOUT_MS)).url,
        ),
      );
      await connectSubscribers(clientProcesses, urls, size.clients);
      await awaitSubscribers(nodes, size.clients);
      return fanoutRounds(nodes, clientProcesses, size);
    }),
};
