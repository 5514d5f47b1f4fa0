import type { IncomingMessage } from 'node:http';
import type { AnyContract, EventDef, ProcedureDef } from '@wirecall/core/internal';
import type { DeadlineQueue } from '../utils/deadline-queue.js';
import type { Broker } from '../broker/broker.js';
import type { Logger } from '../logger.js';
import type { PresenceHub } from '../presence/presence-hub.js';
import type { ResolvedLimits, ServerHooks } from '../options.js';
import type { AnyHandler } from '../router/handlers.js';
import type { IdempotencyCache } from '../router/idempotency-cache.js';
import type { MessageEntry } from '../router/messages.js';
import type { TrafficCounters } from '../stats.js';
import type { ConnectionInfo } from './connection-info.js';
import type { StreamRegistry } from './stream-registry.js';

/** A procedure ready to run: its schemas and its handler (already wrapped in middleware). */
export interface ProcedureEntry {
  name: string;
  def: ProcedureDef;
  handler: AnyHandler;
}

/** What a connection's context factory receives from the server. */
export interface ContextRequest {
  request: IncomingMessage;
  auth: unknown;
  connectionParams: unknown;
}

/**
 * What a connection needs from the server that accepted it. Lookups are Maps built from the
 * contract's own keys, so `toString` or `__proto__` never resolve to anything.
 */
export interface ConnectionHost {
  readonly contract: AnyContract;
  readonly procedures: ReadonlyMap<string, ProcedureEntry>;
  /** The contract's client messages, with their handlers. */
  readonly messages: ReadonlyMap<string, MessageEntry>;
  readonly events: ReadonlyMap<string, EventDef>;
  readonly broker: Broker;
  readonly streams: StreamRegistry;
  readonly logger: Logger;
  readonly hooks: ServerHooks;
  readonly limits: ResolvedLimits;
  readonly counters: TrafficCounters;
  /** Deadlines of every call on this server, on one timer. */
  readonly deadlines: DeadlineQueue;
  /** Answers of idempotent calls, kept for their retries. */
  readonly idempotency: IdempotencyCache;
  readonly strictContract: boolean;
  /** Heartbeat interval announced to clients in `welcome.hb`; 0 when heartbeats are off. */
  readonly heartbeatIntervalMs: number;
  /** True once `close()` began: new calls are refused with `UNAVAILABLE`. */
  readonly closing: boolean;
  /** Builds a connection's ctx once its `hello` arrived. */
  createContext(args: ContextRequest): unknown;
  canSubscribe:
    | ((args: {
        event: string;
        params: unknown;
        ctx: unknown;
        connection: ConnectionInfo;
      }) => boolean | Promise<boolean>)
    | undefined;
  /** This node's id, the first part of its connections' ids. */
  readonly nodeId: string;
  /** The user of a connection, from its ctx (the server's `identify`). */
  identify(ctx: unknown): string | undefined;
  /** Presence on this node; undefined when the broker keeps none. */
  readonly presence: PresenceHub | undefined;
  readonly presenceOptions: { maxMembers: number };
  canJoin:
    | ((args: {
        event: string;
        params: unknown;
        data: unknown;
        ctx: unknown;
        connection: ConnectionInfo;
      }) => boolean | Promise<boolean>)
    | undefined;
  /** Called once when a connection's context is built and it is welcomed. */
  connectionReady(connection: ConnectionInfo): void;
  /** Called once when a connection has closed and released everything. */
  connectionClosed(connection: ConnectionInfo, close: { code: number; reason: string }): void;
}
