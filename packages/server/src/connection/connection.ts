import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import {
  CLOSE_CODES,
  checkSchema,
  encodeFrame,
  errorFrame,
  parseClientEnvelope,
  putBytes,
  unpackFrame,
  toWirecallError,
  WirecallError,
  type CallEnvelope,
  type ClientEnvelope,
  type HelloEnvelope,
  type MessageEnvelope,
  type RequestId,
  type WireValue,
  decodeValue,
} from '@wirecall/core/internal';
import type { RawData, WebSocket } from 'ws';
import type { ZodType } from 'zod';
import { safeHook } from '../hooks.js';
import { runCall, ServerCall, type CallSink } from './call-runner.js';
import type { ConnectionHost } from './connection-host.js';
import type { ConnectionInfo } from './connection-info.js';
import type { ConnectionSlot } from './connection-slots.js';
import { encodeErrorBody } from './error-frame.js';
import { ConnectionPresence, type PresenceOwner } from './connection-presence.js';
import { ConnectionSubscriptions } from './subscriptions.js';
import { TokenBucket } from './token-bucket.js';

/** How long a closing socket may take its close handshake before it is cut. */
const CLOSE_HANDSHAKE_MS = 1_000;
/** Frames that may arrive while `hello` is still being processed (an async context factory). */
const MAX_BACKLOG = 256;
/** Conflated streams are thinned out once this much is waiting in the socket's buffer. */
const CONFLATION_HIGH_WATER_BYTES = 64 * 1024;

/** The longest a held-back stream waits for its socket's `drain` before it looks again. */
const WRITABLE_FALLBACK_MS = 50;

/** Frames a corked burst holds before it writes them (one system call per slice). */
const CORK_FLUSH_EVERY = 16;

/** ws copies its send options: one shared object of each instead of one per frame. */
const TEXT_FRAME = { binary: false } as const;
const BINARY_FRAME = { binary: true } as const;

const CONNECTION = Symbol('wirecall.connection');
type SocketWithConnection = WebSocket & { [CONNECTION]: Connection };

function onSocketMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  (this as SocketWithConnection)[CONNECTION].socketMessage(data, isBinary);
}
function onSocketPong(this: WebSocket): void {
  (this as SocketWithConnection)[CONNECTION].socketPong();
}
function onSocketClose(this: WebSocket, code: number, reason: Buffer): void {
  (this as SocketWithConnection)[CONNECTION].socketClosed(code, reason);
}
function onSocketError(this: WebSocket, error: Error): void {
  (this as SocketWithConnection)[CONNECTION].socketError(error);
}

function endTick(connection: Connection): void {
  connection.endTick();
}

type Phase = 'hello' | 'greeting' | 'ready';

let lastConnectionId = 0;

/**
 * One client's socket. Owns its in-flight calls and its subscriptions, and releases both when the
 * socket closes, however it closes. Nothing a peer sends can throw out of it.
 *
 * ```
 *   hello ──hello frame──► greeting ──context built──► ready ──(calls, subscriptions)──► closed
 *     │                       │ params/context refused: 4401 / 4403, contract differs (strict): 4409
 *     └── other first frame: 4400, nothing within handshakeTimeoutMs: 4408
 * ```
 */
export class Connection implements CallSink, PresenceOwner, ConnectionInfo {
  readonly id: string;
  user: string | undefined;
  /** The member it counts as in presence: its user, or its anonymous client (set at welcome). */
  member = '';
  readonly url: string | undefined;
  readonly remoteAddress: string | undefined;
  readonly host: ConnectionHost;
  readonly info: ConnectionInfo = this;
  ctx: unknown = undefined;
  readonly #socket: WebSocket;
  /** The upgrade request, kept only until the context is built (it is most of an idle connection's memory). */
  #request: IncomingMessage | undefined;
  #auth: unknown;
  /** Created on first use, like the subscriptions: an idle connection should cost little more than its socket. */
  #inFlight: Map<RequestId, ServerCall> | undefined;
  #subscriptions: ConnectionSubscriptions | undefined;
  #presence: ConnectionPresence | undefined;
  readonly #bucket: TokenBucket | undefined;
  /** Streaming calls open now (under `limits.maxStreams`). */
  #streaming = 0;
  /** Streams waiting for the socket's buffer to drain (see whenWritable). */
  #writableWaiters: (() => void)[] | undefined;
  /** Cancelled calls whose handlers have not returned yet (bounded: see #onCall). */
  /** Created on first use, like the in-flight map: an idle connection should cost little more than its socket. */
  #windingDown: Set<ServerCall> | undefined;
  #phase: Phase = 'hello';
  #backlog: { data: RawData; isBinary: boolean }[] | undefined;
  /** The client reads binary frames (`hello.bin`): values with bytes go out as raw bytes. */
  #binary = false;
  #handshakeTimer: ReturnType<typeof setTimeout> | undefined;
  /** Last time anything (a frame or a pong) arrived; the heartbeat reads it. */
  #lastSeenAt = Date.now();
  #closed = false;
  /** Frames sent in the current tick: 0, 1, or more (then the socket is corked until the tick ends). */
  #sendsThisTick = 0;
  #corkedTcp: Socket | undefined;
  #closeInfo: { code: number; reason: string } | undefined;
  #drained: (() => void) | undefined;

  /** This connection's place under `maxConnections`, given back when it closes. */
  readonly slot: ConnectionSlot;

  constructor(
    socket: WebSocket,
    { request, auth, slot }: { request: IncomingMessage; auth: unknown; slot: ConnectionSlot },
    host: ConnectionHost,
  ) {
    this.slot = slot;
    this.id = `${host.nodeId}.${++lastConnectionId}`;
    this.#socket = socket;
    this.#request = request;
    this.url = request.url;
    this.remoteAddress = request.socket.remoteAddress;
    this.#auth = auth;
    this.host = host;
    const { limits } = host;
    this.#bucket = limits.rateLimit
      ? new TokenBucket(limits.rateLimit.messagesPerSecond, limits.rateLimit.burst)
      : undefined;
    this.#handshakeTimer = setTimeout(
      () => this.close(CLOSE_CODES.HANDSHAKE_TIMEOUT, 'no hello within the handshake timeout'),
      limits.handshakeTimeoutMs,
    );
    // Shared listeners that find their connection on the socket: four closures fewer per connection.
    (socket as SocketWithConnection)[CONNECTION] = this;
    socket.on('message', onSocketMessage);
    socket.on('pong', onSocketPong);
    socket.on('close', onSocketClose);
    // A socket error without a listener would crash the process (ws #1354); 'close' follows it.
    socket.on('error', onSocketError);
    safeHook(host, 'onConnection', () => host.hooks.onConnection?.(this));
  }

  get closed(): boolean {
    return this.#closed;
  }

  get bufferedAmount(): number {
    return this.#socket.bufferedAmount;
  }

  /** Calls whose handler has not finished yet (cancelled ones still winding down included). */
  get inFlight(): number {
    return (this.#inFlight?.size ?? 0) + (this.#windingDown?.size ?? 0);
  }

  /** Streams this connection listens to. */
  get subscriptionCount(): number {
    return this.#subscriptions?.size ?? 0;
  }

  /** Subscriptions and observed presences, which share `maxSubscriptions`. */
  get streamCount(): number {
    return (this.#subscriptions?.count ?? 0) + (this.#presence?.size ?? 0);
  }

  /**
   * Whether a subscription, an observed presence or a call in flight holds this id. Ids are unique
   * across all three on a connection, so an `error` names one of them only (docs/protocol.md).
   */
  idInUse(id: RequestId): boolean {
    return (
      (this.#subscriptions?.has(id) ?? false) ||
      (this.#presence?.has(id) ?? false) ||
      (this.#inFlight?.has(id) ?? false)
    );
  }

  /** Sends an event pushed to this connection alone, if it listens to the stream; see `emit`. */
  push(key: string, frame: string): boolean {
    return this.#subscriptions?.push(key, frame) ?? false;
  }

  /** @internal A frame arrived (routed here by the shared socket listener). */
  socketMessage(data: RawData, isBinary: boolean): void {
    this.#onFrame(data, isBinary);
  }

  /** @internal The peer answered a ping. */
  socketPong(): void {
    this.#lastSeenAt = Date.now();
  }

  /** @internal The socket closed, whoever closed it. */
  socketClosed(code: number, reason: Buffer): void {
    this.#closeInfo ??= { code, reason: reason.toString() };
    this.#release();
  }

  /** @internal The socket failed; 'close' follows. */
  socketError(error: Error): void {
    this.host.logger.debug({ err: error, connection: this.id }, 'socket error');
  }

  /** Resolves once no call is in flight. */
  drained(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => (this.#drained = resolve));
  }

  /**
   * Resolves when the socket has written what it held (its TCP socket's `drain`), or after a short
   * while at the latest (another ws version without one): a held-back stream goes on at the
   * socket's own pace instead of polling it.
   */
  whenWritable(): Promise<void> {
    return new Promise((resolve) => {
      if (this.#writableWaiters === undefined) {
        // One `drain` listener per connection, however many streams wait on it.
        this.#writableWaiters = [];
        const tcp = (this.#socket as unknown as { _socket?: Socket })._socket;
        const wake = (): void => {
          clearTimeout(fallback);
          tcp?.off('drain', wake);
          const waiters = this.#writableWaiters ?? [];
          this.#writableWaiters = undefined;
          for (const waiter of waiters) waiter();
        };
        const fallback = setTimeout(wake, WRITABLE_FALLBACK_MS);
        tcp?.once('drain', wake);
      }
      this.#writableWaiters.push(resolve);
    });
  }

  /** Whether this client reads binary frames (it said so in `hello`). */
  get acceptsBinary(): boolean {
    return this.#binary;
  }

  /** Sends a text frame (a string, or its UTF-8 bytes), or a binary frame (a Uint8Array that is not a Buffer). */
  send(frame: string | Buffer | Uint8Array): void {
    if (this.#closed) return;
    const { counters, limits } = this.host;
    const binary = typeof frame !== 'string' && !Buffer.isBuffer(frame);
    // Encode once here: ws would measure and encode a string itself, and the byte count is free.
    const bytes = typeof frame === 'string' ? Buffer.from(frame) : frame;
    counters.messagesOut++;
    counters.bytesOut += bytes.length;
    this.#cork();
    this.#socket.send(bytes, binary ? BINARY_FRAME : TEXT_FRAME);
    // A consumer that does not read must not grow this process's memory without end.
    if (this.#socket.bufferedAmount > limits.maxBufferedBytes) {
      this.host.logger.warn(
        { connection: this.id, buffered: this.#socket.bufferedAmount },
        'slow consumer disconnected',
      );
      this.close(CLOSE_CODES.SLOW_CONSUMER, 'slow consumer: send buffer full');
    }
  }

  /**
   * Holds the TCP socket's writes until the current tick's work is done, so the answers to a burst
   * of calls (or a burst of events) leave in one write system call instead of one each: the frames
   * stay separate WebSocket messages, only their trip to the kernel is shared. Uses ws's underlying
   * socket; without one (another ws version) frames are simply written one by one.
   */
  #cork(): void {
    // The first frame of a tick goes out at once (a lone answer pays only a tick callback); a
    // second one in the same tick means a burst, and the rest of it is held and written together.
    const sent = this.#sendsThisTick++;
    if (sent === 0) {
      process.nextTick(endTick, this);
    } else if (sent === 1) {
      const tcp = (this.#socket as unknown as { _socket?: Socket })._socket;
      if (tcp !== undefined && !tcp.destroyed) {
        tcp.cork();
        this.#corkedTcp = tcp;
      }
    } else if (sent % CORK_FLUSH_EVERY === 0) {
      // Let a long burst out in slices, so the peer starts on the first answers while this
      // process computes the rest: holding a whole tick would make the two take turns.
      const tcp = this.#corkedTcp;
      if (tcp !== undefined && !tcp.destroyed) {
        tcp.uncork();
        tcp.cork();
      }
    }
  }

  /** @internal The tick is over: write what the burst held. */
  endTick(): void {
    this.#sendsThisTick = 0;
    const tcp = this.#corkedTcp;
    if (tcp === undefined) return;
    this.#corkedTcp = undefined;
    if (!tcp.destroyed) tcp.uncork();
  }

  close(code: number = CLOSE_CODES.NORMAL, reason = ''): void {
    if (this.#closed) return;
    this.#closeInfo = { code, reason };
    if (code === CLOSE_CODES.PROTOCOL_ERROR || code === CLOSE_CODES.UNSUPPORTED_DATA) {
      this.host.counters.countError('PROTOCOL');
    }
    this.#socket.close(code, closeReason(reason));
    // A peer that never answers the close frame must not keep its socket open.
    setTimeout(() => this.#socket.terminate(), CLOSE_HANDSHAKE_MS).unref();
    this.#release();
  }

  /**
   * The call's slot is free: it answered, or its caller cancelled it. A cancelled call stops
   * counting against `maxInFlightCalls` and `maxStreams` at once, while its handler winds down:
   * the client frees its window when it sends `cancel` and may send the next call right behind it.
   */
  callSettled(call: ServerCall): void {
    const calls = this.#inFlight;
    if (call.aborted && !call.settled) {
      // Cancelled, its handler still winding down: it stops counting against the limits the
      // client sees, but not against the server's bound on running handlers, nor shutdown's wait.
      (this.#windingDown ??= new Set()).add(call);
    } else if (this.#windingDown?.delete(call) === true) {
      this.#checkDrained();
      return;
    }
    // By identity: a peer may reuse a cancelled call's id before the old handler finishes.
    if (calls === undefined || calls.get(call.id) !== call) return;
    call.deadline?.cancel();
    calls.delete(call.id);
    if (call.streaming) this.#streaming--;
    this.#checkDrained();
  }

  #checkDrained(): void {
    if (this.inFlight === 0 && this.#drained) {
      this.#drained();
      this.#drained = undefined;
    }
  }

  /**
   * Refuses a frame that names `id`. When a call, subscription or presence holds that id, an
   * `error` with it would answer that one instead (a second answer to a call), so the refusal goes
   * without an id: the connection-level error the client logs.
   */
  refuseFrame(id: RequestId, error: WirecallError): void {
    if (!this.idInUse(id)) {
      this.replyError(id, error);
      return;
    }
    const encoded = encodeErrorBody(error, this.host.logger);
    this.host.counters.countError(encoded.code);
    this.send(`{"t":"error","e":${encoded.json}}`);
  }

  replyError(id: RequestId, error: WirecallError): void {
    const encoded = encodeErrorBody(error, this.host.logger);
    this.host.counters.countError(encoded.code);
    safeHook(this.host, 'onError', () => this.host.hooks.onError?.(error, { connection: this }));
    this.send(errorFrame(id, encoded.json));
  }

  /**
   * One heartbeat tick: a connection silent for longer than `timeoutMs` is terminated (no close
   * handshake: the peer is presumed gone), any other gets a ping frame.
   */
  heartbeat(now: number, timeoutMs: number): void {
    if (this.#closed) return;
    if (now - this.#lastSeenAt > timeoutMs) {
      this.#closeInfo = { code: CLOSE_CODES.ABNORMAL, reason: 'heartbeat timeout' };
      this.#socket.terminate();
      this.#release();
      return;
    }
    this.#socket.ping();
  }

  #onFrame(data: RawData, isBinary: boolean): void {
    if (this.#closed) return;
    const now = Date.now();
    this.#lastSeenAt = now;
    const { counters } = this.host;
    counters.messagesIn++;
    counters.bytesIn += (data as Buffer).length;
    if (this.#bucket && !this.#bucket.take(now)) {
      this.#refuseForRate(data, isBinary);
      return;
    }
    if (this.#phase === 'greeting') {
      this.#backlog ??= [];
      if (this.#backlog.push({ data, isBinary }) > MAX_BACKLOG) {
        this.close(CLOSE_CODES.POLICY_VIOLATION, 'too many frames before welcome');
      }
      return;
    }
    this.#process(data, isBinary);
  }

  /** Over the rate limit: answer `RATE_LIMITED` where there is an id; close on sustained abuse. */
  #refuseForRate(data: RawData, isBinary: boolean): void {
    if (this.#bucket?.abusive === true) {
      this.close(CLOSE_CODES.POLICY_VIOLATION, 'message rate limit exceeded');
      return;
    }
    try {
      // A binary frame's header is enough to know what it was (its bytes are not needed).
      const parsed = parseClientEnvelope(isBinary ? JSON.parse(unpackFrame(data as Buffer).header) : parseText(data));
      const refused = new WirecallError('RATE_LIMITED', 'Too many messages; slow down');
      if (!parsed.ok) {
        if (parsed.id !== undefined) this.refuseFrame(parsed.id, refused);
        return;
      }
      const { envelope } = parsed;
      switch (envelope.t) {
        case 'call':
        case 'sub':
        case 'psub':
          this.refuseFrame(envelope.id, refused);
          return;
        case 'pset':
          if (this.#phase === 'ready') this.#presenceOf().refuse(envelope.id, refused);
          return;
        case 'cancel':
        case 'unsub':
        case 'pdel':
          // Only frees work: honoured even over the limit (the client already counts it done);
          // before welcome the frames it would act on are still queued, so it waits with them.
          if (this.#phase === 'ready') this.#handle(envelope);
          return;
        case 'credit':
        case 'item':
        case 'end': {
          // Dropped, it would leave its call waiting forever while the client takes the refusal
          // as that call's answer: the call ends here, with the refusal as its one answer.
          const call = this.#inFlight?.get(envelope.id);
          if (call === undefined) return;
          call.abort(refused);
          this.callSettled(call);
          this.replyError(envelope.id, refused);
          return;
        }
        case 'msg':
          this.#messageFailed(envelope.n, refused);
          return;
        default:
          return; // hello, ping: nothing to answer
      }
    } catch {
      // Not even JSON: nothing to answer; it still counts as a refusal.
    }
  }

  #process(data: RawData, isBinary: boolean): void {
    let frame: unknown;
    let body: Uint8Array | undefined;
    try {
      if (isBinary) {
        const unpacked = unpackFrame(data as Buffer);
        body = unpacked.body;
        frame = JSON.parse(unpacked.header);
      } else {
        frame = parseText(data);
      }
    } catch {
      this.close(CLOSE_CODES.PROTOCOL_ERROR, isBinary ? 'malformed binary frame' : 'frame is not valid JSON');
      return;
    }
    const parsed = parseClientEnvelope(frame);
    // Until the handshake is done, only a valid hello is an acceptable frame; nothing is answered.
    if (this.#phase === 'hello' && (!parsed.ok || parsed.envelope.t !== 'hello')) {
      this.close(CLOSE_CODES.BAD_HELLO, 'the first frame must be a valid hello');
      return;
    }
    if (!parsed.ok) {
      if (parsed.id === undefined) this.close(CLOSE_CODES.PROTOCOL_ERROR, parsed.reason);
      else this.refuseFrame(parsed.id, new WirecallError('BAD_REQUEST', parsed.reason));
      return;
    }
    if (body !== undefined) {
      // The bytes go back where the header points; the value is then decoded like any other.
      try {
        putBytes(parsed.envelope as WireValue, body);
      } catch (error) {
        const id = 'id' in parsed.envelope ? parsed.envelope.id : undefined;
        const reason = error instanceof Error ? error.message : 'malformed binary frame';
        if (id === undefined) this.close(CLOSE_CODES.PROTOCOL_ERROR, reason);
        else this.replyError(id, new WirecallError('BAD_REQUEST', reason));
        return;
      }
    }
    try {
      this.#handle(parsed.envelope);
    } catch (error) {
      this.#fault(error);
    }
  }

  /** Application code is isolated where it runs; reaching here is a wirecall bug, never a crash. */
  #fault(error: unknown): void {
    this.host.logger.error({ err: error, connection: this.id }, 'unexpected error while handling a frame');
    this.close(CLOSE_CODES.INTERNAL_ERROR, 'internal error');
  }

  #handle(envelope: ClientEnvelope): void {
    if (this.#phase === 'hello') {
      if (envelope.t === 'hello') this.#greet(envelope).catch((error: unknown) => this.#fault(error));
      return;
    }
    switch (envelope.t) {
      case 'call':
        this.#onCall(envelope);
        return;
      case 'cancel': {
        const call = this.#inFlight?.get(envelope.id);
        if (call === undefined) return;
        call.abort(new WirecallError('CANCELLED', 'The caller cancelled the call'));
        this.callSettled(call);
        return;
      }
      case 'sub':
        if (this.idInUse(envelope.id) || this.streamCount >= this.host.limits.maxSubscriptions) {
          this.#refuseStream(envelope.id);
          return;
        }
        this.#subscriptions ??= new ConnectionSubscriptions(
          this,
          Math.min(CONFLATION_HIGH_WATER_BYTES, this.host.limits.maxBufferedBytes / 4),
        );
        this.#subscriptions.subscribe(envelope).catch((error: unknown) => this.#fault(error));
        return;
      case 'unsub':
        this.#subscriptions?.unsubscribe(envelope.id);
        this.#presence?.unobserve(envelope.id);
        return;
      case 'psub':
        if (this.idInUse(envelope.id) || this.streamCount >= this.host.limits.maxSubscriptions) {
          this.#refuseStream(envelope.id);
          return;
        }
        this.#presenceOf()
          .observe(envelope)
          .catch((error: unknown) => this.#fault(error));
        return;
      case 'pset':
        this.#presenceOf().set(envelope);
        return;
      case 'pdel':
        this.#presence?.leave(envelope);
        return;
      case 'ping':
        this.send('{"t":"pong"}');
        return;
      case 'credit':
        // Credits for a call that ended (or never streamed) are late or wrong: ignored, like a late cancel.
        this.#inFlight?.get(envelope.id)?.credits?.grant(envelope.n);
        return;
      case 'item':
      case 'end':
        this.#inFlight?.get(envelope.id)?.acceptInput(envelope);
        return;
      case 'msg':
        this.#onMessage(envelope);
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

  #presenceOf(): ConnectionPresence {
    return (this.#presence ??= new ConnectionPresence(this));
  }

  /** A `sub` or `psub` whose id is taken, or one stream too many. */
  #refuseStream(id: RequestId): void {
    const { maxSubscriptions } = this.host.limits;
    this.refuseFrame(
      id,
      this.idInUse(id)
        ? new WirecallError('BAD_REQUEST', 'This id is in use by a subscription or a call in flight')
        : new WirecallError('RATE_LIMITED', `At most ${maxSubscriptions} subscriptions per connection`),
    );
  }

  /** Checks the contract and the connection params, builds the ctx, then welcomes the client. */
  async #greet(hello: HelloEnvelope): Promise<void> {
    this.#phase = 'greeting';
    this.#binary = hello.bin === true;
    clearTimeout(this.#handshakeTimer);
    this.#handshakeTimer = undefined;
    const { contract, logger } = this.host;
    if (hello.fp !== contract.fingerprint) {
      if (this.host.strictContract) {
        // The reason carries the server's fingerprint: a client in another language learns it in-band.
        this.close(CLOSE_CODES.CONTRACT_MISMATCH, `contracts differ; server fp ${contract.fingerprint}`);
        return;
      }
      logger.warn(
        { connection: this.id, client: hello.fp, server: contract.fingerprint },
        'a client built from a different contract connected; calls may fail validation',
      );
    }
    let ctx: unknown;
    try {
      let connectionParams: unknown;
      const schema = contract.connectionParams as ZodType | undefined;
      if (schema !== undefined) {
        const checked = checkSchema(schema, decodeValue(hello));
        if (!checked.ok) throw new WirecallError('UNAUTHORIZED', 'invalid connection params');
        connectionParams = checked.value;
      }
      ctx = await this.host.createContext({ request: this.#request!, auth: this.#auth, connectionParams });
      this.user = this.host.identify(ctx);
    } catch (thrown) {
      const error = toWirecallError(thrown);
      if (error.code === 'INTERNAL') logger.error({ err: error.cause, connection: this.id }, 'context factory failed');
      this.close(closeCodeForRefusal(error), error.code === 'INTERNAL' ? 'internal error' : error.message);
      return;
    }
    if (this.#closed) return;
    this.ctx = ctx;
    this.member = this.user ?? anonymousMember(hello.cid ?? this.id);
    this.#phase = 'ready';
    this.host.connectionReady(this);
    this.send(
      encodeFrame({
        t: 'welcome',
        fp: contract.fingerprint,
        hb: this.host.heartbeatIntervalMs,
        mi: this.host.limits.maxInFlightCalls,
        mp: this.host.limits.maxPayloadBytes,
        ms: this.host.limits.maxStreams,
        ...(this.#binary ? { bin: true } : {}),
      }),
    );
    // The request and the auth result have served their purpose (the context holds what it needs).
    this.#request = undefined;
    this.#auth = undefined;
    const backlog = this.#backlog ?? [];
    this.#backlog = undefined;
    for (const { data, isBinary } of backlog) if (!this.#closed) this.#process(data, isBinary);
  }

  /**
   * A message without an answer: checked, then handed to its handler. Nothing goes back unless it
   * fails (unknown, invalid, refused, or a handler fault): then an `error` frame names the message.
   * A handler is isolated like a call's: whatever it throws or rejects with is caught.
   */
  #onMessage(envelope: MessageEnvelope): void {
    const { n } = envelope;
    const entry = this.host.messages.get(n);
    if (entry === undefined) {
      this.#messageFailed(n, new WirecallError('NOT_FOUND', `Unknown message ${n}`));
      return;
    }
    try {
      const checked = checkSchema(entry.def.payload, decodeValue(envelope));
      if (!checked.ok) {
        throw new WirecallError('BAD_REQUEST', `Invalid payload for ${n}`, { data: { issues: checked.issues } });
      }
      const result = entry.handler({ payload: checked.value, ctx: this.ctx, connection: this, meta: { message: n } });
      const then = (result as { then?: unknown } | null | undefined)?.then;
      if (typeof then === 'function') {
        Promise.resolve(result).then(undefined, (error: unknown) => this.#messageFailed(n, error));
      }
    } catch (error) {
      this.#messageFailed(n, error);
    }
  }

  #messageFailed(name: string, failure: unknown): void {
    const error = toWirecallError(failure);
    if (error.code === 'INTERNAL') {
      this.host.logger.error({ err: error.cause ?? error, message: name, connection: this.id }, 'message failed');
    }
    const encoded = encodeErrorBody(error, this.host.logger);
    this.host.counters.countError(encoded.code);
    safeHook(this.host, 'onError', () => this.host.hooks.onError?.(error, { connection: this }));
    this.send(`{"t":"error","n":${JSON.stringify(name)},"e":${encoded.json}}`);
  }

  #onCall(envelope: CallEnvelope): void {
    if (this.host.closing) {
      // `notExecuted` promises the client the handler never ran, so it may send the call elsewhere.
      this.replyError(
        envelope.id,
        new WirecallError('UNAVAILABLE', 'The server is shutting down', { data: { notExecuted: true } }),
      );
      return;
    }
    const calls = (this.#inFlight ??= new Map());
    if (this.idInUse(envelope.id)) {
      const message = calls.has(envelope.id)
        ? 'A call with this id is already in flight'
        : 'This id is in use by a subscription: ids are unique across calls and subscriptions';
      this.refuseFrame(envelope.id, new WirecallError('BAD_REQUEST', message));
      return;
    }
    const { maxInFlightCalls } = this.host.limits;
    // Handlers still winding down after a cancel may run beside a full window, up to one more.
    if (calls.size >= maxInFlightCalls || calls.size + (this.#windingDown?.size ?? 0) >= 2 * maxInFlightCalls) {
      this.replyError(
        envelope.id,
        new WirecallError('RATE_LIMITED', `At most ${maxInFlightCalls} calls in flight`, {
          data: { maxInFlightCalls },
        }),
      );
      return;
    }
    const entry = this.host.procedures.get(envelope.p);
    const streaming = entry !== undefined && (entry.def.stream !== undefined || entry.def.inputStream !== undefined);
    if (streaming) {
      const { maxStreams } = this.host.limits;
      if (this.#streaming >= maxStreams) {
        this.replyError(
          envelope.id,
          new WirecallError('RATE_LIMITED', `At most ${maxStreams} streams at once`, { data: { maxStreams } }),
        );
        return;
      }
      this.#streaming++;
    }
    const call = new ServerCall(this.host, this, envelope);
    // A stream has no overall deadline here: the caller's timeout is per item, and it cancels.
    const tm = streaming ? undefined : envelope.tm;
    const receivedAt = tm === undefined ? 0 : Date.now();
    calls.set(envelope.id, call);
    runCall(call, envelope);
    // Most handlers answer synchronously, and their deadline would only be scheduled to be
    // cancelled: it is scheduled once the call is known to outlive this tick, from when it arrived.
    if (tm !== undefined && calls.get(envelope.id) === call) {
      call.deadline = this.host.deadlines.schedule(tm - (Date.now() - receivedAt), () =>
        call.abort(new WirecallError('TIMEOUT', 'The caller’s deadline passed')),
      );
    }
  }

  /** Frees everything the connection held; runs once, whichever way the socket ended. */
  #release(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#handshakeTimer);
    this.#handshakeTimer = undefined;
    this.#backlog = undefined;
    this.#request = undefined;
    this.#subscriptions?.release();
    // Only a close the client asked for (1000) is a departure; any other drop may come back.
    this.#presence?.release(this.#closeInfo?.code === CLOSE_CODES.NORMAL);
    const lost = new WirecallError('CONNECTION_LOST', 'The connection closed');
    // A server that is shutting down will never see the retry a surviving call waits for.
    for (const call of this.#inFlight?.values() ?? []) {
      if (!call.survivesDisconnect || this.host.closing) call.abort(lost);
    }
    this.host.connectionClosed(this, this.#closeInfo ?? { code: CLOSE_CODES.ABNORMAL, reason: '' });
  }
}

/**
 * The presence member of a connection without a user: a hash of its client's id, which stays the
 * same across reconnects (no leave and join when it comes back) and is never shown itself, so no
 * one can join as another's client.
 */
function anonymousMember(clientId: string): string {
  return `anon-${createHash('sha256').update(clientId).digest('base64url').slice(0, 16)}`;
}

/** JSON of a text frame. `ws` has already checked it is valid UTF-8, so no decoder has to again. */
function parseText(data: RawData): unknown {
  return JSON.parse((data as Buffer).toString());
}

/** The most a close frame's reason may hold (RFC 6455: 125 bytes of payload less the code). */
const MAX_CLOSE_REASON_BYTES = 123;

/** A close reason that fits the frame: ws throws on a longer one (an application's long message). */
function closeReason(reason: string): string {
  if (Buffer.byteLength(reason) <= MAX_CLOSE_REASON_BYTES) return reason;
  let cut = Buffer.from(reason).subarray(0, MAX_CLOSE_REASON_BYTES).toString();
  // A multi-byte character cut in two decodes to U+FFFD (3 bytes): drop until it fits.
  while (Buffer.byteLength(cut) > MAX_CLOSE_REASON_BYTES) cut = cut.slice(0, -1);
  return cut;
}

/** The close code that tells the client why its `hello` was refused. */
function closeCodeForRefusal(error: WirecallError): number {
  switch (error.code) {
    case 'UNAUTHORIZED':
      return CLOSE_CODES.UNAUTHORIZED;
    case 'FORBIDDEN':
      return CLOSE_CODES.FORBIDDEN;
    case 'BAD_REQUEST':
      return CLOSE_CODES.BAD_HELLO; // connection params whose encoding was refused
    default:
      return CLOSE_CODES.INTERNAL_ERROR;
  }
}
