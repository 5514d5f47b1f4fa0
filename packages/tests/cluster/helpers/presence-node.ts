import type { Logger, ServerStats, UserConnection } from '@wirecall/server';
import { redisBroker } from '@wirecall/server/redis';
import { startJsonChild, type ChildLog, type JsonChild } from './json-child.js';
import {
  createPresenceServer,
  presenceCommands,
  type PresenceCommands,
  type PresenceNodeConfig,
  type RoomPresence,
} from './presence-api.js';
import type { PresenceNodeReady } from './presence-node-main.js';

/**
 * A presence node (presence-api.ts) in the test process or in a child process: the same commands
 * either way, so a test reads the same whichever nodes it needs to SIGKILL.
 */
export interface PresenceNode {
  readonly name: string;
  /** `ws://127.0.0.1:<port>`. */
  readonly url: string;
  /** The server's `nodeId`: the first part of its connection ids. */
  readonly nodeId: string;
  /** `room` to stream `{ room }`: to every subscriber, or to these connections alone (any node's). */
  emit(room: string, text: string, connection?: string[]): Promise<string>;
  /** A personal `notice` to these users, wherever they are connected. */
  notify(user: string[], text: string): Promise<string>;
  presenceOf(room: string): Promise<RoomPresence>;
  connectionsOf(user: string): Promise<UserConnection[]>;
  disconnectUser(user: string): Promise<void>;
  stats(): Promise<ServerStats>;
  /** What the node logged at warn or error level, as `level: message (err)`. */
  problems(): string[];
}

/** A node in a child process: `kill()` (SIGKILL by default) ends it without a word to anyone. */
export interface PresenceNodeProcess extends PresenceNode, JsonChild<PresenceNodeReady> {}

/** A node in the test process: `close()` shuts it down cleanly. */
export interface InProcessPresenceNode extends PresenceNode, AsyncDisposable {
  close(): Promise<void>;
}

type Request = <TName extends keyof PresenceCommands>(
  cmd: TName,
  args?: Parameters<PresenceCommands[TName]>[0],
) => Promise<Awaited<ReturnType<PresenceCommands[TName]>>>;

function describeLog({ level, message, err }: ChildLog): string {
  return `${level}: ${message ?? ''}${err === undefined ? '' : ` (${err})`}`;
}

function nodeApi(request: Request, logs: readonly ChildLog[]) {
  return {
    emit: (room: string, text: string, connection?: string[]) =>
      request('emit', connection === undefined ? { room, text } : { room, text, connection }),
    notify: (user: string[], text: string) => request('notify', { user, text }),
    presenceOf: (room: string) => request('presenceOf', { room }),
    connectionsOf: (user: string) => request('connectionsOf', { user }),
    disconnectUser: (user: string) => request('disconnectUser', { user }),
    stats: () => request('stats'),
    problems: () => logs.filter((log) => log.level !== 'info').map(describeLog),
  };
}

/** Starts presence-node-main.ts in a child process. */
export async function startPresenceNodeProcess(config: PresenceNodeConfig): Promise<PresenceNodeProcess> {
  const child = await startJsonChild<PresenceNodeReady>('presence-node-main.ts', config);
  const request = ((cmd: string, args?: unknown) => child.request(cmd, args)) as Request;
  return Object.assign(child, {
    name: config.name,
    url: `ws://127.0.0.1:${child.ready.port}`,
    nodeId: child.ready.nodeId,
    ...nodeApi(request, child.logs),
  });
}

const live = new Set<InProcessPresenceNode>();

/** Closes every in-process node still open; call it in afterEach so a failed test leaves none behind. */
export async function closeAllPresenceNodes(): Promise<void> {
  await Promise.all([...live].map((node) => node.close()));
}

function recordingLogger(logs: ChildLog[]): Logger {
  const record =
    (level: string) =>
    (details: object, message?: string): void => {
      const err = (details as { err?: unknown }).err;
      // As a child forwards it (child-channel.ts): an error's message.
      const text = err instanceof Error ? err.message : err === undefined ? undefined : JSON.stringify(err);
      logs.push({
        level,
        ...(message === undefined ? {} : { message }),
        ...(text === undefined ? {} : { err: text }),
      });
    };
  return { error: record('error'), warn: record('warn'), info: record('info'), debug: () => {} };
}

/** Starts a presence node in the test process (its own Redis broker, its own port). */
export async function startInProcessPresenceNode(config: PresenceNodeConfig): Promise<InProcessPresenceNode> {
  const broker = redisBroker({ url: config.redisUrl, prefix: config.prefix });
  await broker.ready();
  const logs: ChildLog[] = [];
  const server = createPresenceServer(config, broker, recordingLogger(logs));
  const { port } = await server.listen({ port: 0, host: '127.0.0.1' });
  const commands = presenceCommands(server) as unknown as Record<string, (args: unknown) => unknown>;
  // As a child answers: later, and a command that throws rejects.
  const request = ((cmd: string, args?: unknown) => Promise.resolve().then(() => commands[cmd]!(args))) as Request;
  let closing: Promise<void> | undefined;
  const node: InProcessPresenceNode = {
    name: config.name,
    url: `ws://127.0.0.1:${port}`,
    nodeId: server.nodeId,
    ...nodeApi(request, logs),
    close() {
      closing ??= (async () => {
        live.delete(node);
        await server.close({ graceMs: 0 });
        await broker.close(); // the server does not close a broker it was given
      })();
      return closing;
    },
    [Symbol.asyncDispose]: () => node.close(),
  };
  live.add(node);
  return node;
}
