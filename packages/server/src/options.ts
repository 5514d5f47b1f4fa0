import type { IncomingMessage } from 'node:http';
import type { AnyContract, EventName, inferParsedConnectionParams } from '@wirecall/core/internal';
import type { Broker } from './broker/broker.js';
import type { HistoryOptions } from './broker/memory-broker.js';
import type { ConnectionInfo } from './connection/connection-info.js';
import type { Handlers, Middleware } from './router/handlers.js';
import type { MessageHandlers } from './router/messages.js';
import type { IdempotencyOptions } from './router/idempotency-cache.js';
import type { Logger } from './logger.js';

/** What `authenticate` receives: the HTTP upgrade request, before any WebSocket exists. */
export interface AuthenticateArgs {
  request: IncomingMessage;
}

/** What the `context` factory receives once the client's `hello` has arrived. */
export interface ContextArgs<TContract extends AnyContract, TAuth = undefined> {
  /** The HTTP upgrade request: headers, URL, remote address. */
  request: IncomingMessage;
  /** What `authenticate` returned (undefined without it). */
  auth: TAuth;
  /** The client's connection params, already validated against the contract's schema. */
  connectionParams: inferParsedConnectionParams<TContract>;
}

/** The context handlers get when the server has no `context` option. */
export interface DefaultContext<TContract extends AnyContract, TAuth> {
  auth: TAuth;
  connectionParams: inferParsedConnectionParams<TContract>;
}

export interface HeartbeatOptions {
  /** How often the server pings each connection. @default 15_000 */
  intervalMs?: number;
  /** A connection that has sent nothing (not even a pong) for this long is terminated. @default 30_000 */
  timeoutMs?: number;
}

/** A token bucket per connection: `messagesPerSecond` sustained, bursts up to `burst`. */
export interface RateLimitOptions {
  /** @default 1_000 */
  messagesPerSecond?: number;
  /** @default 2_000 */
  burst?: number;
}

/** Bounds on what one connection may hold or ask for; each has a safe default. */
export interface LimitOptions {
  /** Largest frame accepted, checked before any parsing; a larger one closes with 1009. @default 1_048_576 */
  maxPayloadBytes?: number;
  /** Calls running at once on one connection; more get `RATE_LIMITED` without running. @default 128 */
  maxInFlightCalls?: number;
  /** Streams one connection may subscribe to; more get `RATE_LIMITED`. @default 256 */
  maxSubscriptions?: number;
  /**
   * Streaming calls (procedures with a `stream` or an `inputStream`) open at once on one
   * connection; more get `RATE_LIMITED` without running. They count as calls in flight too. @default 32
   */
  maxStreams?: number;
  /** Time for the first frame (`hello`) to arrive; then the connection closes with 4408. @default 10_000 */
  handshakeTimeoutMs?: number;
  /**
   * Bytes waiting in one connection's send buffer before it counts as a slow consumer and is closed
   * with 4001 (conflated streams are thinned out long before). @default 8_388_608
   */
  maxBufferedBytes?: number;
  /**
   * Message rate per connection; excess messages get `RATE_LIMITED`. Refusals leak away at half the
   * rate; more than `burst` outstanding (a flood, or a steady 1.5× the rate) close with 1008. `false`: none.
   */
  rateLimit?: RateLimitOptions | false;
}

/** Connections the server accepts at once; more are answered HTTP 503 at the upgrade. */
export interface MaxConnectionsOptions {
  /** @default 10_000 */
  total?: number;
  /** @default 100 */
  perIp?: number;
}

/** Lifecycle hooks for metrics and audit; exceptions they throw are logged, never propagated. */
export interface ServerHooks {
  onConnection?: (connection: ConnectionInfo) => void;
  onDisconnect?: (connection: ConnectionInfo, close: { code: number; reason: string }) => void;
  /** Every error the server answers with or swallows (handler failures, bad frames, broker trouble). */
  onError?: (error: Error, details: { connection?: ConnectionInfo; procedure?: string }) => void;
}

/** What `canSubscribe` receives. */
export interface SubscribeCheckArgs<TContract extends AnyContract, TContext> {
  event: EventName<TContract>;
  /** The subscription params, parsed by the event's params schema (undefined without params). */
  params: unknown;
  ctx: TContext;
  connection: ConnectionInfo;
}

/** What `canJoin` receives. */
export interface JoinCheckArgs<TContract extends AnyContract, TContext> extends SubscribeCheckArgs<
  TContract,
  TContext
> {
  /** The member's data, parsed by the event's `presence` schema. */
  data: unknown;
}

export interface PresenceOptions {
  /**
   * How long a member whose connection dropped (without closing normally) stays present, so that a
   * client reconnecting to any node comes back without a leave and a join. @default 10_000
   */
  graceMs?: number;
  /** Members listed to a new observer; the count is always exact. At most 1_000. @default 100 */
  maxMembers?: number;
}

/**
 * The HTTP transport: the same contract for clients that cannot hold a WebSocket (a blocking proxy,
 * `curl`, a webhook). See docs/http.md.
 */
export interface HttpOptions {
  /**
   * `cache-control` of successful `GET <path>/call/<name>` answers (idempotent procedures), by
   * procedure; undefined (the default) answers `no-store`. @example 'private, max-age=60'
   */
  cacheControl?: string | ((procedure: string) => string | undefined);
}

export interface ServerOptions<TContract extends AnyContract, TContext, TAuth = undefined> {
  /**
   * Runs before the WebSocket upgrade, on the HTTP request (cookies, headers). Throwing
   * `UNAUTHORIZED` answers HTTP 401 and `FORBIDDEN` 403; no socket is opened. Its result is passed
   * to `context` as `auth` (and is `ctx.auth` without a `context` option).
   */
  authenticate?: (args: AuthenticateArgs) => TAuth | Promise<TAuth>;
  /**
   * Builds the per-connection context once the client's `hello` (with its connection params) has
   * arrived. Throwing `UNAUTHORIZED` closes the connection with 4401, `FORBIDDEN` with 4403.
   */
  context?: (args: ContextArgs<TContract, TAuth>) => TContext | Promise<TContext>;
  /** One handler per procedure of the contract. */
  handlers: Handlers<TContract, TContext>;
  /** One handler per client message of the contract (required when it declares some). */
  messages?: MessageHandlers<TContract, TContext>;
  /** Run around every handler, in order: authorization, logging, metrics. */
  middleware?: Middleware<TContext>[];
  /**
   * Refuses a subscription with `FORBIDDEN` when it returns false. A `WirecallError` it throws is
   * sent as is; anything else is sent as `INTERNAL` and logged (a failing permission lookup is not
   * the subscriber's fault).
   */
  canSubscribe?: (args: SubscribeCheckArgs<TContract, TContext>) => boolean | Promise<boolean>;
  /**
   * Refuses joining a stream's presence with `FORBIDDEN` when it returns false (observing it is
   * `canSubscribe`'s to decide). `data` is the member's data, parsed by the contract's schema.
   */
  canJoin?: (args: JoinCheckArgs<TContract, TContext>) => boolean | Promise<boolean>;
  /**
   * The user a connection belongs to, read from its context (`(ctx) => ctx.userId`), or undefined
   * for an anonymous one. A user's connections on every node are one presence member, receive
   * its personal events (`to: 'user'`), and are what `disconnectUser` and `connectionsOf` find.
   */
  identify?: (ctx: TContext) => string | undefined;
  /** Presence: how long dropped members stay, and how many members a newcomer is sent. */
  presence?: PresenceOptions;
  /**
   * Origins allowed to open a WebSocket (the `Origin` header browsers send), against cross-site
   * WebSocket hijacking; others get HTTP 403. Requests without an Origin (non-browser clients)
   * pass. @default undefined (every origin: set it for browser-facing servers)
   */
  allowedOrigins?: readonly string[] | ((origin: string) => boolean);
  /**
   * Connections this server accepts, in all and per IP (past them the upgrade gets 503). Not in
   * `limits`, which bound each connection: this bounds the node.
   */
  maxConnections?: MaxConnectionsOptions;
  /** What each connection may do: frame size, calls and streams at once, rate. */
  limits?: LimitOptions;
  /** Where events go between emit and subscribers; the default is in-memory, for one process. */
  broker?: Broker;
  /**
   * Recent events kept per stream for clients that resume, by the default in-memory broker. With a
   * broker of your own, give it there (`redisBroker({ history })`): both together are refused.
   */
  history?: HistoryOptions;
  /** How long answers of idempotent calls are kept for the client's retries after a drop. */
  idempotency?: IdempotencyOptions;
  /** Where the server reports handler failures and protocol trouble. @default consoleLogger */
  logger?: Logger;
  hooks?: ServerHooks;
  /** Refuse clients built from another contract (close 4409) instead of only warning. @default false */
  strictContract?: boolean;
  /** Liveness checks of each connection; `false` turns them off. */
  heartbeat?: HeartbeatOptions | false;
  /**
   * Also serve the contract over plain HTTP on the server's path: calls as requests
   * (`POST <path>/call/<name>`) and sessions over Server-Sent Events (`GET <path>/sse`), for
   * clients a proxy keeps from upgrading. `false`: WebSocket only. See docs/http.md. @default {}
   */
  http?: HttpOptions | false;
}

export const SERVER_DEFAULTS = {
  heartbeat: { intervalMs: 15_000, timeoutMs: 30_000 },
  limits: {
    maxPayloadBytes: 1024 * 1024,
    maxInFlightCalls: 128,
    maxSubscriptions: 256,
    maxStreams: 32,
    handshakeTimeoutMs: 10_000,
    maxBufferedBytes: 8 * 1024 * 1024,
    rateLimit: { messagesPerSecond: 1_000, burst: 2_000 },
  },
  maxConnections: { total: 10_000, perIp: 100 },
  presence: { graceMs: 10_000, maxMembers: 100 },
  /** Per stream, for resume: the newest `maxEvents`, none older than `maxAgeMs` (both brokers). */
  history: { maxEvents: 1_000, maxAgeMs: 300_000 },
  idempotency: { windowMs: 60_000, maxEntries: 10_000 },
  /** How long `close()` lets in-flight calls finish. */
  closeGraceMs: 5_000,
} as const;

/** The most members a presence sync lists, whatever `maxMembers` says (one frame stays small). */
export const MAX_LISTED_MEMBERS = 1_000;

export type ResolvedLimits = Required<Omit<LimitOptions, 'rateLimit'>> & {
  rateLimit: Required<RateLimitOptions> | false;
};

export function resolveLimits(limits: LimitOptions = {}): ResolvedLimits {
  const defaults = SERVER_DEFAULTS.limits;
  return {
    maxPayloadBytes: limits.maxPayloadBytes ?? defaults.maxPayloadBytes,
    maxInFlightCalls: limits.maxInFlightCalls ?? defaults.maxInFlightCalls,
    maxSubscriptions: limits.maxSubscriptions ?? defaults.maxSubscriptions,
    maxStreams: limits.maxStreams ?? defaults.maxStreams,
    handshakeTimeoutMs: limits.handshakeTimeoutMs ?? defaults.handshakeTimeoutMs,
    maxBufferedBytes: limits.maxBufferedBytes ?? defaults.maxBufferedBytes,
    rateLimit: limits.rateLimit === false ? false : { ...defaults.rateLimit, ...limits.rateLimit },
  };
}

export interface ListenOptions {
  /** @default 0 (any free port) */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** Only upgrade requests for this path are served. @default undefined (every path) */
  path?: string;
}

export interface AttachOptions {
  /** Only upgrade requests for this path are served; others are left to other listeners. */
  path?: string;
}

export interface CloseOptions {
  /** How long in-flight calls may run before their connections are closed. @default 5_000 */
  graceMs?: number;
}
