import type { StreamKey } from '@wirecall/core/internal';
import type {
  PresenceEntry,
  PresenceListener,
  PresenceNotice,
  PresencePage,
  PresenceStore,
  SignalBus,
} from './presence-store.js';
import { dropEntry, emptyRoom, pageOf, refreshEntries, setEntry, sweepRoom, type Room } from './presence-room.js';

/** Presence for one process (the memory broker's): the rules of presence-room.ts, a room per stream. */
export class MemoryPresence implements PresenceStore {
  readonly #rooms = new Map<StreamKey, Room>();
  readonly #listeners = new Set<PresenceListener>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  set(key: StreamKey, entry: PresenceEntry, leaseMs: number): Promise<void> {
    let room = this.#rooms.get(key);
    if (room === undefined) this.#rooms.set(key, (room = emptyRoom()));
    this.#announce(key, setEntry(room, entry, this.#now() + leaseMs));
    return Promise.resolve();
  }

  refresh(key: StreamKey, conns: readonly string[], leaseMs: number): Promise<void> {
    const room = this.#rooms.get(key);
    if (room !== undefined) refreshEntries(room, conns, this.#now() + leaseMs);
    return Promise.resolve();
  }

  remove(key: StreamKey, conn: string): Promise<void> {
    const room = this.#rooms.get(key);
    if (room === undefined) return Promise.resolve();
    this.#announce(key, dropEntry(room, conn));
    if (room.entries.size === 0) this.#rooms.delete(key);
    return Promise.resolve();
  }

  sweep(key: StreamKey): Promise<void> {
    const room = this.#rooms.get(key);
    if (room === undefined) return Promise.resolve();
    for (const notice of sweepRoom(room, this.#now())) this.#announce(key, notice);
    if (room.entries.size === 0) this.#rooms.delete(key);
    return Promise.resolve();
  }

  async list(key: StreamKey, { limit, cursor }: { limit: number; cursor?: string | undefined }): Promise<PresencePage> {
    await this.sweep(key);
    const room = this.#rooms.get(key);
    return room === undefined ? { count: 0, members: [] } : pageOf(room, limit, cursor);
  }

  listen(listener: PresenceListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  clear(): void {
    this.#rooms.clear();
    this.#listeners.clear();
  }

  #announce(key: StreamKey, notice: PresenceNotice | undefined): void {
    if (notice === undefined) return;
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
