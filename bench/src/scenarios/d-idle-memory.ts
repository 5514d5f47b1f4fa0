/**
 * D: memory per idle connection. The server process (run with --expose-gc) reports RSS and
 * heapUsed after garbage collection with no connection, then with N idle connections opened by 2
 * client processes (at most 50 connecting at once per process); per connection = delta / N.
 */
import { HOST, sleep, waitUntil, withChildren } from '../harness.js';
import { WEBSOCKET_PEERS } from '../peers/types.js';
import { JOB_TIMEOUT_MS, type Scenario } from './types.js';

export interface MemoryReport {
  rss: number;
  heapUsed: number;
  external: number;
}

/** Server side: collects garbage (a few passes, letting finalizers run), then reads the memory usage. */
export async function measureMemory(): Promise<MemoryReport> {
  const { gc } = globalThis as { gc?: () => void };
  if (gc === undefined) throw new Error('measuring memory needs node --expose-gc');
  for (let pass = 0; pass < 4; pass++) {
    gc();
    await sleep(25);
  }
  const { rss, heapUsed, external } = process.memoryUsage();
  return { rss, heapUsed, external };
}

interface IdleSizes {
  connections: number;
  clientProcesses: number;
}

const sizes = (quick: boolean): IdleSizes =>
  quick ? { connections: 500, clientProcesses: 2 } : { connections: 2_000, clientProcesses: 2 };

/** Once every connection is up, let late allocations (handshakes, timers) settle before measuring. */
const SETTLE_MS = 500;

export const scenarioD: Scenario = {
  id: 'D',
  title: 'memory per idle connection (server process, after gc)',
  peers: WEBSOCKET_PEERS,
  metrics: [
    {
      key: 'rssPerConnection',
      label: 'D RSS per connection',
      unit: 'bytes',
      better: 'lower',
      digits: 0,
      ratio: true,
      target: { op: '<=', value: 1.1 },
    },
    {
      key: 'heapPerConnection',
      label: 'D heap per connection',
      unit: 'bytes',
      better: 'lower',
      digits: 0,
      ratio: true,
      target: { op: '<=', value: 1.1 },
    },
  ],
  sizes,
  run: (peer, env) =>
    withChildren(env.harness, 'D', async (start) => {
      const size = sizes(env.quick);
      const [server, ...clientProcesses] = await Promise.all([
        start({ role: 'server', peer, exposeGc: true }),
        ...Array.from({ length: size.clientProcesses }, () => start({ role: 'clients', peer })),
      ]);
      const { url } = await server.call<{ url: string }>('listen', { host: HOST }, JOB_TIMEOUT_MS);
      const idle = await server.call<MemoryReport>('memory', {}, JOB_TIMEOUT_MS);
      const perProcess = Math.ceil(size.connections / clientProcesses.length);
      await Promise.all(
        clientProcesses.map((child, index) =>
          child.call(
            'connect',
            {
              urls: [url],
              count: Math.min(perProcess, size.connections - index * perProcess),
              offset: index * perProcess,
              concurrency: 50,
            },
            JOB_TIMEOUT_MS,
          ),
        ),
      );
      await waitUntil(
        async () =>
          (await server.call<{ connections: number }>('stats', {}, JOB_TIMEOUT_MS)).connections >= size.connections,
        30_000,
        `${size.connections} connections on the server`,
      );
      await sleep(SETTLE_MS);
      const loaded = await server.call<MemoryReport>('memory', {}, JOB_TIMEOUT_MS);
      const { connections } = await server.call<{ connections: number }>('stats', {}, JOB_TIMEOUT_MS);
      const failures =
        connections === size.connections ? [] : [`server counted ${connections} connections, not ${size.connections}`];
      return {
        metrics: {
          rssPerConnection: (loaded.rss - idle.rss) / size.connections,
          heapPerConnection: (loaded.heapUsed - idle.heapUsed) / size.connections,
          externalPerConnection: (loaded.external - idle.external) / size.connections,
          idleRss: idle.rss,
          loadedRss: loaded.rss,
          idleHeapUsed: idle.heapUsed,
          loadedHeapUsed: loaded.heapUsed,
        },
        failures,
      };
    }),
};
