import type { StreamKey } from '@wirecall/core/internal';

/**
 * How a broker keeps the presence of streams for every node: who is in a stream, by member, with
 * their data. The server owns the protocol and the timing (leases, grace); a store only keeps
 * entries and announces changes to every node. See docs/rooms.md.
 */

/** One connection's place in a stream's presence. */
export interface PresenceEntry {
  /** The connection, unique across nodes. */
  conn: string;
  /** The member it counts for: a user (from `identify`), or an anonymous client. */
  member: string;
  /** The member's data: the JSON text of its wire value (`{"v":…,"m":…}`). */
  data: string;
}

/**
 * A change of a stream's members, announced to every node: a member's first connection joined, its
 * data changed, or its last connection left. `count` is the number of members after the change.
 */
export interface PresenceNotice {
  op: 'join' | 'update' | 'leave';
  member: string;
  count: number;
  /** The member's data (JSON text of its wire value); absent on `leave`. */
  data?: string;
}

export type PresenceListener = (key: StreamKey, notice: PresenceNotice) => void;

/** One member as a list shows it. */
export interface PresenceMember {
  key: string;
  /** Connections the member is present with (tabs, devices, nodes). */
  connections: number;
  /** JSON text of the member's wire value: the data of its most recent join or update. */
  data: string;
}

/** A page of a stream's members. */
export interface PresencePage {
  /** Members in the stream now (not only on this page). */
  count: number;
  members: PresenceMember[];
  /** Pass it back for the next page; absent on the last one. */
  cursor?: string;
}

export interface PresenceStore {
  /**
   * Adds a connection's entry, or updates its data, held for `leaseMs` unless refreshed. Announces
   * `join` when it is its member's first connection, `update` when the member's data changed.
   */
  set(key: StreamKey, entry: PresenceEntry, leaseMs: number): Promise<void>;
  /** Extends the leases of these connections' entries (their node is alive), or shortens them (grace). */
  refresh(key: StreamKey, conns: readonly string[], leaseMs: number): Promise<void>;
  /** Removes a connection's entry; announces `leave` when it was its member's last. Idempotent. */
  remove(key: StreamKey, conn: string): Promise<void>;
  /** Removes the entries whose lease ran out (their node died), announcing the leaves. */
  sweep(key: StreamKey): Promise<void>;
  /**
   * How many members the stream has, and up to `limit` of them. Pages follow `cursor`; a member
   * that joins or leaves meanwhile may be missed or seen twice.
   */
  list(key: StreamKey, options: { limit: number; cursor?: string | undefined }): Promise<PresencePage>;
  /** Registers this node's listener for every stream's notices. Returns a function that removes it. */
  listen(listener: PresenceListener): () => void;
}

/**
 * Messages between nodes that are not events (not stored, no ids): a push to one connection,
 * disconnecting a user's connections. Delivered to every node, this one included, at most once.
 */
export interface SignalBus {
  send(message: string): Promise<void>;
  listen(listener: (message: string) => void): () => void;
}
