/**
 * Type-level tests of what a contract means at each end: the sender writes a schema's input side
 * (codecs take either side), the receiver reads its output side; declared errors narrow with their
 * data typed; required connection params are required. Nothing here runs.
 */
import { createClient, isCallError, WirecallError, type ErrorCode, type inferCallError } from '@wirecall/client';
import {
  defineContract,
  type inferConnectionParams,
  type inferHandlerOutput,
  type inferInput,
  type inferOutput,
  type inferParams,
  type inferParsedInput,
  type inferPayload,
  type inferPayloadInput,
} from '@wirecall/core';
import { messages } from '@wirecall/client/messages';
import { createServer } from '@wirecall/server';
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';

const isoDate = z.codec(z.iso.datetime(), z.date(), {
  decode: (text) => new Date(text),
  encode: (date) => date.toISOString(),
});

const shopApi = defineContract({
  procedures: {
    buy: {
      input: z.object({ sku: z.string(), qty: z.number().default(1) }),
      output: z.object({ orderId: z.string(), at: isoDate }),
      errors: {
        OUT_OF_STOCK: z.object({ sku: z.string(), left: z.number() }),
        PRICE_CHANGED: z.object({ was: z.number(), now: z.number() }),
      },
    },
    length: { input: z.string().transform((text) => text.length), output: z.number().transform(String) },
    schedule: { input: z.object({ at: isoDate, note: z.string().optional() }), output: z.null() },
  },
  events: {
    stamped: { payload: z.object({ at: isoDate }) },
    chat: { payload: z.string(), params: z.object({ room: z.string(), lang: z.string().default('en') }) },
  },
});
type ShopApi = typeof shopApi;

const authedApi = defineContract({
  procedures: { whoami: { input: z.null(), output: z.string() } },
  connectionParams: z.object({ token: z.string() }),
});
const optionalParamsApi = defineContract({
  procedures: { whoami: { input: z.null(), output: z.string() } },
  connectionParams: z.object({ token: z.string() }).optional(),
});

describe('each end sees its side of a schema', () => {
  it('transforms: the caller writes the input side, the handler reads the output side, and back', () => {
    expectTypeOf<inferInput<ShopApi, 'length'>>().toEqualTypeOf<string>();
    expectTypeOf<inferParsedInput<ShopApi, 'length'>>().toEqualTypeOf<number>();
    expectTypeOf<inferHandlerOutput<ShopApi, 'length'>>().toEqualTypeOf<number>();
    expectTypeOf<inferOutput<ShopApi, 'length'>>().toEqualTypeOf<string>();
  });

  it('defaults: optional for the sender, present for the receiver', () => {
    expectTypeOf<inferInput<ShopApi, 'buy'>>().toEqualTypeOf<{ sku: string; qty?: number | undefined }>();
    expectTypeOf<inferParsedInput<ShopApi, 'buy'>>().toEqualTypeOf<{ sku: string; qty: number }>();
    expectTypeOf<inferParams<ShopApi, 'chat'>>().toEqualTypeOf<{ room: string; lang?: string | undefined }>();
  });

  it('codecs: the sender may write either side, the receiver reads the decoded side', () => {
    expectTypeOf<inferInput<ShopApi, 'schedule'>>().toEqualTypeOf<{
      at: string | Date;
      note?: string | undefined;
    }>();
    expectTypeOf<inferParsedInput<ShopApi, 'schedule'>>().toEqualTypeOf<{ at: Date; note?: string | undefined }>();
    expectTypeOf<inferHandlerOutput<ShopApi, 'buy'>>().toEqualTypeOf<{ orderId: string; at: string | Date }>();
    expectTypeOf<inferOutput<ShopApi, 'buy'>>().toEqualTypeOf<{ orderId: string; at: Date }>();
    expectTypeOf<inferPayloadInput<ShopApi, 'stamped'>>().toEqualTypeOf<{ at: string | Date }>();
    expectTypeOf<inferPayload<ShopApi, 'stamped'>>().toEqualTypeOf<{ at: Date }>();
  });

  it('the client and the server use those sides', () => {
    const _client = () => {
      const client = createClient(shopApi, { url: 'ws://x' });
      expectTypeOf(client.call.length).parameter(0).toEqualTypeOf<string>();
      expectTypeOf(client.call.length).returns.resolves.toEqualTypeOf<string>();
      expectTypeOf(client.call.schedule).toBeCallableWith({ at: new Date() });
      expectTypeOf(client.call.schedule).toBeCallableWith({ at: '2024-01-01T00:00:00.000Z' });
      // @ts-expect-error a codec's place takes a Date or its wire string, nothing else
      void client.call.schedule({ at: 5 });
      client.on('stamped', (payload) => expectTypeOf(payload.at).toEqualTypeOf<Date>());
      client.on('chat', { room: 'lobby' }, (text) => expectTypeOf(text).toEqualTypeOf<string>());
      // @ts-expect-error chat takes params before the handler (the message says so)
      client.on('chat', () => {});
      // @ts-expect-error not an event of the contract (the message lists "stamped" | "chat")
      client.on('chatt', () => {});
      // @ts-expect-error not a procedure (the message lists buy, length, schedule)
      void client.call.bye;
    };
    const _server = () =>
      createServer(shopApi, {
        handlers: {
          buy: ({ input }) => {
            expectTypeOf(input.qty).toEqualTypeOf<number>();
            return { orderId: 'o1', at: new Date() };
          },
          length: ({ input }) => {
            expectTypeOf(input).toEqualTypeOf<number>();
            return input;
          },
          schedule: ({ input }) => {
            expectTypeOf(input.at).toEqualTypeOf<Date>();
            return null;
          },
        },
      });
  });
});

describe('declared errors', () => {
  it('a caller narrows on code and reads data typed', () => {
    const _handle = (error: unknown) => {
      if (!isCallError(shopApi, 'buy', error)) return;
      if (error.code === 'OUT_OF_STOCK') {
        expectTypeOf(error.data).toEqualTypeOf<{ sku: string; left: number }>();
      } else if (error.code === 'PRICE_CHANGED') {
        expectTypeOf(error.data).toEqualTypeOf<{ was: number; now: number }>();
      } else if (error.code === 'BAD_REQUEST') {
        expectTypeOf(error.data).toEqualTypeOf<{ issues: z.core.$ZodIssue[] } | undefined>();
      } else if (error.code === 'RATE_LIMITED') {
        expectTypeOf(error.data).toEqualTypeOf<{ maxInFlightCalls: number } | { maxStreams: number } | undefined>();
      }
    };
    expectTypeOf<inferCallError<ShopApi, 'buy'>['code']>().toEqualTypeOf<
      'OUT_OF_STOCK' | 'PRICE_CHANGED' | ErrorCode
    >();
    // A procedure without declared errors has only the built-in ones.
    expectTypeOf<inferCallError<ShopApi, 'length'>['code']>().toEqualTypeOf<ErrorCode>();
    // @ts-expect-error not a procedure of the contract
    isCallError(shopApi, 'sell', new Error('x'));
  });

  it('a built-in error keeps its literal code', () => {
    expectTypeOf(new WirecallError('NOT_FOUND', 'gone').code).toEqualTypeOf<'NOT_FOUND'>();
    // @ts-expect-error BAD_REQUEST carries zod's issues
    void new WirecallError('BAD_REQUEST', 'bad', { data: { why: 'no' } });
  });
});

describe('connection params', () => {
  it('are required when the contract requires them', () => {
    // @ts-expect-error connectionParams is missing
    const _missing = () => createClient(authedApi, { url: 'ws://x' });
    const _given = () => createClient(authedApi, { url: 'ws://x', connectionParams: { token: 't' } });
    const _lazy = () => createClient(authedApi, { url: 'ws://x', connectionParams: () => ({ token: 't' }) });
    expectTypeOf<inferConnectionParams<typeof authedApi>>().toEqualTypeOf<{ token: string }>();
  });

  it('stay optional when the schema accepts undefined, or the contract declares none', () => {
    const _optional = () => createClient(optionalParamsApi, { url: 'ws://x' });
    const _none = () => createClient(shopApi, { url: 'ws://x' });
  });
});

describe('names', () => {
  it('refuses a name the wire cannot carry at compile time, and accepts Socket.IO-style ones', () => {
    const _ok = defineContract({ events: { 'room:message': { payload: z.string() } } });
    expectTypeOf<keyof typeof _ok.events>().toEqualTypeOf<'room:message'>();
    // @ts-expect-error a space is not allowed in a name
    defineContract({ procedures: { 'get user': { input: z.null(), output: z.null() } } });
    // @ts-expect-error a name cannot start with a digit
    defineContract({ events: { '1st': { payload: z.null() } } });
  });
});

describe('client messages', () => {
  const messageApi = defineContract({
    procedures: { ping: { input: z.null(), output: z.null() } },
    messages: { typing: { payload: z.object({ room: z.string() }) } },
  });

  it('are typed to send, and to handle; a missing handler is a compile error', () => {
    const _client = () => {
      // @ts-expect-error a contract with messages needs `messages` from '@wirecall/client/messages'
      createClient(messageApi, { url: 'ws://x' });
      const client = createClient(messageApi, { url: 'ws://x', messages });
      expectTypeOf(client.send.typing).toEqualTypeOf<(payload: { room: string }) => void>();
      // @ts-expect-error room is a string
      client.send.typing({ room: 1 });
      // @ts-expect-error not a message of the contract
      client.send.shout({ room: 'a' }); // eslint-disable-line @typescript-eslint/no-unsafe-call
    };
    const _server = () =>
      createServer(messageApi, {
        handlers: { ping: () => null },
        messages: {
          typing: ({ payload }) => {
            expectTypeOf(payload).toEqualTypeOf<{ room: string }>();
          },
        },
      });
    // @ts-expect-error the contract declares messages: their handlers are required
    const _missing = () => createServer(messageApi, { handlers: { ping: () => null } });
  });
});
