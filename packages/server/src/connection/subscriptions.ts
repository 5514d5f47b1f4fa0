import {
  encodeFrame,
  toWirecallError,
  WirecallError,
  type RequestId,
  type StreamKey,
  type SubscribeEnvelope,
} from '@wirecall/core/internal';
import type { BrokerEvent } from '../broker/broker.js';
import type { ConnectionHost } from './connection-host.js';
import type { ConnectionInfo } from './connection-info.js';
import { resolveStream } from './stream-access.js';
import { eventFrames, frameFor, type EventFrames } from './stream-registry.js';

/** One stream this connection listens to, and the subscription ids (usually one) that asked for it. */
interface StreamSubscription {
  ids: Set<RequestId>;
  /** Latest-value stream: a slow consumer gets only the newest pending event. */
  conflate: boolean;
  /** Live events held back until the client has its history; `undefined` once live. */
  held: BrokerEvent[] | undefined;
  /**
   * The newest id the client already has (from its resume point or the replay). Live delivery on
   * this node can lag behind history read from the broker, so events up to here are dropped; the
   * first live event above it clears the floor, since live events then arrive in order.
   */
  floor: string | undefined;
}

/** What the subscriptions need from their connection. */
export interface SubscriptionOwner {
  readonly host: ConnectionHost;
  readonly info: ConnectionInfo;
  readonly ctx: unknown;
  send(frame: string | Buffer | Uint8Array): void;
  /** The client reads binary frames: payloads with bytes go out as raw bytes. */
  readonly acceptsBinary: boolean;
  replyError(id: RequestId, error: WirecallError): void;
  /** Bytes queued on the socket and not yet written. */
  readonly bufferedAmount: number;
  readonly closed: boolean;
}

/** How often a connection with thinned-out (conflated) events checks whether its buffer drained. */
const CONFLATION_FLUSH_MS = 20;

/**
 * The subscriptions of one connection: checks, registration with the node's stream registry,
 * history replay on resume, and conflation of latest-value streams for slow consumers.
 */
export class ConnectionSubscriptions {
  readonly #owner: SubscriptionOwner;
  readonly #byId = new Map<RequestId, StreamKey>();
  readonly #streams = new Map<StreamKey, StreamSubscription>();
  /** Newest undelivered frame per conflated stream, while the socket's buffer is full. */
  readonly #conflated = new Map<StreamKey, Buffer | Uint8Array>();
  #flushTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #highWaterBytes: number;

  constructor(owner: SubscriptionOwner, highWaterBytes: number) {
    this.#owner = owner;
    this.#highWaterBytes = highWaterBytes;
  }

  /** Streams this connection listens to and has confirmed (`subscribed` sent, history replayed). */
  get size(): number {
    let active = 0;
    for (const stream of this.#streams.values()) if (stream.held === undefined) active++;
    return active;
  }

  /** Subscription ids in use (confirmed or still being checked). */
  get count(): number {
    return this.#byId.size;
  }

  has(id: RequestId): boolean {
    return this.#byId.has(id);
  }

  /** Subscribes; the connection has checked that the id is free and the limit not reached. */
  async subscribe(envelope: SubscribeEnvelope): Promise<void> {
    const { id } = envelope;
    const { host } = this.#owner;
    const def = host.events.get(envelope.e);
    if (def === undefined) {
      this.#owner.replyError(id, new WirecallError('NOT_FOUND', `Unknown event ${envelope.e}`));
      return;
    }
    // Reserve the id now: frames after this one (an unsub, a duplicate) must see it.
    this.#byId.set(id, '');
    let key: StreamKey;
    let after = envelope.after;
    try {
      const pending = resolveStream(this.#owner, { event: envelope.e, def, value: envelope });
      const resolved = pending instanceof Promise ? await pending : pending;
      key = resolved.key;
      if (resolved.perConnection) after = undefined;
    } catch (thrown) {
      this.#byId.delete(id);
      const error = toWirecallError(thrown);
      if (error.code === 'INTERNAL') {
        host.logger.error({ err: error.cause, event: envelope.e }, 'checking a subscription failed');
      }
      this.#owner.replyError(id, error);
      return;
    }
    // Unsubscribed (or closed) while the checks ran.
    if (this.#byId.get(id) !== '' || this.#owner.closed) return;
    this.#byId.set(id, key);
    const existing = this.#streams.get(key);
    if (existing) {
      existing.ids.add(id);
      this.#owner.send(encodeFrame({ t: 'subscribed', id, k: key }));
      return;
    }
    const stream: StreamSubscription = {
      ids: new Set([id]),
      conflate: def.conflate === true,
      held: [],
      floor: undefined,
    };
    this.#streams.set(key, stream);
    const following = host.streams.add(key, this);
    await this.#activate(key, stream, { id, after, following });
  }

  unsubscribe(id: RequestId): void {
    const key = this.#byId.get(id);
    if (key === undefined) return;
    this.#byId.delete(id);
    const stream = this.#streams.get(key);
    if (stream === undefined) return;
    stream.ids.delete(id);
    if (stream.ids.size > 0) return;
    this.#streams.delete(key);
    this.#conflated.delete(key);
    this.#owner.host.streams.remove(key, this);
  }

  /** Called by the node's stream registry for every event of a stream this connection listens to. */
  deliver(frames: EventFrames, event: BrokerEvent): void {
    const frame = frameFor(frames, this.#owner.acceptsBinary);
    const stream = this.#streams.get(event.key);
    if (stream === undefined) return;
    if (stream.held) {
      stream.held.push(event);
      return;
    }
    if (!this.#aboveFloor(stream, event)) return;
    if (stream.conflate && (this.#conflated.has(event.key) || this.#owner.bufferedAmount > this.#highWaterBytes)) {
      this.#conflated.set(event.key, frame);
      this.#scheduleFlush();
      return;
    }
    this.#owner.send(frame);
  }

  /**
   * An event pushed to this connection alone (`emit` with `connection`): sent at once when it
   * listens to the stream, without an id, since no history holds it.
   */
  push(key: StreamKey, frame: string): boolean {
    if (!this.#streams.has(key)) return false;
    this.#owner.send(frame);
    return true;
  }

  gap(key: StreamKey, resumeFrom: string | undefined): void {
    if (!this.#streams.has(key)) return;
    this.#owner.send(encodeFrame({ t: 'gap', k: key, ...(resumeFrom === undefined ? {} : { last: resumeFrom }) }));
  }

  /** The connection closed: leave every stream. */
  release(): void {
    clearTimeout(this.#flushTimer);
    for (const key of this.#streams.keys()) this.#owner.host.streams.remove(key, this);
    this.#streams.clear();
    this.#byId.clear();
    this.#conflated.clear();
  }

  /**
   * Confirms a new stream subscription, then sends what the client missed and what was held:
   * - fresh (`after` absent): `subscribed` with the stream's newest id, so a client that drops
   *   before its first event can resume from there; then the held live events.
   * - resuming: `subscribed`, a `gap` if history does not reach back to `after`, the events after
   *   `after` (only the newest for a conflated stream), then the held live events not among them:
   *   each event exactly once, in order.
   * When this node starts following the stream now (`following`), history is read once it does:
   * a fresh subscription then also gets, from history, what was published after its `last` and
   * before live events reached the node; a resume reads after `after` only then. An event is then
   * either in history or held, never in neither.
   */
  async #activate(
    key: StreamKey,
    stream: StreamSubscription,
    { id, after, following }: { id: RequestId; after: string | undefined; following: Promise<void> | undefined },
  ): Promise<void> {
    const owner = this.#owner;
    const { broker, logger } = owner.host;
    let replayed: BrokerEvent[] = [];
    /** Whether `subscribed` went out: a failure after it is a gap, not a second confirmation. */
    let confirmed = false;
    try {
      if (after === undefined) {
        // Asked before any await: `last` is where the client stands as of its subscribe (frames
        // that arrived with this one, a queued call that emits, are handled before an await resumes).
        const asked = broker.lastId(key);
        asked.catch(() => {}); // a failed follow is reported below; this one too, not as unhandled
        await following;
        const last = await asked;
        if (this.#streams.get(key) !== stream) return;
        owner.send(encodeFrame({ t: 'subscribed', id, k: key, ...(last === undefined ? {} : { last }) }));
        confirmed = true;
        stream.floor = last;
        if (following !== undefined && last !== undefined) {
          const { events, gap, resumeFrom } = await broker.replay(key, last);
          if (this.#streams.get(key) !== stream) return;
          if (gap)
            owner.send(encodeFrame({ t: 'gap', k: key, ...(resumeFrom === undefined ? {} : { last: resumeFrom }) }));
          replayed = stream.conflate ? events.slice(-1) : events;
          stream.floor = events.at(-1)?.id ?? (gap ? (resumeFrom ?? last) : last);
        }
      } else {
        // Started at once when live events already reach this node: frames that arrived with this
        // one (a queued call that emits) are handled before any await resumes.
        const replaying =
          following === undefined ? broker.replay(key, after) : following.then(() => broker.replay(key, after));
        const { events, gap, resumeFrom } = await replaying;
        if (this.#streams.get(key) !== stream) return;
        owner.send(encodeFrame({ t: 'subscribed', id, k: key }));
        confirmed = true;
        if (gap)
          owner.send(encodeFrame({ t: 'gap', k: key, ...(resumeFrom === undefined ? {} : { last: resumeFrom }) }));
        replayed = stream.conflate ? events.slice(-1) : events;
        stream.floor = events.at(-1)?.id ?? (gap ? (resumeFrom ?? after) : after);
      }
    } catch (error) {
      logger.error({ err: error, stream: key }, 'reading stream history failed; reporting a gap');
      if (this.#streams.get(key) !== stream) return;
      if (!confirmed) owner.send(encodeFrame({ t: 'subscribed', id, k: key }));
      if (after !== undefined || confirmed) owner.send(encodeFrame({ t: 'gap', k: key }));
    }
    const sent = new Set<string>();
    for (const event of replayed) {
      sent.add(event.id);
      owner.send(frameFor(eventFrames(event), owner.acceptsBinary));
    }
    const held = stream.held ?? [];
    stream.held = undefined;
    for (const event of held) {
      if (!sent.has(event.id) && this.#aboveFloor(stream, event)) {
        owner.send(frameFor(eventFrames(event), owner.acceptsBinary));
      }
    }
  }

  /** Whether the client lacks this event; clears the floor once live delivery has passed it. */
  #aboveFloor(stream: StreamSubscription, event: BrokerEvent): boolean {
    if (stream.floor === undefined) return true;
    if (this.#owner.host.broker.compareIds(event.id, stream.floor) <= 0) return false;
    stream.floor = undefined;
    return true;
  }

  #scheduleFlush(): void {
    if (this.#flushTimer !== undefined) return;
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = undefined;
      if (this.#owner.closed) return;
      if (this.#owner.bufferedAmount > this.#highWaterBytes) {
        this.#scheduleFlush();
        return;
      }
      const frames = [...this.#conflated.values()];
      this.#conflated.clear();
      for (const frame of frames) this.#owner.send(frame);
    }, CONFLATION_FLUSH_MS);
  }
}
