import type { StreamKey } from '@wirecall/core/internal';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import {
  dropEntry,
  emptyRoom,
  pageOf,
  refreshEntries,
  roomFromJson,
  roomToJson,
  setEntry,
  sweepRoom,
  type Room,
} from '../presence/presence-room.js';
import type {
  PresenceEntry,
  PresenceListener,
  PresenceNotice,
  PresencePage,
  PresenceStore,
} from '../presence/presence-store.js';
import { kvBucket } from './nats-bucket.js';

/** Changes tried again when another node changed the room between our read and our write. */
const MAX_ATTEMPTS = 20;
/** A room's key outlives its last write by this long (a deployment that died leaves none for good). */
const ROOM_TTL_MS = 10 * 60_000;

/**
 * Presence on NATS: each stream's room (presence-room.ts) is one value in a KV bucket
 * (`WIRECALL_<PREFIX>_PRESENCE`), changed by compare-and-set on its revision, so concurrent nodes
 * never lose each other's changes; the notices a change makes go to every node on
 * `<prefix>.presence`. Every change rewrites the stream's room: fine for rooms of hundreds of
 * connections; for rooms of many thousands, the Redis broker's per-entry keys scale further.
 */
export class NatsPresence implements PresenceStore {
  readonly #connection: Promise<NatsConnection>;
  readonly #bucket: Promise<KV>;
  readonly #subject: string;
  readonly #listeners = new Set<PresenceListener>();
  /** Per stream, the last change this node queued: its changes of one room run one at a time. */
  readonly #queues = new Map<StreamKey, Promise<void>>();
  #subscription: Subscription | undefined;

  constructor(
    connection: Promise<NatsConnection>,
    js: Promise<JetStreamClient>,
    names: { bucket: string; subject: string },
  ) {
    this.#connection = connection;
    this.#subject = names.subject;
    this.#bucket = js.then((client) => kvBucket(client, names.bucket, { ttl: ROOM_TTL_MS, history: 1 }));
    this.#bucket.catch(() => {}); // reported by the calls that need it
  }

  /** Subscribes this node to the notices; resolves once notices sent afterwards reach it. */
  async start(): Promise<void> {
    const nc = await this.#connection;
    this.#subscription = nc.subscribe(this.#subject, {
      callback: (error, message) => {
        if (error) return;
        const { k, ...notice } = message.json<PresenceNotice & { k: StreamKey }>();
        // A throwing listener must not end the subscription, nor keep the notice from the others.
        for (const listener of this.#listeners) {
          try {
            listener(k, notice);
          } catch {
            // the server's listener guards itself and logs; nothing else listens
          }
        }
      },
    });
    await nc.flush();
  }

  async set(key: StreamKey, entry: PresenceEntry, leaseMs: number): Promise<void> {
    await this.#change(key, (room) => [setEntry(room, entry, Date.now() + leaseMs)]);
  }

  async refresh(key: StreamKey, conns: readonly string[], leaseMs: number): Promise<void> {
    await this.#change(key, (room) => {
      refreshEntries(room, conns, Date.now() + leaseMs);
      return [];
    });
  }

  async remove(key: StreamKey, conn: string): Promise<void> {
    await this.#change(key, (room) => [dropEntry(room, conn)]);
  }

  async sweep(key: StreamKey): Promise<void> {
    await this.#change(key, (room) => sweepRoom(room, Date.now()));
  }

  async list(key: StreamKey, { limit, cursor }: { limit: number; cursor?: string | undefined }): Promise<PresencePage> {
    await this.sweep(key);
    const entry = await (await this.#bucket).get(nameOf(key));
    if (entry === null || entry.operation !== 'PUT') return { count: 0, members: [] };
    return pageOf(roomFromJson(entry.string()), limit, cursor);
  }

  listen(listener: PresenceListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): void {
    this.#listeners.clear();
    this.#subscription?.unsubscribe();
  }

  /**
   * Queues a change of the stream's room behind this node's earlier ones (they would only collide
   * with each other); other nodes' changes are met by compare-and-set.
   */
  #change(key: StreamKey, change: (room: Room) => (PresenceNotice | undefined)[]): Promise<void> {
    const queued = (this.#queues.get(key) ?? Promise.resolve()).then(() => this.#apply(key, change));
    const settled = queued.catch(() => {});
    this.#queues.set(key, settled);
    void settled.then(() => {
      if (this.#queues.get(key) === settled) this.#queues.delete(key);
    });
    return queued;
  }

  /**
   * Reads the stream's room, applies `change`, and writes it back if nobody wrote in between (else
   * again, after a short random pause); then announces what the change made. A room left empty is
   * deleted.
   */
  async #apply(key: StreamKey, change: (room: Room) => (PresenceNotice | undefined)[]): Promise<void> {
    const kv = await this.#bucket;
    const name = nameOf(key);
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const stored = await kv.get(name);
      const exists = stored !== null && stored.operation === 'PUT';
      const room = exists ? roomFromJson(stored.string()) : emptyRoom();
      const notices = change(room).filter((notice) => notice !== undefined);
      try {
        if (room.entries.size === 0) {
          if (exists) await kv.delete(name, { previousSeq: stored.revision });
        } else if (exists) await kv.update(name, roomToJson(room), stored.revision);
        else await kv.create(name, roomToJson(room));
      } catch {
        // Another node changed the room: apply the change to what it wrote, after a pause that
        // keeps two nodes from colliding again in lockstep.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
        continue;
      }
      // Announced in the order of the changes: the NATS server has them before the next change starts.
      const nc = await this.#connection;
      for (const notice of notices) nc.publish(this.#subject, JSON.stringify({ k: key, ...notice }));
      if (notices.length > 0) await nc.flush();
      return;
    }
    throw new Error(`presence of ${key} changed by other nodes ${MAX_ATTEMPTS} times in a row`);
  }
}

/** A KV key for a stream key: its base64url form (KV keys take a narrow alphabet). */
function nameOf(key: StreamKey): string {
  return Buffer.from(key).toString('base64url');
}
