/* eslint-disable @typescript-eslint/require-await -- handlers written as async generators to check their types */
/**
 * Type-level tests of streaming procedures: item and final types at both ends, the source of an
 * upload, and `streams` required where the contract streams. Nothing here runs.
 */
import { createClient, type CallStream } from '@wirecall/client';
import { streams } from '@wirecall/client/streams';
import { defineContract } from '@wirecall/core';
import { createServer, tracked } from '@wirecall/server';
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';

const api = defineContract({
  procedures: {
    reply: {
      input: z.object({ prompt: z.string() }),
      stream: z.object({ token: z.string() }),
      output: z.object({ tokens: z.number() }),
    },
    ticks: { input: z.object({}), stream: z.number().transform(String) },
    upload: { input: z.object({ name: z.string() }), inputStream: z.string(), output: z.number() },
    agent: { input: z.object({}), inputStream: z.string(), stream: z.string() },
    plain: { input: z.object({}), output: z.string() },
    feed: { input: z.object({}), stream: z.number(), resumable: true },
  },
});

describe('streaming procedures', () => {
  it('give the caller a typed CallStream, an upload a promise, and take a typed source', () => {
    const _client = () => {
      const client = createClient(api, { url: 'ws://x', streams });
      expectTypeOf(client.call.reply({ prompt: 'hi' })).toEqualTypeOf<
        CallStream<{ token: string }, { tokens: number }>
      >();
      // A stream without an output has no final value; items are parsed (transformed) by the client.
      expectTypeOf(client.call.ticks({})).toEqualTypeOf<CallStream<string, undefined>>();
      expectTypeOf(client.call.upload({ name: 'a' }, ['x'])).toEqualTypeOf<Promise<number>>();
      expectTypeOf(client.call.agent({}, ['x'])).toEqualTypeOf<CallStream<string, undefined>>();
      expectTypeOf(client.call.plain({})).toEqualTypeOf<Promise<string>>();
      // @ts-expect-error the upload's items are strings
      void client.call.upload({ name: 'a' }, [1]);
      // @ts-expect-error an upload needs its source
      void client.call.upload({ name: 'a' });
    };
  });

  it('require `streams` on a client of a contract that streams', () => {
    // @ts-expect-error streams is missing
    const _missing = () => createClient(api, { url: 'ws://x' });
    const plainApi = defineContract({ procedures: { plain: { input: z.null(), output: z.null() } } });
    const _fine = () => createClient(plainApi, { url: 'ws://x' });
  });

  it('type the handlers: a generator of the items returning the final value, an inputStream to read', () => {
    const _server = () =>
      createServer(api, {
        handlers: {
          reply: async function* ({ input }) {
            expectTypeOf(input.prompt).toEqualTypeOf<string>();
            yield { token: 'a' };
            return { tokens: 1 };
          },
          ticks: async function* () {
            yield 1;
          },
          upload: async ({ inputStream }) => {
            let n = 0;
            for await (const chunk of inputStream) n += chunk.length;
            return n;
          },
          agent: async function* ({ inputStream }) {
            for await (const message of inputStream) yield message.toUpperCase();
          },
          plain: () => 'x',
          feed: async function* ({ lastEventId }) {
            expectTypeOf(lastEventId).toEqualTypeOf<string | undefined>();
            yield tracked('1', 1);
          },
        },
      });
    const _wrongItem = () =>
      createServer(api, {
        handlers: {
          // @ts-expect-error an item must be { token: string }
          reply: async function* () {
            yield { token: 1 };
            return { tokens: 1 };
          },
          ticks: async function* () {
            yield 1;
          },
          upload: () => 1,
          agent: async function* () {
            yield 'a';
          },
          plain: () => 'x',
          // @ts-expect-error a resumable stream yields tracked(id, item)
          feed: async function* () {
            yield 1;
          },
        },
      });
  });

  it('refuse a procedure with neither an output nor a stream', () => {
    // @ts-expect-error a procedure needs an output (or a stream)
    defineContract({ procedures: { nothing: { input: z.null() } } });
  });
});
