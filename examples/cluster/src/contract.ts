/**
 * The contract every node serves and the client uses. One stream per room: subscribers name the
 * room, and every node of the cluster can emit to it.
 */
import { defineContract } from '@wirecall/core';
import { z } from 'zod';

export const api = defineContract({
  procedures: {
    /** The name of the node that answers: shows which node a client is on. */
    whoami: { input: z.null(), output: z.string(), idempotent: true },
    /**
     * Emits `news` to a room from this node. A demo-only admin endpoint: in an application, emits
     * come from the server's own code (an HTTP handler, a job, a database change feed).
     */
    publish: { input: z.object({ room: z.string(), seq: z.number().int() }), output: z.string() },
  },
  events: {
    /** `seq` counts per room, so a subscriber can see that nothing is missing or repeated. */
    news: {
      payload: z.object({ room: z.string(), seq: z.number().int(), from: z.string() }),
      params: z.object({ room: z.string() }),
    },
  },
});
export type Api = typeof api;
