/**
 * One presence node of a test cluster in a process of its own, so a test can SIGKILL it: a wirecall
 * server for {@link presenceApi} on a Redis broker, with `identify` and presence. Started by
 * presence-node.ts; configuration comes as JSON in WIRECALL_CHILD_CONFIG
 * ({@link PresenceNodeConfig}); the commands are those of {@link presenceCommands}, as JSON lines
 * (child-channel.ts). The server's log is forwarded to the parent as `log` lines.
 */
import { redisBroker } from '@wirecall/server/redis';
import { channelLogger, serveCommands } from './child-channel.js';
import { createPresenceServer, presenceCommands, type PresenceNodeConfig } from './presence-api.js';

/** What the node announces once it listens. */
export interface PresenceNodeReady {
  port: number;
  pid: number;
  nodeId: string;
}

const config = JSON.parse(process.env.WIRECALL_CHILD_CONFIG ?? '{}') as PresenceNodeConfig;
const broker = redisBroker({ url: config.redisUrl, prefix: config.prefix });
await broker.ready();
const server = createPresenceServer(config, broker, channelLogger);
const { port } = await server.listen({ port: 0, host: '127.0.0.1' });

serveCommands(presenceCommands(server), {
  port,
  pid: process.pid,
  nodeId: server.nodeId,
} satisfies PresenceNodeReady);
