/**
 * A node:cluster deployment in a process of its own (started by node-cluster.test.ts through
 * json-child.ts): the primary runs the in-machine broker (`setupPrimary`) and forks two workers,
 * each a wirecall server for {@link nodeClusterApi} on one shared port with `workerBroker()`.
 * Commands (primary): `charges { id }`, how many runs of `charge` ended for that id on any worker.
 */
import cluster from 'node:cluster';
import { createServer, silentLogger, type WirecallServer } from '@wirecall/server';
import { setupPrimary, workerBroker } from '@wirecall/server/node-cluster';
import { serveCommands } from './child-channel.js';
import { nodeClusterApi } from './node-cluster-api.js';

const WORKERS = 2;

if (cluster.isPrimary) {
  setupPrimary({ idempotencyLeaseMs: 2_000 });
  const charges = new Map<string, number>();
  const listening: number[] = [];
  cluster.on('message', (_worker, message: { listening?: number; charged?: string }) => {
    if (message.charged !== undefined) charges.set(message.charged, (charges.get(message.charged) ?? 0) + 1);
    if (message.listening === undefined) return;
    listening.push(message.listening);
    if (listening.length === WORKERS) {
      serveCommands({ charges: ({ id }: { id: string }) => charges.get(id) ?? 0 }, { port: listening[0] });
    }
  });
  for (let i = 0; i < WORKERS; i++) cluster.fork();
} else {
  const broker = workerBroker({ idempotencyLeaseMs: 2_000 });
  await broker.ready();
  const server: WirecallServer<typeof nodeClusterApi> = createServer(nodeClusterApi, {
    broker,
    logger: silentLogger,
    maxConnections: { perIp: 10_000 },
    handlers: {
      worker: () => cluster.worker!.id,
      emit: ({ input }) => server.emit('tick', input, { params: { room: input.room } }),
      received: () => server.stats().broker.received.events,
      charge: async ({ input }) => {
        await new Promise((resolve) => setTimeout(resolve, input.ms));
        process.send!({ charged: input.id });
        return 1;
      },
    },
  });
  // Every worker listens on the same port: node:cluster hands out the connections.
  const { port } = await server.listen({ port: Number(process.env.WIRECALL_PORT ?? 0), host: '127.0.0.1' });
  process.send!({ listening: port });
}
