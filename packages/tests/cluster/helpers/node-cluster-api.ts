import { defineContract } from '@wirecall/core';
import { z } from 'zod';

/**
 * The contract of the node:cluster tests: which worker serves a connection, an emit from that
 * worker, a side effect run once per idempotency key, and a stream per room with presence.
 */
export const nodeClusterApi = defineContract({
  procedures: {
    /** The node:cluster id of the worker serving this connection. */
    worker: { input: z.null(), output: z.number() },
    /** Emits `tick { room, seq }` from this connection's worker; answers the event id. */
    emit: { input: z.object({ room: z.string(), seq: z.number().int() }), output: z.string() },
    /** The event messages this worker received from the primary. */
    received: { input: z.null(), output: z.number() },
    /** Waits `ms`, then counts one more run of `id` in the primary; answers this run's number. */
    charge: { input: z.object({ id: z.string(), ms: z.number().int().min(0) }), output: z.number(), idempotent: true },
  },
  events: {
    tick: {
      payload: z.object({ room: z.string(), seq: z.number().int() }),
      params: z.object({ room: z.string() }),
      presence: z.object({ name: z.string() }),
    },
  },
});
