import type { StreamKey, WireValue } from '@wirecall/core/internal';
import { Redis, type RedisOptions } from 'ioredis';
import { RedisPresence, RedisSignals } from '../presence/redis-presence.js';
import type { Broker, BrokerEvent, BrokerGapListener, BrokerListener, BrokerStatus, ReplayResult } from './broker.js';
import { SERVER_DEFAULTS } from '../options.js';
import type { HistoryOptions } from './memory-broker.js';
import { compareStreamIds, parseStreamId, type StreamId } from './stream-id.js';

export interface RedisBrokerOptions {
  /** `redis://host:port/db`; ignored when `client` is given. @default process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' */
  url?: string;
  /**
   * An existing ioredis client for commands. The broker duplicates it for its subscription (a
   * subscribed connection cannot run commands) and never closes a client it did not create.
   */
  client?: Redis;
  /** Prefix of every key and channel, so several apps can share one Redis. @default 'wirecall' */
  prefix?: string;
  /** Recent events kept per stream (Redis Streams, trimmed by length and age). */
  history?: HistoryOptions;
  /** Extra ioredis options for connections the broker creates. */
  redisOptions?: RedisOptions;
}

/** Events replayed at most per resume; older ones count as a gap. */
const MAX_REPLAY = 10_000;
/** How long catching up waits for the command connection before giving up (and retrying later). */
const CATCH_UP_WAIT_MS = 10_000;
const CATCH_UP_RETRY_MS = 1_000;
/** Streams whose last id a node remembers, to catch up after its subscription dropped. */
const MAX_TRACKED_STREAMS = 10_000;

/**
 * Appends to the stream, trims it, refreshes its expiry and announces the event to every node, in
 * one atomic step: the order of ids is the order in which nodes hear of events.
 * KEYS[1] stream; ARGV: maxlen, data, expiry ms, channel, stream key.
 */
const PUBLISH_SCRIPT = `
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'd', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PUBLISH', ARGV[4], id .. '\\n' .. ARGV[5] .. '\\n' .. ARGV[2])
return id
`;

type StreamEntry = [id: string, fields: string[]];

/**
 * A broker for many server nodes on one Redis: each event is appended to a Redis Stream (its id and
 * history shared by every node) and announced on one Pub/Sub channel that every node listens to.
 * A client that reconnects to another node resumes from the same shared history.
 *
 * While Redis is unreachable, `publish` rejects at once (no silent queueing): the emitter learns
 * that the event was not delivered. When the subscription comes back, the node catches up on the
 * streams it was following from their history.
 */
export class RedisBroker implements Broker {
  readonly #commands: Redis;
  readonly #subscriber: Redis;
  readonly #ownsCommands: boolean;
  readonly #prefix: string;
  readonly #channel: string;
  readonly #maxEvents: number;
  readonly #maxAgeMs: number;
  readonly #listeners = new Set<BrokerListener>();
  readonly #statusListeners = new Set<(status: BrokerStatus) => void>();
  readonly #gapListeners = new Set<BrokerGapListener>();
  /** Last id this node heard per stream, oldest first, for catching up after a drop. */
  readonly #lastSeen = new Map<StreamKey, string>();
  readonly #subscribed: Promise<void>;
  #markSubscribed: () => void = () => {};
  /** Set once the subscription has been lost: the next one must catch up from history. */
  #missedSome = false;
  /** Live messages held while catching up, so history and live are delivered in id order. */
  #held: BrokerEvent[] | undefined;
  #closed = false;
  #subscribing = false;
  #subscribeAgain = false;
  /** Who is in which stream, shared by every node of the prefix (see redis-presence.ts). */
  readonly presence: RedisPresence;
  /** Messages between the nodes of the prefix, on their own channel. */
  readonly signals: RedisSignals;

  constructor(options: RedisBrokerOptions = {}) {
    const redisOptions: RedisOptions = {
      // Fail commands at once while disconnected: an emit must not hang or be queued silently.
      enableOfflineQueue: false,
      // Commands in flight when the connection drops are rejected at once: never left pending, and
      // never sent again after a reconnect, since a publish may already have been executed and a
      // re-sent one would publish the event twice under a new id. (ioredis otherwise drops them
      // unanswered when autoResend is off, so both settings are needed.)
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      ...options.redisOptions,
    };
    this.#ownsCommands = options.client === undefined;
    this.#commands =
      options.client ?? new Redis(options.url ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', redisOptions);
    // The subscription is re-established by hand (not by ioredis) so that catching up from history
    // happens strictly after the channel is subscribed again: nothing falls between the two.
    this.#subscriber = this.#commands.duplicate({ ...redisOptions, enableOfflineQueue: true, autoResubscribe: false });
    this.#prefix = options.prefix ?? 'wirecall';
    this.#channel = `${this.#prefix}:events`;
    this.#maxEvents = Math.max(1, options.history?.maxEvents ?? SERVER_DEFAULTS.history.maxEvents);
    this.#maxAgeMs = options.history?.maxAgeMs ?? SERVER_DEFAULTS.history.maxAgeMs;
    this.#commands.defineCommand('wirecallPublish', { numberOfKeys: 1, lua: PUBLISH_SCRIPT });
    this.presence = new RedisPresence(this.#commands, this.#prefix);
    this.signals = new RedisSignals(this.#commands, this.#prefix);
    // ioredis reports errors as events; without listeners they would be thrown (and logged twice).
    this.#commands.on('error', (error: Error) => this.#report({ connected: this.connected, error }));
    this.#subscriber.on('error', (error: Error) => this.#report({ connected: this.connected, error }));
    this.#subscriber.on('message', (channel: string, message: string) => this.#onMessage(channel, message));
    this.#subscriber.on('close', () => {
      // Hold live events from the moment the subscription is lost: whatever re-subscribes, nothing
      // is delivered until history has been read up to it.
      this.#missedSome = true;
      this.#held ??= [];
      this.#report({ connected: false });
    });
    this.#subscriber.on('ready', () => void this.#subscribe());
    this.#commands.on('close', () => this.#report({ connected: false }));
    this.#commands.on('ready', () => this.#report({ connected: this.connected }));
    this.#subscribed = new Promise((resolve) => (this.#markSubscribed = resolve));
  }

  /** Both connections (commands and subscription) are up. */
  get connected(): boolean {
    return this.#commands.status === 'ready' && this.#subscriber.status === 'ready';
  }

  /**
   * Resolves once the subscription is in place (events, presence notices and signals published
   * after this reach this node).
   */
  ready(): Promise<void> {
    return this.#subscribed;
  }

  /** Stream ids sort by time, then sequence; ids from elsewhere sort first. */
  compareIds(a: string, b: string): number {
    const left = parseStreamId(a);
    const right = parseStreamId(b);
    if (left === undefined || right === undefined) return left === right ? 0 : left === undefined ? -1 : 1;
    return compareStreamIds(left, right);
  }

  async publish(key: StreamKey, value: WireValue): Promise<string> {
    const data = JSON.stringify(value);
    const expiryMs = Math.max(this.#maxAgeMs, 1_000);
    const run = (this.#commands as unknown as Record<string, (...args: unknown[]) => Promise<string>>)[
      'wirecallPublish'
    ]!;
    return run.call(this.#commands, this.#streamName(key), this.#maxEvents, data, expiryMs, this.#channel, key);
  }

  listen(listener: BrokerListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  onStatus(listener: (status: BrokerStatus) => void): () => void {
    this.#statusListeners.add(listener);
    return () => this.#statusListeners.delete(listener);
  }

  onGap(listener: BrokerGapListener): () => void {
    this.#gapListeners.add(listener);
    return () => this.#gapListeners.delete(listener);
  }

  async replay(key: StreamKey, afterId: string): Promise<ReplayResult> {
    const stream = this.#streamName(key);
    const info = await this.#info(stream);
    const after = parseStreamId(afterId);
    if (info === undefined) {
      // Resuming from the beginning of a stream that has no events yet: nothing was missed.
      if (afterId === '0-0') return { events: [], gap: false };
      // No stream: its history expired or Redis lost it. Start over from the beginning.
      return { events: [], gap: true, resumeFrom: '0-0' };
    }
    const start = after === undefined ? '-' : `(${afterId}`;
    const entries = (await this.#commands.xrange(stream, start, '+', 'COUNT', MAX_REPLAY)) as StreamEntry[];
    const oldestKept = parseStreamId(`${Date.now() - this.#maxAgeMs}-0`)!;
    const events: BrokerEvent[] = [];
    let skippedOld = false;
    for (const [id, fields] of entries) {
      const parsed = parseStreamId(id);
      if (parsed && compareStreamIds(parsed, oldestKept) < 0) {
        skippedOld = true;
        continue;
      }
      const event = this.#toEvent(key, id, fields);
      if (event) events.push(event);
    }
    // Past `after`, something was deleted, or trimmed: the oldest kept entry is newer than `after`,
    // so `after` itself is gone and whatever followed it may be too (reported, to be safe).
    const trimmedPastAfter =
      after === undefined ||
      compareStreamIds(info.maxDeleted, after) > 0 ||
      (info.firstKept !== undefined && compareStreamIds(info.firstKept, after) > 0);
    const gap = trimmedPastAfter || skippedOld || entries.length === MAX_REPLAY;
    if (!gap) return { events, gap };
    const resumeFrom = events.length > 0 ? this.#before(events[0]!.id, info.maxDeleted) : info.lastGenerated;
    return { events, gap, resumeFrom };
  }

  async lastId(key: StreamKey): Promise<string | undefined> {
    const info = await this.#info(this.#streamName(key));
    // A stream without events still has a position (its beginning), so a client that drops before
    // the first event resumes from there and misses nothing.
    return info?.lastGenerated ?? '0-0';
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
    this.#statusListeners.clear();
    this.#gapListeners.clear();
    this.presence.clear();
    this.signals.clear();
    this.#subscriber.disconnect();
    if (this.#ownsCommands) this.#commands.disconnect();
    return Promise.resolve();
  }

  #streamName(key: StreamKey): string {
    return `${this.#prefix}:stream:${key}`;
  }

  /** The position just before `id`: the newest trimmed id if it is older, else `id` itself minus one. */
  #before(id: string, maxDeleted: StreamId): string {
    const parsed = parseStreamId(id);
    if (parsed === undefined) return `${maxDeleted.ms}-${maxDeleted.seq}`;
    if (parsed.seq > 0n) return `${parsed.ms}-${parsed.seq - 1n}`;
    return `${parsed.ms - 1n}-18446744073709551615`;
  }

  async #info(
    stream: string,
  ): Promise<{ lastGenerated: string; maxDeleted: StreamId; firstKept: StreamId | undefined } | undefined> {
    let raw: unknown[];
    try {
      raw = (await this.#commands.xinfo('STREAM', stream)) as unknown[];
    } catch (error) {
      if (error instanceof Error && /no such key/i.test(error.message)) return undefined;
      throw error;
    }
    const fields = new Map<string, unknown>();
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i];
      if (typeof name === 'string') fields.set(name, raw[i + 1]);
    }
    const text = (name: string): string | undefined => {
      const value = fields.get(name);
      return typeof value === 'string' ? value : undefined;
    };
    const lastGenerated = text('last-generated-id') ?? '0-0';
    // Deleted with XDEL; trimming (MAXLEN) does not move it, so the oldest kept entry tells that.
    const maxDeleted = parseStreamId(text('max-deleted-entry-id') ?? '0-0') ?? { ms: 0n, seq: 0n };
    // The oldest kept entry, when entries were ever removed (Redis 7 counts them: entries-added
    // above length; older servers do not say, and the oldest entry is taken as is).
    const added = Number(fields.get('entries-added'));
    const removedSome = !(added === Number(fields.get('length')));
    const firstEntry = fields.get('first-entry');
    const firstKept = removedSome && Array.isArray(firstEntry) ? parseStreamId(String(firstEntry[0])) : undefined;
    return { lastGenerated, maxDeleted, firstKept };
  }

  #toEvent(key: StreamKey, id: string, fields: string[]): BrokerEvent | undefined {
    const index = fields.indexOf('d');
    const data = index === -1 ? undefined : fields[index + 1];
    if (data === undefined) return undefined;
    return { key, id, value: JSON.parse(data) as WireValue };
  }

  #onMessage(channel: string, message: string): void {
    // Presence notices and signals are not history: delivered as they come (never held for a
    // catch-up), and those published while the subscription was down are missed for good.
    if (channel === this.presence.channel) return this.presence.receive(message);
    if (channel === this.signals.channel) return this.signals.receive(message);
    if (channel !== this.#channel) return;
    const firstBreak = message.indexOf('\n');
    const secondBreak = message.indexOf('\n', firstBreak + 1);
    if (firstBreak === -1 || secondBreak === -1) return;
    const id = message.slice(0, firstBreak);
    const key = message.slice(firstBreak + 1, secondBreak);
    let value: WireValue;
    try {
      value = JSON.parse(message.slice(secondBreak + 1)) as WireValue;
    } catch {
      return; // not ours: someone else published on the channel
    }
    const event = { key, id, value };
    if (this.#held) this.#held.push(event);
    else this.#deliver(event);
  }

  /** Hands an event to this node once: an id at or below the last one delivered is a repeat. */
  #deliver(event: BrokerEvent): void {
    const last = this.#lastSeen.get(event.key);
    if (last !== undefined && this.compareIds(event.id, last) <= 0) return;
    this.#lastSeen.delete(event.key);
    this.#lastSeen.set(event.key, event.id);
    if (this.#lastSeen.size > MAX_TRACKED_STREAMS) {
      const oldest = this.#lastSeen.keys().next().value;
      if (oldest !== undefined) this.#lastSeen.delete(oldest);
    }
    for (const listener of this.#listeners) listener(event);
  }

  /**
   * (Re)subscribes to the channels (events, presence notices, signals). After a drop, live events
   * are held while the streams this node follows are read from history after their last delivered
   * id; then the held ones follow, each event delivered once and in id order.
   */
  async #subscribe(): Promise<void> {
    // One (re)subscription at a time: two overlapping catch-ups would deliver live events between
    // older ones from history, and the older ones would then be dropped as already seen.
    if (this.#subscribing) {
      this.#subscribeAgain = true;
      return;
    }
    this.#subscribing = true;
    try {
      let done = false;
      while (!done && !this.#closed) {
        this.#subscribeAgain = false;
        done = (await this.#subscribeOnce()) && !this.#subscribeAgain;
      }
    } finally {
      this.#subscribing = false;
    }
  }

  /**
   * One attempt: subscribe, and whenever live events are being held (something may have been
   * missed), catch up from history first; then release what was held. Held events are released
   * only after a catch-up that followed the latest subscribe, whatever path led here.
   */
  async #subscribeOnce(): Promise<boolean> {
    if (this.#missedSome) this.#held ??= [];
    this.#missedSome = false;
    try {
      // All three channels in one SUBSCRIBE, on every (re)subscription: ioredis does not resubscribe.
      await this.#subscriber.subscribe(this.#channel, this.presence.channel, this.signals.channel);
      this.#markSubscribed();
      if (this.#held) await this.#catchUp();
    } catch (error) {
      this.#report({ connected: this.connected, error: error as Error });
      // Keep holding live events and try again: a reconnect lands here too, whichever comes first.
      this.#missedSome = true;
      this.#held ??= [];
      if (!this.#closed) setTimeout(() => void this.#subscribe(), CATCH_UP_RETRY_MS).unref();
      return true; // this attempt is over; the timer or the reconnect starts the next one
    }
    // The subscription dropped again meanwhile: keep holding, the next round catches up first.
    if (this.#subscribeAgain || this.#missedSome) return false;
    const held = this.#held ?? [];
    this.#held = undefined;
    for (const event of held) this.#deliver(event);
    this.#report({ connected: this.connected });
    return true;
  }

  /** Delivers, from history, what was published while the subscription was down. */
  async #catchUp(): Promise<void> {
    await this.#commandsReady();
    for (const [key, lastId] of [...this.#lastSeen]) {
      // A stream that is gone (Redis restarted empty, or it expired) has nothing to catch up on.
      if ((await this.#info(this.#streamName(key))) === undefined) continue;
      const { events, gap, resumeFrom } = await this.replay(key, lastId);
      // History was trimmed past what this node last saw (the outage outlasted it): say so, so
      // subscribers refetch, instead of going on as if nothing had been missed.
      if (gap) {
        if (resumeFrom !== undefined) this.#lastSeen.set(key, resumeFrom);
        for (const listener of this.#gapListeners) listener(key, resumeFrom);
      }
      for (const event of events) this.#deliver(event);
    }
  }

  /** Waits (bounded) for the command connection, which reconnects on its own schedule. */
  #commandsReady(): Promise<void> {
    if (this.#commands.status === 'ready') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#commands.off('ready', onReady);
        reject(new Error('the Redis command connection did not come back in time'));
      }, CATCH_UP_WAIT_MS);
      const onReady = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.#commands.once('ready', onReady);
    });
  }

  #report(status: BrokerStatus): void {
    for (const listener of this.#statusListeners) listener(status);
  }
}

/**
 * The Redis broker, for several server nodes sharing events and history.
 *
 * @example
 * import { redisBroker } from '@wirecall/server/redis';
 * const server = createServer(api, { handlers, broker: redisBroker({ url: process.env.REDIS_URL }) });
 */
export function redisBroker(options: RedisBrokerOptions = {}): RedisBroker {
  return new RedisBroker(options);
}
