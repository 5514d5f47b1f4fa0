import type { StreamKey } from '@wirecall/core/internal';
import type {
  PresenceEntry,
  PresenceListener,
  PresenceNotice,
  PresencePage,
  PresenceStore,
  SignalBus,
} from './presence-store.js';

interface HeldEntry {
  member: string;
  expiresAt: number;
}

interface Member {
  connections: number;
  data: string;
}

/** One stream's presence: entries by connection, members by key (in the order they joined). */
interface Room {
  entries: Map<string, HeldEntry>;
  members: Map<string, Member>;
}

/** Presence for one process (the memory broker's): the same rules as Redis, in two Maps per stream. */
export class MemoryPresence implements PresenceStore {
  readonly #rooms = new Map<StreamKey, Room>();
  readonly #listeners = new Set<PresenceListener>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  set(key: StreamKey, { conn, member, data }: PresenceEntry, leaseMs: number): Promise<void> {
    let room = this.#rooms.get(key);
    if (room === undefined) {
      room = { entries: new Map(), members: new Map() };
      this.#rooms.set(key, room);
    }
    const expiresAt = this.#now() + leaseMs;
    // A connection's member never changes (its identity is fixed when it connects).
    const entry = room.entries.get(conn);
    if (entry !== undefined) {
      entry.expiresAt = expiresAt;
    } else {
      room.entries.set(conn, { member, expiresAt });
    }
    const known = room.members.get(member);
    if (known === undefined) {
      room.members.set(member, { connections: 1, data });
      this.#announce(key, { op: 'join', member, count: room.members.size, data });
      return Promise.resolve();
    }
    if (entry === undefined) known.connections++;
    if (known.data !== data) {
      known.data = data;
      this.#announce(key, { op: 'update', member, count: room.members.size, data });
    }
    return Promise.resolve();
  }

  refresh(key: StreamKey, conns: readonly string[], leaseMs: number): Promise<void> {
    const room = this.#rooms.get(key);
    const expiresAt = this.#now() + leaseMs;
    for (const conn of conns) {
      const entry = room?.entries.get(conn);
      if (entry !== undefined) entry.expiresAt = expiresAt;
    }
    return Promise.resolve();
  }

  remove(key: StreamKey, conn: string): Promise<void> {
    const room = this.#rooms.get(key);
    if (room !== undefined) this.#drop(key, room, conn);
    return Promise.resolve();
  }

  sweep(key: StreamKey): Promise<void> {
    const room = this.#rooms.get(key);
    if (room === undefined) return Promise.resolve();
    const now = this.#now();
    for (const [conn, entry] of [...room.entries]) if (entry.expiresAt <= now) this.#drop(key, room, conn);
    return Promise.resolve();
  }

  async list(key: StreamKey, { limit, cursor }: { limit: number; cursor?: string | undefined }): Promise<PresencePage> {
    await this.sweep(key);
    const room = this.#rooms.get(key);
    if (room === undefined) return { count: 0, members: [] };
    // The cursor is the position in join order; members that leave meanwhile shift it (documented).
    // A cursor that is not one of ours starts over.
    const parsed = cursor === undefined ? 0 : Number(cursor);
    const start = Number.isSafeInteger(parsed) && parsed > 0 ? parsed : 0;
    const members: PresencePage['members'] = [];
    let index = 0;
    for (const [member, { connections, data }] of room.members) {
      if (index++ < start) continue;
      if (members.length === limit) break;
      members.push({ key: member, connections, data });
    }
    const next = start + members.length;
    return next < room.members.size
      ? { count: room.members.size, members, cursor: String(next) }
      : { count: room.members.size, members };
  }

  listen(listener: PresenceListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  clear(): void {
    this.#rooms.clear();
    this.#listeners.clear();
  }

  #drop(key: StreamKey, room: Room, conn: string): void {
    const entry = room.entries.get(conn);
    if (entry === undefined) return;
    room.entries.delete(conn);
    const member = room.members.get(entry.member);
    if (member !== undefined && --member.connections <= 0) {
      room.members.delete(entry.member);
      this.#announce(key, { op: 'leave', member: entry.member, count: room.members.size });
    }
    if (room.entries.size === 0) this.#rooms.delete(key);
  }

  #announce(key: StreamKey, notice: PresenceNotice): void {
    // One failing listener must not keep the notice from the others.
    for (const listener of this.#listeners) {
      try {
        listener(key, notice);
      } catch {
        // the server's listener guards itself and logs; nothing else listens
      }
    }
  }
}

/** Signals for one process: delivered to every listener at once. */
export class MemorySignals implements SignalBus {
  readonly #listeners = new Set<(message: string) => void>();

  send(message: string): Promise<void> {
    for (const listener of this.#listeners) {
      try {
        listener(message);
      } catch {
        // as above: the server's listener guards itself
      }
    }
    return Promise.resolve();
  }

  listen(listener: (message: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  clear(): void {
    this.#listeners.clear();
  }
}
