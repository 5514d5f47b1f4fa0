import {
  CLOSE_CODES,
  checkSchema,
  decodeFrame,
  decodeValue,
  encodeFrame,
  encodeValue,
  parseClientEnvelope,
  streamKey,
  toErrorShape,
  toWirecallError,
  WirecallError,
  type CallEnvelope,
  type ClientEnvelope,
  type HelloEnvelope,
  type RequestId,
  type StreamKey,
  type SubscribeEnvelope,
} from '@wirecall/core';
import type { RawData, WebSocket } from 'ws';
import type { BrokerEvent } from '../broker/broker.js';
import { idempotencyKeyOf, runCall, type CallSink } from './call-runner.js';
import type { ConnectionHost } from './connection-host.js';
import { eventFrame, type EventSink } from './stream-registry.js';

/** How long a closing socket may take its close handshake before it is cut. */
const CLOSE_HANDSHAKE_MS = 1_000;

/** A call whose handler is running. */
interface InFlightCall {
  controller: AbortController;
  /** Fires when the caller's deadline passes; cleared when the call settles first. */
  deadline: ReturnType<typeof setTimeout> | undefined;
  /**
   * An idempotent call with a key keeps running when the connection drops: its retry, arriving on
   * the next connection, attaches to it instead of running the handler a second time.
   */
  survivesDisconnect: boolean;
}

/** One stream this connection listens to, and the subscription ids (usually one) that asked for it. */
interface StreamSubscription {
  ids: Set<RequestId>;
  /** Live events held back while history is being replayed; `undefined` once live. */
  held: BrokerEvent[] | undefined;
}

/**
 * One client's socket. Owns its in-flight calls and its subscriptions, and releases both when the
 * socket closes, however it closes.
 *
 * ```
 *   open ──hello──► ready ──(calls, subscriptions)──► closed
 *     └──anything else / bad hello──► closed (4400 / 4409)
 * ```
 */
export class Connection implements CallSink, EventSink {
  readonly ctx: unknown;
  readonly #socket: WebSocket;
  readonly #host: ConnectionHost;
  readonly #inFlight = new Map<RequestId, InFlightCall>();
  readonly #subscriptions = new Map<RequestId, StreamKey>();
  readonly #streams = new Map<StreamKey, StreamSubscription>();
  #greeted = false;
  /** Last time anything (a frame or a pong) arrived; the heartbeat reads it. */
  #lastSeenAt = Date.now();
  #closed = false;
  #drained: (() => void) | undefined;

  constructor(socket: WebSocket, ctx: unknown, host: ConnectionHost) {
    this.#socket = socket;
    this.ctx = ctx;
    this.#host = host;
    socket.on('message', (data: RawData, isBinary: boolean) => this.#onFrame(data, isBinary));
    socket.on('pong', () => (this.#lastSeenAt = Date.now()));
    socket.on('close', () => this.#release());
    // A socket error without a listener would crash the process (ws #1354); 'close' follows it.
    socket.on('error', (error) => host.logger.debug({ err: error }, 'socket error'));
  }

  /** Calls whose handler has not finished yet. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Resolves once no call is in flight. */
  drained(): Promise<void> {
    if (this.#inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => (this.#drained = resolve));
  }

  send(text: string | Buffer): void {
    if (!this.#closed) this.#socket.send(text, { binary: false });
  }

  close(code: number, reason: string): void {
    if (this.#closed) return;
    this.#socket.close(code, reason);
    // A peer that never answers the close frame must not keep its socket open.
    setTimeout(() => this.#socket.terminate(), CLOSE_HANDSHAKE_MS).unref();
    this.#release();
  }

  callSettled(id: RequestId): void {
    const call = this.#inFlight.get(id);
    if (call === undefined) return;
    clearTimeout(call.deadline);
    this.#inFlight.delete(id);
    if (this.#inFlight.size === 0 && this.#drained) {
      this.#drained();
      this.#drained = undefined;
    }
  }

  deliver(frame: Buffer, event: BrokerEvent): void {
    const stream = this.#streams.get(event.key);
    if (stream === undefined) return;
    if (stream.held) stream.held.push(event);
    else this.send(frame);
  }

  /**
   * One heartbeat tick: a connection silent for longer than `timeoutMs` is terminated (no close
   * handshake: the peer is presumed gone), any other gets a ping frame.
   */
  heartbeat(now: number, timeoutMs: number): void {
    if (this.#closed) return;
    if (now - this.#lastSeenAt > timeoutMs) {
      this.#socket.terminate();
      this.#release();
      return;
    }
    this.#socket.ping();
  }

  #onFrame(data: RawData, isBinary: boolean): void {
    if (this.#closed) return;
    this.#lastSeenAt = Date.now();
    if (isBinary) {
      this.close(CLOSE_CODES.UNSUPPORTED_DATA, 'binary frames are not part of wirecall.v1');
      return;
    }
    let frame: unknown;
    try {
      frame = decodeFrame(data as Buffer);
    } catch {
      this.close(CLOSE_CODES.PROTOCOL_ERROR, 'frame is not valid JSON');
      return;
    }
    const parsed = parseClientEnvelope(frame);
    if (!parsed.ok) {
      if (parsed.id === undefined) this.close(CLOSE_CODES.PROTOCOL_ERROR, parsed.reason);
      else this.#replyError(parsed.id, new WirecallError('BAD_REQUEST', parsed.reason));
      return;
    }
    try {
      this.#handle(parsed.envelope);
    } catch (error) {
      // Handlers are isolated in runCall; reaching here is a wirecall bug, never a crash.
      this.#host.logger.error({ err: error }, 'unexpected error while handling a frame');
      this.close(CLOSE_CODES.INTERNAL_ERROR, 'internal error');
    }
  }

  #handle(envelope: ClientEnvelope): void {
    if (!this.#greeted) {
      if (envelope.t === 'hello') this.#onHello(envelope);
      else this.close(CLOSE_CODES.BAD_HELLO, 'the first frame must be hello');
      return;
    }
    switch (envelope.t) {
      case 'call':
        this.#onCall(envelope);
        return;
      case 'cancel':
        this.#inFlight
          .get(envelope.id)
          ?.controller.abort(new WirecallError('CANCELLED', 'The caller cancelled the call'));
        return;
      case 'sub':
        this.#onSubscribe(envelope);
        return;
      case 'unsub':
        this.#unsubscribe(envelope.id);
        return;
      case 'ping':
        this.send('{"t":"pong"}');
        return;
      case 'hello':
        this.close(CLOSE_CODES.PROTOCOL_ERROR, 'hello was already received');
        return;
      default: {
        const unreachable: never = envelope;
        throw new Error(`unhandled envelope ${JSON.stringify(unreachable)}`);
      }
    }
  }

  #onHello(hello: HelloEnvelope): void {
    const { fingerprint } = this.#host.contract;
    if (hello.fp !== fingerprint) {
      if (this.#host.strictContract) {
        this.close(CLOSE_CODES.CONTRACT_MISMATCH, 'client and server contracts differ');
        return;
      }
      this.#host.logger.warn(
        { client: hello.fp, server: fingerprint },
        'a client built from a different contract connected; calls may fail validation',
      );
    }
    this.#greeted = true;
    this.send(encodeFrame({ t: 'welcome', fp: fingerprint, hb: this.#host.heartbeatIntervalMs }));
  }

  #onCall(envelope: CallEnvelope): void {
    if (this.#host.closing) {
      this.#replyError(envelope.id, new WirecallError('UNAVAILABLE', 'The server is shutting down'));
      return;
    }
    if (this.#inFlight.has(envelope.id)) {
      this.#replyError(envelope.id, new WirecallError('BAD_REQUEST', 'A call with this id is already in flight'));
      return;
    }
    const controller = new AbortController();
    const deadline =
      envelope.tm === undefined
        ? undefined
        : setTimeout(() => controller.abort(new WirecallError('TIMEOUT', 'The caller’s deadline passed')), envelope.tm);
    const survivesDisconnect = idempotencyKeyOf(this.#host.procedures.get(envelope.p), envelope) !== undefined;
    this.#inFlight.set(envelope.id, { controller, deadline, survivesDisconnect });
    runCall(this.#host, this, { envelope, controller });
  }

  #onSubscribe(envelope: SubscribeEnvelope): void {
    const { id } = envelope;
    if (this.#subscriptions.has(id)) {
      this.#replyError(id, new WirecallError('BAD_REQUEST', 'A subscription with this id is already active'));
      return;
    }
    const def = this.#host.events.get(envelope.e);
    if (def === undefined) {
      this.#replyError(id, new WirecallError('NOT_FOUND', `Unknown event ${envelope.e}`));
      return;
    }
    let paramsJson: unknown;
    try {
      const raw = decodeValue(envelope);
      if (def.params === undefined) {
        if (raw !== undefined) throw new WirecallError('BAD_REQUEST', `Event ${envelope.e} takes no params`);
      } else {
        const params = checkSchema(def.params, raw);
        if (!params.ok) {
          throw new WirecallError('BAD_REQUEST', `Invalid params for ${envelope.e}`, {
            data: { issues: params.issues },
          });
        }
        paramsJson = encodeValue(params.value).v;
      }
    } catch (error) {
      this.#replyError(id, toWirecallError(error));
      return;
    }
    const key = streamKey(envelope.e, paramsJson);
    this.#subscriptions.set(id, key);
    const existing = this.#streams.get(key);
    if (existing) {
      existing.ids.add(id);
      this.send(encodeFrame({ t: 'subscribed', id, k: key }));
      return;
    }
    // Live events are held until the client knows where the stream stands (and has its history).
    const stream: StreamSubscription = { ids: new Set([id]), held: [] };
    this.#streams.set(key, stream);
    this.#host.streams.add(key, this);
    void this.#activate(key, stream, { id, after: envelope.after });
  }

  /**
   * Confirms a new stream subscription, then sends what the client missed and what was held:
   * - fresh (`after` absent): `subscribed` with the stream's newest id, so a client that drops
   *   before its first event can resume from there; then the held live events.
   * - resuming: `subscribed`, a `gap` if history does not reach back to `after`, the events after
   *   `after`, then the held live events not among them: each event exactly once, in order.
   */
  async #activate(
    key: StreamKey,
    stream: StreamSubscription,
    { id, after }: { id: RequestId; after?: string },
  ): Promise<void> {
    const { broker } = this.#host;
    try {
      if (after === undefined) {
        const last = await broker.lastId(key);
        if (this.#streams.get(key) !== stream) return;
        this.send(encodeFrame({ t: 'subscribed', id, k: key, ...(last === undefined ? {} : { last }) }));
        for (const event of stream.held ?? []) this.send(eventFrame(event));
        return;
      }
      const { events, gap } = await broker.replay(key, after);
      if (this.#streams.get(key) !== stream) return;
      this.send(encodeFrame({ t: 'subscribed', id, k: key }));
      if (gap) this.send(encodeFrame({ t: 'gap', k: key }));
      const sent = new Set<string>();
      for (const event of events) {
        sent.add(event.id);
        this.send(eventFrame(event));
      }
      for (const event of stream.held ?? []) if (!sent.has(event.id)) this.send(eventFrame(event));
    } catch (error) {
      this.#host.logger.error({ err: error, stream: key }, 'reading stream history failed; reporting a gap');
      if (this.#streams.get(key) !== stream) return;
      this.send(encodeFrame({ t: 'subscribed', id, k: key }));
      if (after !== undefined) this.send(encodeFrame({ t: 'gap', k: key }));
      for (const event of stream.held ?? []) this.send(eventFrame(event));
    } finally {
      stream.held = undefined;
    }
  }

  #unsubscribe(id: RequestId): void {
    const key = this.#subscriptions.get(id);
    if (key === undefined) return;
    this.#subscriptions.delete(id);
    const stream = this.#streams.get(key);
    if (stream === undefined) return;
    stream.ids.delete(id);
    if (stream.ids.size > 0) return;
    this.#streams.delete(key);
    this.#host.streams.remove(key, this);
  }

  #replyError(id: RequestId, error: WirecallError): void {
    this.send(encodeFrame({ t: 'error', id, e: toErrorShape(error) }));
  }

  /** Frees everything the connection held; runs once, whichever way the socket ended. */
  #release(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const key of this.#streams.keys()) this.#host.streams.remove(key, this);
    this.#streams.clear();
    this.#subscriptions.clear();
    const lost = new WirecallError('CONNECTION_LOST', 'The connection closed');
    for (const call of this.#inFlight.values()) if (!call.survivesDisconnect) call.controller.abort(lost);
    this.#host.connectionClosed(this);
  }
}
