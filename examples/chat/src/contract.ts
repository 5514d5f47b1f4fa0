/**
 * The chat's contract, imported by the Node server and bundled into the browser page by Vite: the
 * same zod schemas check a message on the server (`send`'s input) and in the page (every `message`
 * event's payload).
 */
import { defineContract } from '@wirecall/core';
import { z } from 'zod';

export const ROOMS = ['a', 'b', 'c'] as const;
export const Room = z.enum(ROOMS);
export type Room = z.infer<typeof Room>;

/** The one rule for a message's text: an empty or too long message fails with BAD_REQUEST. */
export const MessageText = z.string().min(1).max(280);
export const Author = z.string().trim().min(1).max(40);

export const Message = z.object({
  id: z.string(),
  room: Room,
  author: Author,
  text: MessageText,
  /** A real Date in the page too: values travel with superjson, not plain JSON. */
  at: z.date(),
});
export type Message = z.infer<typeof Message>;

/** The largest file the chat takes (it keeps shared files in memory). */
export const MAX_FILE_BYTES = 10 * 1024 * 1024;

export const api = defineContract({
  procedures: {
    /** Stores a message, publishes it to the room's subscribers, and returns it as stored. */
    send: { input: z.object({ room: Room, author: Author, text: MessageText }), output: Message },
    /** The room's recent messages, oldest first: what a page shows on joining, or refetches after a gap. */
    history: {
      input: z.object({ room: Room, limit: z.number().int().min(1).max(200).optional() }),
      output: z.array(Message),
      idempotent: true,
    },
    /**
     * Asks the room's bot: its answer streams back token by token (a streaming procedure); once
     * complete it is posted to the room as a message, which is the call's final value.
     */
    ask: {
      input: z.object({ room: Room, author: Author, question: MessageText }),
      stream: z.object({ token: z.string() }),
      output: Message,
    },
    /**
     * Shares a file with the room: its bytes stream up in slices (an upload, under the server's
     * credits), then a message announces it, which is the call's answer.
     */
    share: {
      input: z.object({
        room: Room,
        author: Author,
        name: z.string().min(1).max(120),
        size: z.number().int().min(0).max(MAX_FILE_BYTES),
      }),
      inputStream: z.instanceof(Uint8Array),
      output: Message,
    },
  },
  events: {
    /**
     * One stream per room: the page subscribes to the room it shows. Its presence is who has the
     * room open, by name, and whether they are typing right now.
     */
    message: {
      payload: Message,
      params: z.object({ room: Room }),
      presence: z.object({ name: Author, typing: z.boolean().default(false) }),
    },
  },
});
export type Api = typeof api;
