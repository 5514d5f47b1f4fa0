import { z } from 'zod';
import { defineContract } from '@wirecall/core';

/**
 * The contract of the cluster tests: one stream per room (`tick` with params `{ room }`), whose
 * payload repeats the room and carries a per-room sequence number, so a subscriber can check that it
 * got every event of its rooms exactly once and in order; `whoami` names the node a client is on.
 */
export const clusterApi = defineContract({
  procedures: {
    /** The name of the node that answers. Read-only, so re-sent after a drop. */
    whoami: { input: z.null(), output: z.string(), idempotent: true },
    /** Echoes its input: a call that needs no broker, to show calls keep working without Redis. */
    ping: { input: z.number(), output: z.number() },
    /**
     * A call with a side effect, run once per idempotency key on any node: waits `ms`, then counts
     * one more charge of `id` in Redis and answers the count (see charge-handler.ts).
     */
    charge: { input: z.object({ id: z.string(), ms: z.number().int().min(0) }), output: z.number(), idempotent: true },
  },
  events: {
    tick: {
      payload: z.object({ room: z.string(), seq: z.number().int() }),
      params: z.object({ room: z.string() }),
    },
  },
});
export type ClusterApi = typeof clusterApi;

/** `room-0` … `room-<n-1>`. */
export function roomNames(count: number): string[] {
  return Array.from({ length: count }, (_, index) => `room-${index}`);
}
