import { eventFrame, type EventDef, type StreamKey, type WireValue } from '@wirecall/core/internal';
import type { Logger } from '../logger.js';
import type { ConnectionInfo } from '../connection/connection-info.js';
import { keyFor } from '../connection/stream-access.js';
import type { PresenceHub } from './presence-hub.js';
import type { SignalBus } from './presence-store.js';

/** One connection of a user, as `connectionsOf` lists it. */
export interface UserConnection {
  id: string;
  /** The node that holds it. */
  node: string;
  remoteAddress: string | undefined;
  /** When it was welcomed (ms since the epoch). */
  connectedAt: number;
}

/** A local connection, as the directory needs it. */
export interface DirectoryConnection extends ConnectionInfo {
  push(key: StreamKey, frame: string): boolean;
}

/** An event for some connections alone: its name, its params' wire form, its payload. */
interface Pushed {
  event: string;
  params: unknown;
  value: WireValue;
}

/** What one node tells the others. */
type NodeSignal =
  | { k: 'push'; c: string[]; e: string; p: unknown; v: WireValue }
  | { k: 'kick'; u: string; code: number; reason: string };

/** The most connections `connectionsOf` lists for one user. */
const MAX_LISTED_CONNECTIONS = 1_000;

/**
 * Which connections exist, here and on every node: by id (pushes to one connection) and by user
 * (`disconnectUser`, `connectionsOf`). Other nodes are reached through the broker's signals and
 * presence; without them, only this node's connections are found.
 */
export class UserDirectory {
  readonly #nodeId: string;
  readonly #events: ReadonlyMap<string, EventDef>;
  readonly #signals: SignalBus | undefined;
  readonly #hub: PresenceHub | undefined;
  readonly #logger: Logger;
  readonly #byId = new Map<string, DirectoryConnection>();
  readonly #byUser = new Map<string, Set<DirectoryConnection>>();
  readonly #stop: (() => void) | undefined;

  constructor(
    nodeId: string,
    events: ReadonlyMap<string, EventDef>,
    parts: { signals: SignalBus | undefined; hub: PresenceHub | undefined; logger: Logger },
  ) {
    this.#nodeId = nodeId;
    this.#events = events;
    this.#signals = parts.signals;
    this.#hub = parts.hub;
    this.#logger = parts.logger;
    this.#stop = parts.signals?.listen((message) => this.#received(message));
  }

  added(connection: DirectoryConnection): void {
    this.#byId.set(connection.id, connection);
    const { user } = connection;
    if (user === undefined) return;
    let connections = this.#byUser.get(user);
    if (connections === undefined) {
      connections = new Set();
      this.#byUser.set(user, connections);
    }
    connections.add(connection);
    const data: UserConnection = {
      id: connection.id,
      node: this.#nodeId,
      remoteAddress: connection.remoteAddress,
      connectedAt: Date.now(),
    };
    this.#hub
      ?.join(userKey(user), { conn: connection.id, member: connection.id, data: JSON.stringify(data) })
      .catch((error: unknown) => this.#logger.warn({ err: error, user }, 'registering a user connection failed'));
  }

  removed(connection: DirectoryConnection): void {
    if (this.#byId.get(connection.id) !== connection) return;
    this.#byId.delete(connection.id);
    const { user } = connection;
    if (user === undefined) return;
    const connections = this.#byUser.get(user);
    connections?.delete(connection);
    if (connections?.size === 0) this.#byUser.delete(user);
    this.#hub
      ?.leave(userKey(user), connection.id)
      .catch((error: unknown) => this.#logger.warn({ err: error, user }, 'unregistering a user connection failed'));
  }

  /** A user's connections on every node (this node's alone without a broker that keeps presence). */
  async connectionsOf(user: string): Promise<UserConnection[]> {
    if (this.#hub === undefined) {
      return [...(this.#byUser.get(user) ?? [])].map((connection) => ({
        id: connection.id,
        node: this.#nodeId,
        remoteAddress: connection.remoteAddress,
        connectedAt: 0,
      }));
    }
    const page = await this.#hub.list(userKey(user), MAX_LISTED_CONNECTIONS);
    return page.members.map((member) => JSON.parse(member.data) as UserConnection);
  }

  /** Closes every connection of `user`, on every node. */
  async disconnect(user: string, code: number, reason: string): Promise<void> {
    this.#kick(user, code, reason);
    await this.#signals?.send(JSON.stringify({ k: 'kick', u: user, code, reason } satisfies NodeSignal));
  }

  /** Sends an event to these connections alone, wherever they are. */
  async push(ids: readonly string[], pushed: Pushed): Promise<void> {
    const remote: string[] = [];
    for (const id of ids) {
      if (id.startsWith(`${this.#nodeId}.`)) this.#pushHere(id, pushed);
      else remote.push(id);
    }
    // Without signals there is no other node to reach.
    if (remote.length === 0 || this.#signals === undefined) return;
    const signal: NodeSignal = { k: 'push', c: remote, e: pushed.event, p: pushed.params, v: pushed.value };
    await this.#signals.send(JSON.stringify(signal));
  }

  close(): void {
    this.#stop?.();
  }

  #pushHere(id: string, { event, params, value }: Pushed): void {
    const connection = this.#byId.get(id);
    const def = this.#events.get(event);
    if (connection === undefined || def === undefined) return;
    const key = keyFor({ event, def, params }, connection);
    connection.push(key, eventFrame(key, undefined, value));
  }

  #kick(user: string, code: number, reason: string): void {
    for (const connection of [...(this.#byUser.get(user) ?? [])]) connection.close(code, reason);
  }

  #received(message: string): void {
    let signal: NodeSignal;
    try {
      signal = JSON.parse(message) as NodeSignal;
    } catch {
      return;
    }
    try {
      if (signal.k === 'kick') this.#kick(signal.u, signal.code, signal.reason);
      else if (signal.k === 'push')
        for (const id of signal.c) this.#pushHere(id, { event: signal.e, params: signal.p, value: signal.v });
    } catch (error) {
      this.#logger.warn({ err: error }, 'a signal from another node could not be handled');
    }
  }
}

/** The presence key under which a user's connections are registered (not an event's: a space first). */
function userKey(user: string): StreamKey {
  return ` users @u:${user}`;
}
