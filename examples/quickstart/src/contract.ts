/**
 * The one file both ends import: every procedure and event, with the zod schemas that check them
 * on the way in and out. Change a schema here and the server's handlers and the client's calls stop
 * compiling until they agree again.
 */
import { defineContract } from '@wirecall/core';
import { z } from 'zod';

export const User = z.object({
  id: z.string(),
  name: z.string(),
  /** A real Date on both ends: values travel with superjson, not plain JSON. */
  createdAt: z.date(),
});
export type User = z.infer<typeof User>;

export const api = defineContract({
  procedures: {
    add: { input: z.object({ a: z.number(), b: z.number() }), output: z.number() },
    /** Only reads, so safe to run twice: the client may re-send it after a dropped connection. */
    getUser: { input: z.object({ id: z.string() }), output: User, idempotent: true },
  },
  events: {
    /** One stream for everybody. */
    tick: { payload: z.object({ seq: z.number().int(), at: z.date() }) },
    /** One stream per room: subscribers name the room, `emit` names the room it publishes to. */
    chatMessage: {
      payload: z.object({ room: z.string(), text: z.string(), at: z.date() }),
      params: z.object({ room: z.string() }),
    },
  },
});
export type Api = typeof api;
