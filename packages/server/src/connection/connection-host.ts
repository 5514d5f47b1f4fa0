import type { AnyContract, EventDef, ProcedureDef } from '@wirecall/core';
import type { Broker } from '../broker/broker.js';
import type { Logger } from '../logger.js';
import type { AnyHandler } from '../router/handlers.js';
import type { IdempotencyCache } from '../router/idempotency-cache.js';
import type { StreamRegistry } from './stream-registry.js';

/** A procedure ready to run: its schemas and its handler. */
export interface ProcedureEntry {
  name: string;
  def: ProcedureDef;
  handler: AnyHandler;
}

/**
 * What a connection needs from the server that accepted it. Lookups are Maps built from the
 * contract's own keys, so `toString` or `__proto__` never resolve to anything.
 */
export interface ConnectionHost {
  readonly contract: AnyContract;
  readonly procedures: ReadonlyMap<string, ProcedureEntry>;
  readonly events: ReadonlyMap<string, EventDef>;
  readonly broker: Broker;
  readonly streams: StreamRegistry;
  readonly logger: Logger;
  /** Answers of idempotent calls, kept for their retries. */
  readonly idempotency: IdempotencyCache;
  readonly strictContract: boolean;
  /** Heartbeat interval announced to clients in `welcome`. */
  readonly heartbeatIntervalMs: number;
  /** True once `close()` began: new calls are refused with `UNAVAILABLE`. */
  readonly closing: boolean;
  /** Called once when a connection has closed and released everything. */
  connectionClosed(connection: object): void;
}
