import { z } from 'zod';
import { defineContract } from '@wirecall/core';
import { createServer, type Logger, type UserConnection, type WirecallServer } from '@wirecall/server';
import type { RedisBroker } from '@wirecall/server/redis';

/**
 * The contract of the presence cluster tests: rooms (`room` with params `{ room }`) whose presence
 * shows a name, personal notices (`notice`, `to: 'user'`), and `whoami`, which tells a client the
 * node it is on and the id of its connection (what `emit(..., { connection })` and `connectionsOf`
 * speak of). A client says who it is in its connection params (`{ user }`), or stays anonymous.
 */
export const presenceApi = defineContract({
  procedures: {
    whoami: {
      input: z.null(),
      output: z.object({ node: z.string(), connection: z.string(), user: z.string().optional() }),
      idempotent: true,
    },
  },
  events: {
    room: {
      payload: z.object({ text: z.string() }),
      params: z.object({ room: z.string() }),
      presence: z.object({ name: z.string() }),
    },
    notice: { payload: z.object({ text: z.string() }), to: 'user' },
  },
  connectionParams: z.object({ user: z.string().optional() }),
});
export type PresenceApi = typeof presenceApi;

/** What a presence node is configured with, in the test process or in a child (as JSON). */
export interface PresenceNodeConfig {
  /** What `whoami` answers as `node`. */
  name: string;
  redisUrl: string;
  /** Redis key prefix, shared by the nodes of one test. */
  prefix: string;
  /** The server's heartbeat; a presence lease is two intervals. */
  heartbeat: { intervalMs: number; timeoutMs: number };
  /** How long a dropped connection stays present. */
  graceMs: number;
}

/** A wirecall server for {@link presenceApi} on `broker`, with `identify` and presence options. */
export function createPresenceServer(
  config: PresenceNodeConfig,
  broker: RedisBroker,
  logger: Logger,
): WirecallServer<PresenceApi, { user: string | undefined }> {
  return createServer(presenceApi, {
    broker,
    logger,
    context: ({ connectionParams }) => ({ user: connectionParams.user }),
    identify: (ctx) => ctx.user,
    handlers: {
      whoami: ({ ctx, connection }) => ({
        node: config.name,
        connection: connection.id,
        ...(ctx.user === undefined ? {} : { user: ctx.user }),
      }),
    },
    heartbeat: config.heartbeat,
    presence: { graceMs: config.graceMs },
    // Every test client comes from 127.0.0.1.
    maxConnections: { perIp: 10_000 },
  });
}

/** A page of a room's presence, as `presenceOf` answers it (sorted by key, for comparisons). */
export interface RoomPresence {
  count: number;
  members: { key: string; connections: number; name: string }[];
}

/**
 * The commands a test gives a presence node, the same whether the node runs in the test process or
 * in a child (where they arrive as JSON lines): every argument and answer is plain JSON.
 */
export function presenceCommands(server: WirecallServer<PresenceApi, { user: string | undefined }>) {
  return {
    nodeId: (): string => server.nodeId,
    /** `room` to stream `{ room }`: to every subscriber, or to these connections alone. */
    emit: ({ room, text, connection }: { room: string; text: string; connection?: string[] }): Promise<string> =>
      server.emit('room', { text }, connection === undefined ? { params: { room } } : { params: { room }, connection }),
    /** A personal `notice` to these users. */
    notify: ({ user, text }: { user: string[]; text: string }): Promise<string> =>
      server.emit('notice', { text }, { user }),
    presenceOf: async ({ room }: { room: string }): Promise<RoomPresence> => {
      const page = await server.presenceOf('room', { params: { room }, limit: 1_000 });
      const members = page.members
        .map((member) => ({ key: member.key, connections: member.connections, name: member.data.name }))
        .sort((a, b) => a.key.localeCompare(b.key));
      return { count: page.count, members };
    },
    connectionsOf: ({ user }: { user: string }): Promise<UserConnection[]> => server.connectionsOf(user),
    disconnectUser: ({ user }: { user: string }): Promise<void> => server.disconnectUser(user),
    stats: () => server.stats(),
  };
}
export type PresenceCommands = ReturnType<typeof presenceCommands>;
