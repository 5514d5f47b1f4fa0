import type { SocketConstructor, TransportPolicy } from './connection/connection-manager.js';

/**
 * Options of createClient, with their defaults and the reasoning behind them. See
 * docs/reconnection.md for the state machine these drive.
 */

/** Where to connect: one URL, a list to rotate through on reconnect, or a function run on every connect. */
export type UrlOption = string | readonly string[] | (() => string | Promise<string>);

export interface ReconnectOptions {
  /** Base delay of the first retry. @default 500 */
  minDelayMs?: number;
  /** Cap of the delay between retries. @default 30_000 */
  maxDelayMs?: number;
  /** Growth of the delay per attempt. @default 2 */
  factor?: number;
  /**
   * Share of each delay that is random: 1 is "full jitter" (anywhere in [0, delay]), 0 none. Full
   * jitter spreads 10,000 clients of a restarted server over the whole window. @default 1
   */
  jitter?: number;
  /** Give up (state `closed`) after this many failed attempts in a row. @default Infinity */
  maxAttempts?: number;
  /**
   * Refusals (auth, contract, protocol close codes) in a row after which the client stops instead of
   * retrying with state the server keeps refusing. @default 3
   */
  maxRefusals?: number;
}

export interface ClientHeartbeatOptions {
  /** Send a protocol-level ping when nothing has arrived for this long. @default 10_000 */
  intervalMs?: number;
  /**
   * Declare the connection dead when nothing (not even a pong) has arrived for this long, and replace
   * it. Under the 60 s idle timeout of common proxies and load balancers. @default 20_000
   */
  timeoutMs?: number;
}

/** Which transport the client uses: see docs/reconnection.md, "When the WebSocket cannot get through". */
export type TransportMode = 'websocket' | 'http' | 'auto';

/**
 * What `@wirecall/client/http`'s `httpTransport()` gives `createClient`: a socket over HTTP + SSE
 * and the fallback rule, as a policy the connection manager asks before each attempt.
 */
export interface HttpSupport {
  readonly Socket: SocketConstructor;
  policy(mode: 'http' | 'auto', fallback: FallbackOptions | undefined): TransportPolicy;
}

/** When `transport: 'auto'` leaves the WebSocket for HTTP, and when it tries the WebSocket again. */
export interface FallbackOptions {
  /**
   * WebSocket attempts in a row that end before `welcome` with a close code the client would retry
   * (1006: refused upgrade in browsers, no answer, a cut; a connect timeout) after which the next
   * attempt goes over HTTP, at once. Refusals by the server (4401, 4403, 1002, ...) do not count.
   * @default 2
   */
  afterFailures?: number;
  /**
   * While on HTTP, how often to try the WebSocket again: a probe socket is opened (and closed at
   * once); when it opens, the client moves back to a WebSocket as soon as no call is in flight.
   * @default 60_000
   */
  retryWebSocketMs?: number;
}

export const CLIENT_DEFAULTS = {
  timeoutMs: 30_000,
  streamWindow: 16,
  maxQueuedCalls: 1_000,
  reconnect: { minDelayMs: 500, maxDelayMs: 30_000, factor: 2, jitter: 1, maxAttempts: Infinity, maxRefusals: 3 },
  heartbeat: { intervalMs: 10_000, timeoutMs: 20_000 },
} as const;

export type ResolvedReconnect = Required<ReconnectOptions>;
export type ResolvedHeartbeat = Required<ClientHeartbeatOptions>;

/** What a call does while the client is not connected. */
export type WhenOffline = 'queue' | 'fail';

export interface CallOptions {
  /** Aborting it rejects the call with `CANCELLED` and aborts the handler's signal on the server. */
  signal?: AbortSignal;
  /**
   * The call's deadline; the server's handler signal aborts when it passes. For a streaming call,
   * the longest wait for the next item (or, for an upload, for the server to take more); the
   * stream as a whole may last longer. @default 30_000
   */
  timeoutMs?: number;
  /** `queue`: wait for the connection (within the timeout); `fail`: reject at once. @default 'queue' */
  whenOffline?: WhenOffline;
  /**
   * Streaming calls: how many items the server may send ahead of the consumer (its credit). The
   * client holds at most this many unread items; the server pulls its generator no further. @default 16
   */
  window?: number;
}
