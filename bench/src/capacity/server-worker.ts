/**
 * One server process of the capacity run, a node:cluster worker: a wirecall server listening on the
 * port every worker shares (the primary hands each accepted connection to one worker in turn),
 * events shared with the other workers through the Redis broker. The primary (main.ts) drives it
 * over IPC: memory readings, counts, one emit per round, close.
 */
import { createServer } from '@wirecall/server';
import { redisBroker } from '@wirecall/server/redis';
import { serveRequests } from '../ipc.js';
import { measureMemory } from '../scenarios/d-idle-memory.js';
import { assertBuiltPackages, capacityApi } from './contract.js';

assertBuiltPackages(['@wirecall/core', '@wirecall/server', '@wirecall/server/redis']);

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set: this file is started by capacity/main.ts`);
  return value;
};
const redisUrl = env('CAPACITY_REDIS_URL');
const prefix = env('CAPACITY_REDIS_PREFIX');
const port = Number(env('CAPACITY_PORT'));
const host = env('CAPACITY_HOST');
const maxConnections = Number(env('CAPACITY_MAX_CONNECTIONS'));
const timeoutMs = Number(env('CAPACITY_TIMEOUT_MS'));

// Bounded whatever happens: the primary kills us on failure, this covers the primary itself dying
// hard; a primary that goes away closes the IPC channel, and then we go too.
setTimeout(() => {
  console.error(`hard timeout: still running after ${timeoutMs} ms, exiting`);
  process.exit(3);
}, timeoutMs).unref();
process.on('disconnect', () => process.exit(0));

const broker = redisBroker({ url: redisUrl, prefix });
await broker.ready();
const server = createServer(capacityApi, {
  handlers: { echo: ({ input }) => input.n },
  broker,
  // The defaults (10,000 in all, 100 per IP) are a single node's safe guess; this test is about
  // how far one machine goes, and all its clients come from three loopback addresses.
  maxConnections: { total: maxConnections, perIp: maxConnections },
  // Everything else is the default, heartbeats included: they are part of what holding a
  // connection costs.
});
const { url } = await server.listen({ port, host });

serveRequests({
  url: () => ({ url, pid: process.pid }),
  stats: () => {
    const { connections, subscriptions, errors } = server.stats();
    return { connections, subscriptions, errors };
  },
  // After gc (the worker runs with --expose-gc), so that garbage does not count as connections.
  memory: async () => {
    const memory = await measureMemory();
    const { connections, subscriptions } = server.stats();
    return { ...memory, connections, subscriptions };
  },
  emit: async ({ seq }: { seq: number }) => {
    const sentAt = Date.now();
    // Resolves once Redis has the event (history and announcement); the local subscribers of
    // this worker are served as the announcement comes back, like every other worker's.
    await server.emit('tick', { seq, sentAt });
    return { sentAt, publishedMs: Date.now() - sentAt };
  },
  close: async () => {
    await server.close({ graceMs: 1_000 });
    await broker.close();
  },
});
