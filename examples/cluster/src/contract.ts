/**
 * The contract every node serves and the clients use. One stream per room: subscribers name the
 * room, and every node of the cluster can emit to it. A room's stream also has a presence: who is
 * in the room, on which node, and whether they are typing, seen alike from every node.
 */
import { defineContract } from '@wirecall/core';
import { z } from 'zod';

/**
 * What a member of a room shows. `node` is there only so the demo can show members of other nodes,
 * and a member that moves (an application would show a name, an avatar).
 */
export const Member = z.object({ node: z.string(), typing: z.boolean() });
export type Member = z.infer<typeof Member>;

export const api = defineContract({
  procedures: {
    /** The name of the node that answers: shows which node a client is on. */
    whoami: { input: z.null(), output: z.string(), idempotent: true },
    /**
     * Emits `news` to a room from this node. A demo-only admin endpoint: in an application, emits
     * come from the server's own code (an HTTP handler, a job, a database change feed).
     */
    publish: { input: z.object({ room: z.string(), seq: z.number().int() }), output: z.string() },
    /**
     * How many connections each member of a room has, as this node reads them from Redis: shows when
     * the entry a dead node left behind has run out. A demo-only admin endpoint, like `publish`.
     */
    connections: {
      input: z.object({ room: z.string() }),
      output: z.record(z.string(), z.number().int()),
      idempotent: true,
    },
  },
  events: {
    /** `seq` counts per room, so a subscriber can see that nothing is missing or repeated. */
    news: {
      payload: z.object({ room: z.string(), seq: z.number().int(), from: z.string() }),
      params: z.object({ room: z.string() }),
      presence: Member,
    },
  },
  /**
   * Who a client is: its presence member is that user, on whichever nodes it connects to. The admin
   * clients say nothing. (The demo takes the name on trust; an application reads it from its
   * `authenticate`.)
   */
  connectionParams: z.object({ user: z.string() }).optional(),
});
export type Api = typeof api;
