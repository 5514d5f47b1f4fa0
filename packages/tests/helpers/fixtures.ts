import { z } from 'zod';
import { defineContract } from '@wirecall/core';

export const User = z.object({ id: z.string(), name: z.string(), createdAt: z.date() });
export const Message = z.object({ room: z.string(), text: z.string().min(1).max(500), at: z.date() });

/** The contract most integration tests share: one of each kind of procedure and event. */
export const testApi = defineContract({
  procedures: {
    add: { input: z.object({ a: z.number(), b: z.number() }), output: z.number() },
    getUser: { input: z.object({ id: z.string() }), output: User, idempotent: true },
    echo: { input: z.unknown(), output: z.unknown() },
    sleep: { input: z.object({ ms: z.number(), tag: z.string().optional() }), output: z.string() },
    fail: { input: z.object({ kind: z.enum(['typed', 'plain', 'string', 'badOutput']) }), output: z.number() },
    waitForAbort: { input: z.object({ key: z.string() }), output: z.string() },
    bytes: { input: z.object({ data: z.instanceof(Uint8Array) }), output: z.instanceof(Uint8Array) },
  },
  events: {
    tick: { payload: z.object({ seq: z.number(), at: z.date() }) },
    chatMessage: { payload: Message, params: z.object({ room: z.string() }) },
    blob: { payload: z.object({ data: z.instanceof(Uint8Array), tags: z.set(z.string()) }) },
  },
});
export type TestApi = typeof testApi;
