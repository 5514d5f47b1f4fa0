import type { ErrorCode } from '@wirecall/core/internal';

/** What `errors` counts by: an error code, or `PROTOCOL` for a connection closed as a violation. */
type CountedCode = ErrorCode | 'PROTOCOL' | (string & {});

/** Counters for dashboards and health checks, as `server.stats()` returns them. */
export interface ServerStats {
  connections: number;
  inFlightCalls: number;
  /** (stream, connection) pairs: one per stream a connection listens to, once confirmed to it. */
  subscriptions: number;
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
  /**
   * Error answers sent, by code (built-in or a procedure's declared one), plus connections closed
   * for protocol violations (`PROTOCOL`).
   */
  errors: Partial<Record<CountedCode, number>>;
  /**
   * Whether the broker can carry events right now (always true for the in-memory one), and the
   * event messages this node received from it (0 for the in-memory one): with interest routing,
   * only those of streams its connections subscribe to.
   */
  broker: { connected: boolean; received: { events: number; bytes: number } };
}

/** The traffic counters every connection adds to; cheap enough for the hot path. */
export class TrafficCounters {
  messagesIn = 0;
  messagesOut = 0;
  bytesIn = 0;
  bytesOut = 0;
  readonly errors: Partial<Record<CountedCode, number>> = {};

  countError(code: CountedCode): void {
    this.errors[code] = (this.errors[code] ?? 0) + 1;
  }
}
