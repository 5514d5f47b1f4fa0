import {
  CLOSE_ABNORMAL,
  CLOSE_CLIENT_RECONNECTING,
  CLOSE_NORMAL,
  CLOSE_PROTOCOL_ERROR,
  CLOSE_UNAUTHORIZED,
  closeCodeBehavior,
  isWirecallError,
  parseServerEnvelope,
  PROTOCOL,
  WirecallError,
  type ServerEnvelope,
  type WelcomeEnvelope,
  type WireValue,
} from '@wirecall/core/internal';
import type { BinaryFrames } from '../binary-hooks.js';
import type { ResolvedHeartbeat, ResolvedReconnect, UrlOption } from '../options.js';
import { backoffDelay } from './backoff.js';
import { errorForClose } from './close-error.js';
import { Heartbeat } from './heartbeat.js';
// Node's tuning of `ws` sockets, or nothing in browsers: package.json's `imports` picks the file.
import { socketTuning } from '#socket-tuning';

/** The client's connection state; see the diagram on {@link ConnectionManager}. */
export type ClientState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** One state transition, as reported to `onStateChange` listeners. */
export interface StateChange {
  state: ClientState;
  previous: ClientState;
  /** Consecutive failed attempts so far (0 once open). */
  attempt: number;
  /** When `reconnecting`: how long until the next attempt. */
  delayMs?: number;
  /** The close code that ended the previous socket, if any. */
  closeCode?: number;
  /** Why the connection went down or closed for good. */
  error?: WirecallError;
  /** The last round-trip time measured (a heartbeat or `client.ping()`), in ms. */
  rttMs?: number;
  /**
   * With the HTTP transport configured: the transport of the attempt this change is about
   * (`http`: Server-Sent Events and POSTs; see docs/http.md).
   */
  transport?: 'websocket' | 'http';
}

/** The socket surface wirecall uses: what browsers' WebSocket and `ws` both provide. */
export interface SocketLike {
  binaryType: string;
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  /** Node's `ws` only: drops the TCP connection without a closing handshake. */
  terminate?(): void;
}

export type SocketConstructor = new (url: string, protocols: string | string[]) => SocketLike;

/** What the manager tells the rest of the client. */
export interface ConnectionHooks {
  /** The first frame of every socket: `hello`, built fresh (connection params may change). */
  hello(): string | Promise<string>;
  /** The server welcomed us: resubscribe, then flush queued calls. */
  opened(welcome: WelcomeEnvelope): void;
  /** A checked envelope other than `welcome`/`pong`. */
  received(envelope: ServerEnvelope): void;
  /** The socket went down; `final` when no reconnect will follow. */
  lost(error: WirecallError, final: boolean): void;
  /** No call is in flight: a good moment to move from HTTP back to a WebSocket. @default always */
  idle?(): boolean;
}

/**
 * Which transport each attempt uses: `@wirecall/client/http`'s fallback rule (see
 * docs/reconnection.md), so that apps without the HTTP transport ship none of it.
 */
export interface TransportPolicy {
  /** The next attempt's transport: the HTTP socket, or (Socket undefined) the WebSocket. */
  next(): { Socket: SocketConstructor | undefined; http: boolean };
  /** An attempt ended; true when the next one switches transport (then without backoff). */
  ended(attempt: { http: boolean; opened: boolean; welcomed: boolean; code: number }): boolean;
  /** An attempt was welcomed; `link` lets the policy move the client back to a WebSocket. */
  opened(http: boolean, link: PolicyLink): void;
  /** The connection went down or closed: stop whatever the policy was waiting for. */
  stop(): void;
}

/** What a transport policy may do with the connection it was told about in `opened`. */
export interface PolicyLink {
  readonly url: string;
  /** The client's WebSocket class, for probes. */
  readonly WebSocket: SocketConstructor;
  /** Whether that connection is still the current one. */
  current(): boolean;
  /** No call is in flight. */
  idle(): boolean;
  /** Replaces the connection now (as `client.reconnect()`). */
  reconnect(): void;
}

export interface ConnectionManagerOptions {
  url: UrlOption;
  WebSocket: SocketConstructor;
  reconnect: ResolvedReconnect | false;
  heartbeat: ResolvedHeartbeat | false;
  random: () => number;
  /** Reads binary frames (`@wirecall/client/binary`); without it the server sends text only. */
  binary?: BinaryFrames | undefined;
  /** The HTTP transport's policy, when the client has it; undefined: WebSocket only. */
  transport?: TransportPolicy | undefined;
  /**
   * Where exceptions of `onStateChange` listeners go; they never break the connection or other
   * listeners. @default console.error
   */
  reportError?: (error: unknown, context: string) => void;
}

/** Where listener exceptions go when the client hands over no logger of its own. */
const consoleReport = (error: unknown, context: string): void =>
  // eslint-disable-next-line no-console -- the fallback of `reportError`, as the client's default logger prints
  console.error(`[wirecall] error in ${context}`, error);

/** A session that stayed open this long resets the count of refusals in a row. */
const STABLE_SESSION_MS = 30_000;
/** Connect-attempt budget when the heartbeat is off. */
const DEFAULT_CONNECT_TIMEOUT_MS = 20_000;
const OPEN = 1;

/**
 * Owns the one socket of a client and replaces it when it dies.
 *
 * ```
 *              start()
 *                 │
 *                 ▼         welcome           drop / heartbeat timeout
 *           ┌──────────┐ ───────────► ┌──────┐ ─────────────────────┐
 *           │connecting│              │ open │                      ▼
 *           └──────────┘ ◄─ ─ ─ ─ ─ ─ └──────┘ ◄──welcome── ┌────────────┐
 *                 │ fail                                    │reconnecting│◄─┐ fail: attempt+1,
 *                 └────────────────────────────────────────►└────────────┘──┘ wait backoff
 *   close(), code 1000, reconnect:false, maxAttempts or maxRefusals reached: ──► closed (final)
 * ```
 *
 * With the HTTP transport, a {@link TransportPolicy} picks each attempt's socket (http/fallback.ts).
 */
export class ConnectionManager {
  #state: ClientState = 'connecting';
  #attempt = 0;
  #refusals = 0;
  /** When the current socket was welcomed; a refusal after a long healthy session starts a new count. */
  #openedAt: number | undefined;
  #urlIndex = 0;
  #socket: SocketLike | undefined;
  #heartbeat: Heartbeat | undefined;
  #connectTimer: ReturnType<typeof setTimeout> | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #closedPromise: Promise<void> | undefined;
  #resolveClosed: (() => void) | undefined;
  readonly #listeners = new Set<(change: StateChange) => void>();
  /** Pings sent on the current socket and not answered yet, oldest first. */
  readonly #pings: {
    sentAt: number;
    waiter: { resolve: (rttMs: number) => void; reject: (error: unknown) => void } | undefined;
  }[] = [];
  #rttMs: number | undefined;
  readonly #options: ConnectionManagerOptions;
  readonly #hooks: ConnectionHooks;
  readonly #reportError: (error: unknown, context: string) => void;
  /** The current attempt goes over HTTP. */
  #attemptHttp = false;
  /** The current socket opened (for a WebSocket: the upgrade went through). */
  #socketOpened = false;
  #url: string | undefined;

  constructor(options: ConnectionManagerOptions, hooks: ConnectionHooks) {
    this.#options = options;
    this.#hooks = hooks;
    this.#reportError = options.reportError ?? consoleReport;
  }

  get state(): ClientState {
    return this.#state;
  }

  onStateChange(listener: (change: StateChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  start(): void {
    void this.#connect();
  }

  /** Sends a frame (text, or binary) on the open socket; false when there is none (the caller queues). */
  send(frame: string | Uint8Array): boolean {
    if (this.#state !== 'open' || this.#socket?.readyState !== OPEN) return false;
    socketTuning?.sending(this.#socket);
    this.#socket.send(frame);
    return true;
  }

  /**
   * Measures the round trip to the server: resolves with the milliseconds from this ping to its
   * pong. Rejects with `UNAVAILABLE` when not connected, and with `CONNECTION_LOST` when the socket
   * goes before the pong comes.
   */
  ping(): Promise<number> {
    const socket = this.#socket;
    if (this.#state !== 'open' || socket?.readyState !== OPEN) {
      return Promise.reject(new WirecallError('UNAVAILABLE', 'Not connected; nothing to ping'));
    }
    return new Promise((resolve, reject) => this.#sendPing(socket, { resolve, reject }));
  }

  /** The last round-trip time measured, in ms (undefined before the first pong). */
  get rttMs(): number | undefined {
    return this.#rttMs;
  }

  /**
   * Drops the socket and connects again at once (say, after a token refresh: `connectionParams`
   * is evaluated again). Subscriptions resume and queued calls wait, as after any drop.
   */
  reconnect(): void {
    if (this.#state === 'closed') return;
    if (this.#socket !== undefined) this.#drop(this.#socket, 'the client reconnects');
    this.retryNow();
  }

  /** Sends a ping; its pong (answered in order) gives the round trip. */
  #sendPing(socket: SocketLike, waiter?: { resolve: (rttMs: number) => void; reject: (error: unknown) => void }): void {
    this.#pings.push({ sentAt: Date.now(), waiter });
    socket.send('{"t":"ping"}');
  }

  /** Skips the rest of a backoff wait (the page came back online or became visible). */
  retryNow(): void {
    if (this.#state !== 'reconnecting' || this.#retryTimer === undefined) return;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    void this.#connect();
  }

  /** Closes for good with 1000; resolves when the socket has closed (or at once without one). */
  close(): Promise<void> {
    if (this.#state === 'closed') return this.#closedPromise ?? Promise.resolve();
    clearTimeout(this.#retryTimer);
    const socket = this.#socket;
    this.#teardown();
    this.#setState('closed', { error: new WirecallError('CLOSED', 'The client was closed') });
    if (socket === undefined) return Promise.resolve();
    this.#closedPromise = new Promise<void>((resolve) => {
      // Never hang a shutdown on a peer that does not finish the close handshake.
      const fallback = setTimeout(resolve, 1_000);
      const done = (): void => {
        clearTimeout(fallback);
        resolve();
      };
      this.#resolveClosed = done;
      socket.onclose = done;
      socket.close(CLOSE_NORMAL, 'client closed');
    });
    return this.#closedPromise;
  }

  async #connect(): Promise<void> {
    this.#retryTimer = undefined;
    let url: string;
    let hello: string;
    try {
      url = await this.#nextUrl();
      hello = await this.#hooks.hello();
    } catch (error) {
      // Connection params the contract refuses are the server's 4401, found without a round trip:
      // a refusal, backed off and counted like one.
      const refused = isWirecallError(error) && error.code === 'UNAUTHORIZED';
      this.#down(
        refused ? CLOSE_UNAUTHORIZED : CLOSE_ABNORMAL,
        error instanceof Error ? error.message : 'could not resolve the URL',
      );
      return;
    }
    if (this.#state === 'closed') return;
    let socket: SocketLike;
    this.#url = url;
    const choice = this.#options.transport?.next();
    this.#attemptHttp = choice?.http === true;
    try {
      socket = new (choice?.Socket ?? this.#options.WebSocket)(url, PROTOCOL);
    } catch (error) {
      this.#down(CLOSE_ABNORMAL, error instanceof Error ? error.message : 'invalid URL');
      return;
    }
    this.#socket = socket;
    socket.binaryType = 'arraybuffer';
    const timeoutMs = this.#options.heartbeat ? this.#options.heartbeat.timeoutMs : DEFAULT_CONNECT_TIMEOUT_MS;
    this.#connectTimer = setTimeout(() => this.#drop(socket, 'connect timed out'), timeoutMs);
    this.#socketOpened = false;
    socket.onopen = () => {
      this.#socketOpened = true;
      socket.send(hello);
    };
    let refusedWith: number | undefined;
    // 'close' always follows an error; an HTTP refusal of the upgrade becomes its close code.
    socket.onerror = (event) => {
      refusedWith ??= socketTuning?.refusal(event);
    };
    socket.onclose = (event) => {
      if (this.#socket !== socket) return;
      if (refusedWith !== undefined && event.code === CLOSE_ABNORMAL) {
        this.#down(refusedWith, 'the server refused the upgrade');
      } else {
        this.#down(event.code, event.reason);
      }
    };
    const onData = (data: unknown): void => {
      if (this.#socket === socket) this.#onMessage(socket, data);
    };
    if (socketTuning?.listen(socket, onData) !== true) socket.onmessage = (event) => onData(event.data);
  }

  #onMessage(socket: SocketLike, data: unknown): void {
    this.#heartbeat?.touch();
    let envelope: ServerEnvelope;
    try {
      // Text frames arrive as strings (browsers and `ws`), binary frames as ArrayBuffers; a server
      // sends binary only to a client that asked (so one without the codec throws here).
      const frames = this.#options.binary;
      const binary = typeof data === 'string' ? undefined : frames!.unpack(new Uint8Array(data as ArrayBuffer));
      const parsed = parseServerEnvelope(JSON.parse(binary === undefined ? (data as string) : binary.header));
      if (!parsed.ok) throw new Error(parsed.reason);
      envelope = parsed.envelope;
      // A binary frame's bytes go back into its value, which then decodes like any other.
      // The frame's ArrayBuffer is this message's alone (browsers and ws hand over one per message).
      if (binary !== undefined) frames!.putBytes(envelope as WireValue, binary.body, true);
    } catch {
      // A server that speaks something else cannot be talked to; do not guess.
      this.#drop(socket, 'the server sent a frame that is not wirecall.v1', CLOSE_PROTOCOL_ERROR);
      return;
    }
    if (envelope.t === 'pong') {
      // The server answers pings in order: this pong is the oldest ping's.
      const ping = this.#pings.shift();
      if (ping !== undefined) {
        this.#rttMs = Date.now() - ping.sentAt;
        ping.waiter?.resolve(this.#rttMs);
      }
      return;
    }
    if (envelope.t === 'welcome') {
      this.#opened(socket, envelope);
      return;
    }
    this.#hooks.received(envelope);
  }

  #opened(socket: SocketLike, welcome: WelcomeEnvelope): void {
    clearTimeout(this.#connectTimer);
    this.#attempt = 0;
    this.#openedAt = Date.now();
    const { heartbeat } = this.#options;
    if (heartbeat) {
      this.#heartbeat = new Heartbeat(
        heartbeat,
        () => socket.readyState === OPEN && this.#sendPing(socket),
        () => this.#drop(socket, 'heartbeat timed out'),
      );
      this.#heartbeat.start();
    }
    this.#setState('open', {});
    this.#hooks.opened(welcome);
    const url = this.#url!;
    this.#options.transport?.opened(this.#attemptHttp, {
      url,
      WebSocket: this.#options.WebSocket,
      current: () => this.#socket === socket,
      idle: () => this.#hooks.idle?.() ?? true,
      reconnect: () => this.reconnect(),
    });
  }

  /** Abandons a socket that is unresponsive or misbehaving, and handles it as closed. */
  #drop(socket: SocketLike, reason: string, code: number = CLOSE_ABNORMAL): void {
    if (this.#socket !== socket) return;
    socket.onclose = null;
    socket.onmessage = null;
    try {
      // A half-open peer will never answer a close frame: cut the TCP connection where we can.
      if (code === CLOSE_ABNORMAL && socket.terminate) socket.terminate();
      // Not 1000: a normal close tells the server the client left (its presence goes at once).
      else socket.close(code === CLOSE_ABNORMAL ? CLOSE_CLIENT_RECONNECTING : code, reason);
    } catch {
      // Closing a socket that never opened can throw in some runtimes; it is abandoned either way.
    }
    this.#down(code, reason);
  }

  #teardown(): void {
    clearTimeout(this.#connectTimer);
    this.#options.transport?.stop();
    this.#heartbeat?.stop();
    this.#heartbeat = undefined;
    this.#socket = undefined;
    const lost = new WirecallError('CONNECTION_LOST', 'The connection closed before the pong');
    for (const { waiter } of this.#pings.splice(0)) waiter?.reject(lost);
  }

  #down(code: number, reason: string): void {
    const openedAt = this.#openedAt;
    this.#openedAt = undefined;
    this.#teardown();
    if (this.#state === 'closed') {
      this.#resolveClosed?.();
      return;
    }
    const error = errorForClose(code, reason);
    const behavior = closeCodeBehavior(code);
    const reconnect = this.#options.reconnect;
    // Refusals count "in a row": any other failure, or a refusal after a long healthy session (an
    // expired token an hour later), starts the count again. A refusal right after welcome (1009 for
    // a message the server will refuse again) does not, so it cannot loop forever.
    const stable = openedAt !== undefined && Date.now() - openedAt >= STABLE_SESSION_MS;
    this.#refusals = behavior === 'refused' ? (stable ? 1 : this.#refusals + 1) : 0;
    this.#attempt++;
    const switching =
      this.#options.transport?.ended({
        http: this.#attemptHttp,
        opened: this.#socketOpened,
        welcomed: openedAt !== undefined,
        code,
      }) === true;
    const final =
      reconnect === false ||
      behavior === 'stop' ||
      this.#attempt > reconnect.maxAttempts ||
      (behavior === 'refused' && this.#refusals >= reconnect.maxRefusals);
    if (final) {
      this.#setState('closed', { closeCode: code, error });
      this.#hooks.lost(error, true);
      return;
    }
    const delayMs =
      switching || (behavior === 'reconnect-now' && this.#attempt === 1)
        ? 0
        : backoffDelay(this.#attempt, reconnect, this.#options.random);
    this.#setState('reconnecting', { closeCode: code, error, delayMs });
    this.#hooks.lost(error, false);
    if (this.#state === 'reconnecting') this.#retryTimer = setTimeout(() => void this.#connect(), delayMs);
  }

  #nextUrl(): string | Promise<string> {
    const { url } = this.#options;
    if (typeof url === 'function') return url();
    if (typeof url === 'string') return url;
    if (url.length === 0) throw new TypeError('wirecall: url list is empty');
    // A failed attempt moves to the next URL, so losing a node moves its clients to the others.
    const index = this.#attempt === 0 ? this.#urlIndex : ++this.#urlIndex;
    return url[index % url.length] as string;
  }

  #setState(state: ClientState, details: Omit<StateChange, 'state' | 'previous' | 'attempt'>): void {
    const previous = this.#state;
    this.#state = state;
    const change: StateChange = {
      state,
      previous,
      attempt: this.#attempt,
      ...(this.#rttMs === undefined ? {} : { rttMs: this.#rttMs }),
      ...(this.#options.transport && { transport: this.#attemptHttp ? 'http' : 'websocket' }),
      ...details,
    };
    // A listener that throws must not stop the others, nor the transition itself: the retry timer,
    // the flush of queued calls and the close all run after this loop.
    for (const listener of [...this.#listeners]) {
      try {
        listener(change);
      } catch (error) {
        this.#reportError(error, 'onStateChange listener');
      }
    }
  }
}
