import type { StreamKey } from '@wirecall/core/internal';
import type { Logger } from '../logger.js';
import type { PresenceEntry, PresenceNotice, PresencePage, PresenceStore } from './presence-store.js';

/** A local connection that observes a stream's presence and gets its notices as ready frames. */
export interface PresenceObserver {
  presenceNotice(key: StreamKey, frame: string): void;
}

export interface PresenceTiming {
  /**
   * How long an entry lives without its node refreshing it: a node that dies takes its members
   * with it after this long (plus one sweep). Two heartbeat intervals.
   */
  leaseMs: number;
  /** How long a dropped connection stays present, so a client that comes back does not flicker. */
  graceMs: number;
}

/**
 * This node's side of presence: which local connections observe which streams (notices are framed
 * once and fanned out), which entries this node holds (their leases are refreshed while it lives),
 * and the sweeps that take dead nodes' members out.
 */
export class PresenceHub {
  readonly #store: PresenceStore;
  readonly #logger: Logger;
  readonly timing: PresenceTiming;
  readonly #observers = new Map<StreamKey, Set<PresenceObserver>>();
  /** Entries held by this node's live connections, per stream. */
  readonly #held = new Map<StreamKey, Set<string>>();
  /** Removals waiting out the grace period of dropped connections. */
  readonly #graceTimers = new Set<ReturnType<typeof setTimeout>>();
  readonly #stopListening: () => void;
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(store: PresenceStore, logger: Logger, timing: PresenceTiming) {
    this.#store = store;
    this.#logger = logger;
    this.timing = timing;
    this.#stopListening = store.listen((key, notice) => this.#announce(key, notice));
    // A quarter lease: entries are refreshed well before they run out, and a dead node's members
    // are swept out at most a quarter lease after theirs did.
    this.#timer = setInterval(() => this.#tick(), Math.max(1, Math.floor(timing.leaseMs / 4)));
    this.#timer.unref();
  }

  observe(key: StreamKey, observer: PresenceObserver): void {
    let observers = this.#observers.get(key);
    if (observers === undefined) {
      observers = new Set();
      this.#observers.set(key, observers);
    }
    observers.add(observer);
  }

  unobserve(key: StreamKey, observer: PresenceObserver): void {
    const observers = this.#observers.get(key);
    if (observers === undefined) return;
    observers.delete(observer);
    if (observers.size === 0) this.#observers.delete(key);
  }

  list(key: StreamKey, limit: number, cursor?: string): Promise<PresencePage> {
    return this.#store.list(key, { limit, cursor });
  }

  /** Joins (or updates) a local connection's entry; it is kept alive while this node lives. */
  async join(key: StreamKey, entry: PresenceEntry): Promise<void> {
    let held = this.#held.get(key);
    if (held === undefined) {
      held = new Set();
      this.#held.set(key, held);
    }
    held.add(entry.conn);
    await this.#store.set(key, entry, this.timing.leaseMs);
  }

  /** The connection left on purpose: its entry goes now. */
  async leave(key: StreamKey, conn: string): Promise<void> {
    this.#release(key, conn);
    await this.#store.remove(key, conn);
  }

  /**
   * The connection dropped: its entry stays for the grace period (a client that reconnects, to any
   * node, comes back as the same member without a leave and a join), then goes.
   */
  dropped(key: StreamKey, conn: string): void {
    this.#release(key, conn);
    const { graceMs } = this.timing;
    // The lease shrinks to the grace period too, so the entry goes even if this node dies first.
    this.#store.refresh(key, [conn], graceMs).catch((error: unknown) => this.#failed(error, key));
    const timer = setTimeout(() => {
      this.#graceTimers.delete(timer);
      this.#store.remove(key, conn).catch((error: unknown) => this.#failed(error, key));
    }, graceMs);
    timer.unref();
    this.#graceTimers.add(timer);
  }

  close(): void {
    clearInterval(this.#timer);
    this.#stopListening();
    for (const timer of this.#graceTimers) clearTimeout(timer);
    this.#graceTimers.clear();
  }

  #release(key: StreamKey, conn: string): void {
    const held = this.#held.get(key);
    if (held === undefined) return;
    held.delete(conn);
    if (held.size === 0) this.#held.delete(key);
  }

  #tick(): void {
    for (const [key, conns] of this.#held) {
      this.#store.refresh(key, [...conns], this.timing.leaseMs).catch((error: unknown) => this.#failed(error, key));
    }
    for (const key of this.#observers.keys()) {
      this.#store.sweep(key).catch((error: unknown) => this.#failed(error, key));
    }
  }

  #announce(key: StreamKey, notice: PresenceNotice): void {
    const observers = this.#observers.get(key);
    if (observers === undefined) return;
    const frame = presenceNoticeFrame(key, notice);
    for (const observer of observers) observer.presenceNotice(key, frame);
  }

  #failed(error: unknown, key: StreamKey): void {
    this.#logger.warn({ err: error, stream: key }, 'presence could not be kept up to date');
  }
}

/** The `presence` frame of one notice; the member's data is spliced in as the JSON it already is. */
function presenceNoticeFrame(key: StreamKey, { op, member, count, data }: PresenceNotice): string {
  const body = data === undefined ? '' : `,"d":${data}`;
  return `{"t":"presence","k":${JSON.stringify(key)},"op":"${op}","key":${JSON.stringify(member)},"c":${count}${body}}`;
}
