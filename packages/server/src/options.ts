import type { IncomingMessage } from 'node:http';
import type { AnyContract } from '@wirecall/core';
import type { Broker } from './broker/broker.js';
import type { HistoryOptions } from './broker/memory-broker.js';
import type { Handlers } from './router/handlers.js';
import type { IdempotencyOptions } from './router/idempotency-cache.js';
import type { Logger } from './logger.js';

/** What the `context` factory receives when a connection is being opened. */
export interface ContextArgs {
  /** The HTTP upgrade request: headers, URL, remote address. */
  request: IncomingMessage;
}

export interface HeartbeatOptions {
  /** How often the server pings each connection. @default 15_000 */
  intervalMs?: number;
  /** A connection that has not answered a ping within this time is terminated. @default 30_000 */
  timeoutMs?: number;
}

export interface ServerOptions<TContract extends AnyContract, TContext> {
  /** Builds the per-connection context once, at upgrade. Throwing `UNAUTHORIZED` answers HTTP 401. */
  context?: (args: ContextArgs) => TContext | Promise<TContext>;
  /** One handler per procedure of the contract. */
  handlers: Handlers<TContract, TContext>;
  /** Where events go between emit and subscribers; the default is in-memory, for one process. */
  broker?: Broker;
  /** Recent events kept per stream for clients that resume (default broker only). */
  history?: HistoryOptions;
  /** How long answers of idempotent calls are kept for the client's retries after a drop. */
  idempotency?: IdempotencyOptions;
  /** Where the server reports handler failures and protocol trouble. @default consoleLogger */
  logger?: Logger;
  /** Largest frame accepted, checked before any parsing; a larger one closes with 1009. @default 1_048_576 */
  maxPayloadBytes?: number;
  /** Refuse clients built from another contract (close 4409) instead of only warning. @default false */
  strictContract?: boolean;
  /** Liveness checks of each connection; `false` turns them off. */
  heartbeat?: HeartbeatOptions | false;
}

export const SERVER_DEFAULTS = {
  maxPayloadBytes: 1024 * 1024,
  heartbeat: { intervalMs: 15_000, timeoutMs: 30_000 },
} as const;

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
