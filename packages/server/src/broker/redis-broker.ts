import type { StreamKey, WireValue } from '@wirecall/core/internal';
import {
  Cluster,
  Redis,
  type ChainableCommander,
  type ClusterNode,
  type ClusterOptions,
  type RedisOptions,
} from 'ioredis';
import { RedisPresence, RedisSignals } from '../presence/redis-presence.js';
import type {
  Broker,
  BrokerEvent,
  BrokerGapListener,
  BrokerListener,
  BrokerStatus,
  BrokerTraffic,
  ReplayResult,
} from './broker.js';
import { RedisIdempotency, type SharedIdempotencyOptions } from './redis-idempotency.js';
import { RedisNames } from './redis-names.js';
import { SERVER_DEFAULTS } from '../options.js';
import type { HistoryOptions } from './memory-broker.js';
import { compareStreamIds, parseStreamId, type StreamId } from './stream-id.js';

export interface RedisBrokerOptions {
  /** `redis://host:port/db`; ignored when `client` or `cluster` is given. @default process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' */
  url?: string;
  /**
   * An existing ioredis client (`Redis`, or `Cluster` for a Redis Cluster) for commands. The broker
   * duplicates it for its subscriptions (a subscribed connection cannot run commands) and never
   * closes a client it did not create.
   */
  client?: Redis | Cluster;
  /**
   * A Redis Cluster to connect to: its startup nodes and ioredis cluster options. Streams spread
   * over the shards by their key, and each node subscribes only on the shards of the streams it
   * follows (sharded Pub/Sub).
   */
  cluster?: { nodes: ClusterNode[]; options?: ClusterOptions };
  /** Prefix of every key and channel, so several apps can share one Redis; no braces. @default 'wirecall' */
  prefix?: string;
  /** Recent events kept per stream (Redis Streams, trimmed by length and age). */
  history?: HistoryOptions;
  /** Extra ioredis options for connections the broker creates (each cluster node's, for a cluster). */
  redisOptions?: RedisOptions;
  /** The leases of idempotency keys shared by the nodes (a retried call runs once, on any node). */
  idempotency?: SharedIdempotencyOptions;
  /**
   * Resolve a publish only once this many replicas hold the event (`WAIT`), so an event the emitter
   * was told about survives a primary's failover; a publish that reaches fewer within `timeoutMs`
   * rejects (it was announced, and may or may not survive). Redis replicates asynchronously:
   * without it, an event acknowledged just before a primary dies may be lost. @default none
   */
  durability?: { replicas: number; timeoutMs?: number };
}

/** Events replayed at most per resume; older ones count as a gap. */
const MAX_REPLAY = 10_000;
/** How long catching up waits for the command connection before giving up (and retrying later). */
const CATCH_UP_WAIT_MS = 10_000;
const CATCH_UP_RETRY_MS = 1_000;
/** Sharded channels subscribed again per command after a reconnect (a standalone Redis takes any mix). */
const RESUBSCRIBE_BATCH = 1_000;

/**
 * Appends to the stream, trims it, refreshes its expiry and announces the event on the stream's
 * own sharded channel, in one atomic step: the order of ids is the order in which nodes hear of
 * events. The announcement names the previous event's id too, so a node that missed one (a dropped
 * subscription, a failover) sees the hole at the next event and reads it from history.
 * KEYS[1] stream; ARGV: maxlen, data, expiry ms, channel, the publish command (see `#sharded`).
 */
const PUBLISH_SCRIPT = `
local previous = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'd', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call(ARGV[5], ARGV[4], id .. '\\n' .. (previous and previous[1] or '') .. '\\n' .. ARGV[2])
return id
`;

type StreamEntry = [id: string, fields: string[]];

/** The broker's script, as ioredis adds it to a connection (answered) and to its pipelines (queued). */
interface Scripts {
  wirecallPublish(...args: unknown[]): Promise<unknown>;
}
interface PipelineScripts {
  wirecallPublish(...args: unknown[]): ChainableCommander;
}

/** A live announcement: the event and the id of the one before it in its stream ('' for none). */
interface Announced extends BrokerEvent {
  previous: string;
}

/**
 * A broker for many server nodes on Redis 7 or later, standalone or a Redis Cluster. Each event is
 * appended to a Redis Stream (its id and history shared by every node) and announced on a sharded
 * Pub/Sub channel of its own; a node subscribes to the channels of the streams its connections
 * follow, and hears nothing of the others (interest routing). A client that reconnects to another
 * node resumes from the same shared history.
 *
 * While Redis is unreachable, `publish` rejects at once (no silent queueing): the emitter learns
 * that the event was not delivered. When the subscription comes back, the node catches up on the
 * streams it follows from their history; and any event that names a predecessor this node never
 * got makes it read the missing ones from history first (or report a gap when history lost them).
 */
export class RedisBroker implements Broker {
  readonly #commands: Redis | Cluster;
  readonly #subscriber: Redis | Cluster;
  readonly #ownsCommands: boolean;
  /**
   * A cluster announces on sharded channels (`SPUBLISH`/`SSUBSCRIBE`: each on its stream's shard);
   * a standalone Redis on plain ones, which there mean the same, while ioredis cannot keep both
   * kinds on one subscribed connection (an `SUNSUBSCRIBE` reply counts only the sharded ones).
   */
  readonly #sharded: boolean;
  readonly #names: RedisNames;
  readonly #maxEvents: number;
  readonly #maxAgeMs: number;
  readonly #durability: { replicas: number; timeoutMs: number } | undefined;
  readonly #listeners = new Set<BrokerListener>();
  readonly #statusListeners = new Set<(status: BrokerStatus) => void>();
  readonly #gapListeners = new Set<BrokerGapListener>();
  /** The streams this node's connections subscribe to: their channels are subscribed. */
  readonly #followed = new Set<StreamKey>();
  /** Last id this node delivered per followed stream, for catching up after a drop. */
  readonly #lastSeen = new Map<StreamKey, string>();
  /** Streams being repaired from history after a hole: their live events wait here meanwhile. */
  readonly #repairing = new Map<StreamKey, Announced[]>();
  readonly #subscribed: Promise<void>;
  #markSubscribed: () => void = () => {};
  /** Set once the subscription has been lost: the next one must catch up from history. */
  #missedSome = false;
  /** Live messages held while catching up, so history and live are delivered in id order. */
  #held: Announced[] | undefined;
  #closed = false;
  #subscribing = false;
  #subscribeAgain = false;
  #receivedEvents = 0;
  #receivedBytes = 0;
  /** Who is in which stream, shared by every node of the prefix (see redis-presence.ts). */
  readonly presence: RedisPresence;
  /** Messages between the nodes of the prefix, on their own channel. */
  readonly signals: RedisSignals;
  /** Idempotency keys of the prefix: a retried call runs once, whichever node it lands on. */
  readonly idempotency: RedisIdempotency;

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
      options.client ??
      (options.cluster === undefined
        ? new Redis(options.url ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', redisOptions)
        : new Cluster(options.cluster.nodes, {
            enableOfflineQueue: false,
            ...options.cluster.options,
            redisOptions: { ...redisOptions, ...options.cluster.options?.redisOptions },
          }));
    // The subscription is re-established by hand on a standalone Redis (not by ioredis) so that
    // catching up from history happens strictly after the channels are subscribed again: nothing
    // falls between the two. A cluster's shards are subscribed by ioredis (one connection per
    // primary, following failovers); the previous-id check covers what a failover drops.
    this.#subscriber =
      this.#commands instanceof Cluster
        ? this.#commands.duplicate([], { enableOfflineQueue: true, shardedSubscribers: true })
        : this.#commands.duplicate({ ...redisOptions, enableOfflineQueue: true, autoResubscribe: false });
    this.#sharded = this.#commands instanceof Cluster;
    this.#names = new RedisNames(options.prefix ?? 'wirecall');
    this.#maxEvents = Math.max(1, options.history?.maxEvents ?? SERVER_DEFAULTS.history.maxEvents);
    this.#maxAgeMs = options.history?.maxAgeMs ?? SERVER_DEFAULTS.history.maxAgeMs;
    this.#durability = options.durability && { timeoutMs: 1_000, ...options.durability };
    this.#commands.defineCommand('wirecallPublish', { numberOfKeys: 1, lua: PUBLISH_SCRIPT });
    this.presence = new RedisPresence(this.#commands, this.#names.prefix);
    this.signals = new RedisSignals(this.#commands, this.#names.prefix);
    this.idempotency = new RedisIdempotency(this.#commands, this.#names.prefix, options.idempotency);
    // ioredis reports errors as events; without listeners they would be thrown (and logged twice).
    this.#commands.on('error', (error: Error) => this.#report({ connected: this.connected, error }));
    this.#subscriber.on('error', (error: Error) => this.#report({ connected: this.connected, error }));
    this.#subscriber.on('message', (channel: string, message: string) => this.#onMessage(channel, message));
    this.#subscriber.on(this.#sharded ? 'smessageBuffer' : 'messageBuffer', (channel: Buffer, message: Buffer) =>
      this.#onLive(channel, message),
    );
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
   * Resolves once both connections are up: the subscription is in place (events, presence notices
   * and signals published after this reach this node) and commands run (an emit does not fail for
   * a command connection still connecting). Waits as long as that takes.
   */
  async ready(): Promise<void> {
    await this.#subscribed;
    if (this.#commands.status === 'ready') return;
    await new Promise<void>((resolve) => this.#commands.once('ready', () => resolve()));
  }

  /** Stream ids sort by time, then sequence; ids from elsewhere sort first. */
  compareIds(a: string, b: string): number {
    const left = parseStreamId(a);
    const right = parseStreamId(b);
    if (left === undefined || right === undefined) return left === right ? 0 : left === undefined ? -1 : 1;
    return compareStreamIds(left, right);
  }

  async publish(key: StreamKey, value: WireValue): Promise<string> {
    const args = [
      this.#names.history(key),
      this.#maxEvents,
      JSON.stringify(value),
      Math.max(this.#maxAgeMs, 1_000), // the stream's expiry
      this.#names.live(key),
      this.#sharded ? 'SPUBLISH' : 'PUBLISH',
    ];
    if (this.#durability === undefined) {
      return (await (this.#commands as unknown as Scripts).wirecallPublish(...args)) as string;
    }
    // One pipeline, so WAIT runs on the connection (and the shard) that wrote the event.
    const { replicas, timeoutMs } = this.#durability;
    const pipeline = this.#commands.pipeline() as unknown as PipelineScripts & ChainableCommander;
    pipeline.wirecallPublish(...args);
    pipeline.call('WAIT', replicas, timeoutMs);
    const [[publishError, id] = [], [waitError, acknowledged] = []] = (await pipeline.exec()) ?? [];
    if (publishError) {
      // ioredis follows a moved slot for commands, not for a pipeline whose commands answered
      // differently (WAIT is keyless): learn where the slot is now, for the next publish.
      if (this.#commands instanceof Cluster && /^(MOVED|ASK) /.test(publishError.message)) {
        this.#commands.refreshSlotsCache();
      }
      throw publishError;
    }
    if (waitError) throw waitError;
    if (Number(acknowledged) < replicas) {
      throw new Error(`event ${String(id)} reached ${String(acknowledged)} of ${replicas} replicas in time`);
    }
    return id as string;
  }

  listen(listener: BrokerListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Subscribes to the stream's channel (on its shard, in a cluster). While the subscription is
   * down it rejects at once; the stream stays followed, and is subscribed again when it is back.
   */
  async follow(key: StreamKey): Promise<void> {
    this.#followed.add(key);
    if (this.#closed) return;
    const channel = this.#names.live(key);
    if (this.#subscriber.status !== 'ready') {
      // A cluster's shards are subscribed again by ioredis, which must know the channel: queued
      // until the subscription is back. A standalone Redis gets every followed channel again then.
      if (this.#sharded) {
        this.#subscriber
          .ssubscribe(channel)
          .catch((error: unknown) => this.#report({ connected: false, error: error as Error }));
      }
      throw new Error('the Redis subscription is down');
    }
    await (this.#sharded ? this.#subscriber.ssubscribe(channel) : this.#subscriber.subscribe(channel));
  }

  unfollow(key: StreamKey): void {
    this.#followed.delete(key);
    this.#lastSeen.delete(key);
    this.#repairing.delete(key);
    if (this.#closed) return;
    // A standalone Redis gets only followed channels again on reconnect; a cluster's ioredis gets
    // every channel it knows, so it must hear of this one (queued while its subscription is down).
    if (this.#subscriber.status !== 'ready' && !this.#sharded) return;
    // Commands on one connection run in order: a follow right after this one subscribes again.
    const channel = this.#names.live(key);
    const leaving = this.#sharded ? this.#subscriber.sunsubscribe(channel) : this.#subscriber.unsubscribe(channel);
    leaving.catch((error: unknown) => {
      this.#report({ connected: this.connected, error: error as Error });
    });
  }

  get received(): BrokerTraffic {
    return { events: this.#receivedEvents, bytes: this.#receivedBytes };
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
    const stream = this.#names.history(key);
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
    const info = await this.#info(this.#names.history(key));
    // A stream without events still has a position (its beginning), so a client that drops before
    // the first event resumes from there and misses nothing.
    return info?.lastGenerated ?? '0-0';
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
    this.#statusListeners.clear();
    this.#gapListeners.clear();
    this.#followed.clear();
    this.presence.clear();
    this.signals.clear();
    this.#subscriber.disconnect();
    if (this.#ownsCommands) this.#commands.disconnect();
    return Promise.resolve();
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

  /** Presence notices and signals: not history, delivered as they come (never held for a catch-up). */
  #onMessage(channel: string, message: string): void {
    if (channel === this.presence.channel) this.presence.receive(message);
    else if (channel === this.signals.channel) this.signals.receive(message);
  }

  /** An event announced on a stream's channel: `id`, the previous id, and the value's JSON. */
  #onLive(channelBytes: Buffer, messageBytes: Buffer): void {
    const key = this.#names.keyOfLive(channelBytes.toString());
    // Not followed (any more): an announcement that crossed the unsubscribe.
    if (key === undefined || !this.#followed.has(key)) return;
    this.#receivedEvents++;
    this.#receivedBytes += messageBytes.length;
    const message = messageBytes.toString();
    const firstBreak = message.indexOf('\n');
    const secondBreak = message.indexOf('\n', firstBreak + 1);
    if (firstBreak === -1 || secondBreak === -1) return;
    let value: WireValue;
    try {
      value = JSON.parse(message.slice(secondBreak + 1)) as WireValue;
    } catch {
      return; // not ours: someone else published on the channel
    }
    const event = {
      key,
      id: message.slice(0, firstBreak),
      previous: message.slice(firstBreak + 1, secondBreak),
      value,
    };
    if (this.#held) this.#held.push(event);
    else this.#accept(event);
  }

  /**
   * Delivers a live event, unless it names a predecessor newer than the last one this node has:
   * then the stream is repaired from history first, and its live events wait until that is done.
   */
  #accept(event: Announced): void {
    const waiting = this.#repairing.get(event.key);
    if (waiting !== undefined) {
      waiting.push(event);
      return;
    }
    const last = this.#lastSeen.get(event.key);
    // No predecessor: the stream started (or expired and started again); nothing can be missing.
    if (last !== undefined && event.previous !== '' && this.compareIds(event.previous, last) > 0) {
      this.#repairing.set(event.key, [event]);
      void this.#repair(event.key, last);
      return;
    }
    this.#deliver(event);
  }

  /** Reads what this node missed of a stream from history, then releases its waiting live events. */
  async #repair(key: StreamKey, after: string): Promise<void> {
    // This repair's own queue: after an unfollow and a follow, another repair may own the key.
    const waiting = this.#repairing.get(key);
    const current = (): boolean => this.#repairing.get(key) === waiting;
    try {
      await this.#replayInto(key, after, current);
    } catch (error) {
      // History cannot be read now: the subscribers are told that events were lost.
      this.#report({ connected: this.connected, error: error as Error });
      if (current()) for (const listener of this.#gapListeners) listener(key, undefined);
    }
    if (!current()) return;
    this.#repairing.delete(key);
    for (const event of waiting ?? []) this.#deliver(event);
  }

  /**
   * Delivers the events of `key` after `after` from history, after a gap notice when it lost some;
   * nothing once `stillWanted` says the stream was unfollowed (or repaired anew) meanwhile.
   */
  async #replayInto(key: StreamKey, after: string, stillWanted: () => boolean = () => true): Promise<void> {
    const { events, gap, resumeFrom } = await this.replay(key, after);
    if (!this.#followed.has(key) || !stillWanted()) return;
    // History was trimmed past what this node last saw (the outage outlasted it): say so, so
    // subscribers refetch, instead of going on as if nothing had been missed.
    if (gap) {
      if (resumeFrom !== undefined) this.#lastSeen.set(key, resumeFrom);
      for (const listener of this.#gapListeners) listener(key, resumeFrom);
    }
    for (const event of events) this.#deliver(event);
  }

  /** Hands an event to this node once: an id at or below the last one delivered is a repeat. */
  #deliver(event: BrokerEvent): void {
    if (!this.#followed.has(event.key)) return;
    const last = this.#lastSeen.get(event.key);
    if (last !== undefined && this.compareIds(event.id, last) <= 0) return;
    this.#lastSeen.set(event.key, event.id);
    for (const listener of this.#listeners) listener({ key: event.key, id: event.id, value: event.value });
  }

  /**
   * (Re)subscribes to the channels (followed streams, presence notices, signals). After a drop, live events
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
      await this.#subscribeChannels();
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
    for (const event of held) this.#accept(event);
    this.#report({ connected: this.connected });
    return true;
  }

  /**
   * Subscribes to the presence and signal channels and, on a standalone Redis, to the channel of
   * every followed stream (ioredis subscribes nothing again by itself there; in a cluster it does).
   */
  async #subscribeChannels(): Promise<void> {
    await this.#subscriber.subscribe(this.presence.channel, this.signals.channel);
    if (this.#sharded) return;
    const channels = [...this.#followed].map((key) => this.#names.live(key));
    for (let start = 0; start < channels.length; start += RESUBSCRIBE_BATCH) {
      await this.#subscriber.subscribe(...channels.slice(start, start + RESUBSCRIBE_BATCH));
    }
  }

  /** Delivers, from history, what was published while the subscription was down. */
  async #catchUp(): Promise<void> {
    await this.#commandsReady();
    for (const [key, lastId] of [...this.#lastSeen]) {
      // A stream that is gone (Redis restarted empty, or it expired) has nothing to catch up on.
      if ((await this.#info(this.#names.history(key))) === undefined) continue;
      await this.#replayInto(key, lastId);
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
