import {
  checkSchema,
  encodeFrame,
  fromErrorShape,
  stableStringify,
  toWire,
  WirecallError,
  type ErrorShape,
  type EventDef,
  type EventEnvelope,
  type RequestId,
  type StreamKey,
  type WireValue,
  decodeValue,
  encodeValue,
} from '@wirecall/core/internal';

/** Facts about one received event. */
export interface EventMeta {
  /**
   * The event's id, increasing within its stream; what the client resumes from after a drop.
   * Undefined for an event the server pushed to this connection alone (not kept in history).
   */
  id: string | undefined;
  /** The event's name. */
  event: string;
}

export interface SubscribeOptions {
  /**
   * Events were missed and could not be replayed (the server's history did not reach back far
   * enough, or it restarted): refetch the state the stream describes.
   */
  onGap?: () => void;
  /** The server refused the subscription (`FORBIDDEN`, `BAD_REQUEST`), or a payload failed the contract. */
  onError?: (error: WirecallError) => void;
}

export interface Listener extends SubscribeOptions {
  handler: (payload: never, meta: EventMeta) => void;
}

/**
 * One stream this client listens to, shared by every `client.on` with the same event and params:
 * the server sees one subscription per stream, however many listeners the app has.
 */
interface Stream {
  event: string;
  def: EventDef;
  localKey: string;
  params: WireValue;
  listeners: Set<Listener>;
  /** Id of the `sub` sent on the current socket; undefined while not subscribed. */
  id: RequestId | undefined;
  /** The server's key for this stream, learned from `subscribed`. */
  key: StreamKey | undefined;
  /** Last event id seen: sent as `after` on resubscribe, so the server replays what was missed. */
  lastEventId: string | undefined;
}

export interface SubscriptionManagerOptions {
  send: (text: string) => boolean;
  nextId: () => number;
  /** Where listener exceptions go; they never break other listeners or the socket. */
  reportError: (error: unknown, context: string) => void;
}

/**
 * The client's one registry of subscriptions (LESSONS #1): each stream is subscribed exactly once per
 * socket, restored once after every reconnect with the id it last saw, and removed from the server
 * when its last listener leaves.
 *
 * ```
 *  on() ─► stream (no id) ──socket open──► sub(after=lastEventId) ──subscribed──► live
 *                ▲                                                                 │
 *                └──────────────────────── socket lost ◄───────────────────────────┘
 *  last off() ─► unsub, forgotten
 * ```
 */
export class SubscriptionManager {
  readonly #byLocalKey = new Map<string, Stream>();
  readonly #byId = new Map<RequestId, Stream>();
  readonly #byKey = new Map<StreamKey, Stream>();
  readonly #options: SubscriptionManagerOptions;

  constructor(options: SubscriptionManagerOptions) {
    this.#options = options;
  }

  /** Listeners across all streams (for leak checks and debugging). */
  get size(): number {
    let total = 0;
    for (const stream of this.#byLocalKey.values()) total += stream.listeners.size;
    return total;
  }

  add({ event, def, params }: { event: string; def: EventDef; params: unknown }, listener: Listener): () => void {
    let wireParams: unknown;
    let parsedParams: unknown;
    if (def.params !== undefined) {
      // Checked here as the server would, so bad params fail without a round trip (like a refusal).
      const checked = toWire(def.params, params);
      if (!checked.ok) {
        const error = new WirecallError('BAD_REQUEST', `Invalid params for ${event}`, {
          data: { issues: checked.issues },
        });
        queueMicrotask(() => this.#notifyError(listener, error));
        return () => {};
      }
      wireParams = checked.value;
      parsedParams = checked.parsed;
    }
    // Streams are told apart by their params as the server's schema reads them, so params that
    // normalise alike ({ room } and { room, lang: 'en' } with a default) share one stream.
    const localKey = def.params === undefined ? event : `${event} ${stableStringify(encodeValue(parsedParams))}`;
    let stream = this.#byLocalKey.get(localKey);
    if (stream === undefined) {
      stream = {
        event,
        def,
        localKey,
        params: encodeValue(wireParams),
        listeners: new Set(),
        id: undefined,
        key: undefined,
        lastEventId: undefined,
      };
      this.#byLocalKey.set(localKey, stream);
      this.#subscribe(stream);
    }
    stream.listeners.add(listener);
    const owner = stream;
    return () => this.#remove(owner, listener);
  }

  /** A new socket is open: restore every stream, once, resuming after the last id seen. */
  resubscribeAll(): void {
    for (const stream of this.#byLocalKey.values()) if (stream.id === undefined) this.#subscribe(stream);
  }

  /** The socket is gone: nothing is subscribed on the server any more. */
  connectionLost(): void {
    this.#byId.clear();
    this.#byKey.clear();
    for (const stream of this.#byLocalKey.values()) {
      stream.id = undefined;
      stream.key = undefined;
    }
  }

  subscribed(id: RequestId, key: StreamKey, last: string | undefined): boolean {
    const stream = this.#byId.get(id);
    if (stream === undefined) return false;
    stream.key = key;
    // A fresh subscription learns where the stream stands, so it can resume even before its first event.
    stream.lastEventId ??= last;
    this.#byKey.set(key, stream);
    return true;
  }

  /** The server refused subscription `id`: tell its listeners and forget the stream. */
  refused(id: RequestId, shape: ErrorShape): boolean {
    const stream = this.#byId.get(id);
    if (stream === undefined) return false;
    this.#forget(stream);
    const error = fromErrorShape(shape, undefined, decodeValue);
    for (const listener of stream.listeners) this.#notifyError(listener, error);
    return true;
  }

  event(envelope: EventEnvelope): void {
    const stream = this.#byKey.get(envelope.k);
    if (stream === undefined) return; // unsubscribed meanwhile
    // An event pushed to this connection alone has no id, and moves no resume position.
    if (envelope.eid !== undefined) stream.lastEventId = envelope.eid;
    let payload: unknown;
    try {
      // Parsing here is what runs the payload's transforms and codecs, once (it travels in its
      // schema's input side), and checks it against the contract.
      const checked = checkSchema(stream.def.payload, decodeValue(envelope));
      if (!checked.ok) {
        throw new WirecallError('INTERNAL', `Payload of ${stream.event} does not match the contract`, {
          data: { issues: checked.issues },
        });
      }
      payload = checked.value;
    } catch (error) {
      const wrapped =
        error instanceof WirecallError
          ? (error as WirecallError)
          : new WirecallError('INTERNAL', `Malformed payload of ${stream.event}`);
      for (const listener of stream.listeners) this.#notifyError(listener, wrapped);
      return;
    }
    const meta: EventMeta = { id: envelope.eid, event: stream.event };
    // A snapshot, so a listener that subscribes another does not hand it this event; the common
    // single listener needs no copy of the set.
    const { listeners } = stream;
    if (listeners.size === 1) {
      this.#notify(listeners.values().next().value!, payload, meta);
    } else {
      for (const listener of [...listeners]) this.#notify(listener, payload, meta);
    }
  }

  #notify(listener: Listener, payload: unknown, meta: EventMeta): void {
    try {
      listener.handler(payload as never, meta);
    } catch (error) {
      this.#options.reportError(error, `listener of ${meta.event}`);
    }
  }

  gap(key: StreamKey, last: string | undefined): void {
    const stream = this.#byKey.get(key);
    if (stream === undefined) return;
    // The old position points into lost history; resume from where the server says we stand.
    if (last !== undefined) stream.lastEventId = last;
    for (const listener of [...stream.listeners]) {
      try {
        listener.onGap?.();
      } catch (error) {
        this.#options.reportError(error, `onGap of ${stream.event}`);
      }
    }
  }

  #subscribe(stream: Stream): void {
    const id = this.#options.nextId();
    const frame = encodeFrame({
      t: 'sub',
      id,
      e: stream.event,
      ...(stream.lastEventId === undefined ? {} : { after: stream.lastEventId }),
      ...stream.params,
    });
    if (!this.#options.send(frame)) return; // sent by resubscribeAll() once open
    stream.id = id;
    this.#byId.set(id, stream);
  }

  #remove(stream: Stream, listener: Listener): void {
    if (!stream.listeners.delete(listener) || stream.listeners.size > 0) return;
    if (stream.id !== undefined) this.#options.send(encodeFrame({ t: 'unsub', id: stream.id }));
    this.#forget(stream);
  }

  #forget(stream: Stream): void {
    // A refused stream is forgotten at once; a listener's late `off()` must not take the newer
    // stream that reuses its local key with it.
    if (this.#byLocalKey.get(stream.localKey) === stream) this.#byLocalKey.delete(stream.localKey);
    if (stream.id !== undefined) this.#byId.delete(stream.id);
    if (stream.key !== undefined) this.#byKey.delete(stream.key);
    stream.id = undefined;
    stream.key = undefined;
  }

  #notifyError(listener: Listener, error: WirecallError): void {
    if (listener.onError === undefined) {
      this.#options.reportError(error, 'subscription');
      return;
    }
    try {
      listener.onError(error);
    } catch (thrown) {
      this.#options.reportError(thrown, 'onError');
    }
  }
}
