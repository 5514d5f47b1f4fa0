/**
 * An app written against the packed packages' types (their dist .d.ts, as npm users get them):
 * each entry point's exports must fit the others' (the `streams` and `presence` options of
 * `createClient`, the Redis broker of `createServer`). Compiled, never run.
 */
import { createClient } from '@wirecall/client';
import { presence } from '@wirecall/client/presence';
import { streams } from '@wirecall/client/streams';
import { defineContract } from '@wirecall/core';
import { createServer } from '@wirecall/server';
import { redisBroker } from '@wirecall/server/redis';
import { z } from 'zod';

const api = defineContract({
  procedures: {
    add: { input: z.object({ a: z.number(), b: z.number() }), output: z.number() },
    count: { input: z.object({ to: z.number() }), stream: z.number() },
  },
  events: {
    room: {
      payload: z.object({ text: z.string() }),
      params: z.object({ room: z.string() }),
      presence: z.object({ name: z.string() }),
    },
  },
});

export const server = createServer(api, {
  broker: redisBroker({ url: 'redis://127.0.0.1:6379' }),
  handlers: {
    add: ({ input }) => input.a + input.b,
    // eslint-disable-next-line @typescript-eslint/require-await -- a stream handler is an async generator, awaiting or not
    count: async function* ({ input }) {
      for (let n = 1; n <= input.to; n++) yield n;
    },
  },
});

const client = createClient(api, { url: 'ws://127.0.0.1:1', streams, presence });
export const sum: Promise<number> = client.call.add({ a: 1, b: 2 });
export const room = client.presence('room', { room: 'lobby' });
