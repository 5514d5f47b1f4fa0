/**
 * One node of the cluster: a wirecall server whose broker is Redis, so an event emitted on any node
 * reaches the subscribers of every node, and its history (kept in Redis) lets a client that lost its
 * node resume on another one without missing anything.
 *
 *   NODE_NAME=node-1 PORT=3001 REDIS_URL=redis://127.0.0.1:6379 tsx src/node.ts
 *
 * Prints `listening <url>` once it accepts connections; SIGTERM closes it gracefully (clients are
 * told with close code 1001 and move to another node at once).
 */
import { createServer } from '@wirecall/server';
import { redisBroker } from '@wirecall/server/redis';
import { api } from './contract.js';

const name = process.env.NODE_NAME ?? 'node';
const port = Number(process.env.PORT ?? 0);
const broker = redisBroker({
  url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  // Every node of one cluster uses the same prefix: they share its streams and its channel.
  prefix: process.env.WIRECALL_PREFIX ?? 'wirecall-example',
});
await broker.ready();

const server = createServer(api, {
  broker,
  context: ({ connectionParams }) => ({ user: connectionParams?.user }),
  // A user's connections, on any node, are one presence member.
  identify: (ctx) => ctx.user,
  // A presence lease is two heartbeat intervals: with 1 s, the entries a dead node leaves behind run
  // out within seconds, while the demo watches (the default, 15 s, keeps them 30 s).
  heartbeat: { intervalMs: 1_000 },
  handlers: {
    whoami: () => name,
    publish: ({ input }): Promise<string> =>
      server.emit('news', { ...input, from: name }, { params: { room: input.room } }),
    connections: async ({ input }): Promise<Record<string, number>> => {
      const { members } = await server.presenceOf('news', { params: { room: input.room } });
      return Object.fromEntries(members.map((member) => [member.key, member.connections]));
    },
  },
});
const { url } = await server.listen({ port, host: '127.0.0.1' });
console.log(`listening ${url}`);

process.once('SIGTERM', () => {
  void (async () => {
    await server.close({ graceMs: 1_000 });
    await broker.close(); // the server leaves a broker it was given to its owner
  })();
});
