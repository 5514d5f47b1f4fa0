import { createClient, isCallError, WirecallError, type WirecallClient } from '@wirecall/client';
import { defineContract, type AnyContract } from '@wirecall/core';
import { createServer, type WirecallServer } from '@wirecall/server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { RawClient, recordingWebSocket, type WireEntry } from '../helpers/raw-client.js';
import { rejectionOf } from '../helpers/rejection.js';
import { recordingLogger, type LogEntry } from '../helpers/test-server.js';

/**
 * What a contract means at both ends: every value is parsed exactly once, by the end that receives
 * it, so transforms run once and codecs round-trip; the sending end prepares and checks.
 */

const isoDate = z.codec(z.iso.datetime(), z.date(), {
  decode: (text) => new Date(text),
  encode: (date) => date.toISOString(),
});

async function serve<TContract extends AnyContract>(
  contract: TContract,
  options: Omit<Parameters<typeof createServer<TContract>>[1], 'logger'>,
): Promise<{ server: WirecallServer<TContract>; url: string }> {
  const server = createServer(contract, { logger: recordingLogger([]), ...options } as Parameters<
    typeof createServer<TContract>
  >[1]);
  const { url } = await server.listen({ port: 0 });
  return { server: server, url };
}

describe('the bugs this contract model fixes (regressions)', () => {
  const api = defineContract({
    procedures: {
      double: { input: z.object({ n: z.number() }), output: z.number().transform((n) => n * 2) },
      parseDate: { input: z.object({ text: z.string() }), output: z.string().transform((s) => new Date(s)) },
      leaky: { input: z.object({}), output: z.object({ name: z.string() }) },
      leakyTransformed: { input: z.object({}), output: z.object({ name: z.string().transform((s) => s.trim()) }) },
    },
    events: {
      shout: { payload: z.object({ text: z.string().transform((t) => `${t}!`) }) },
      chat: {
        payload: z.object({ text: z.string() }),
        params: z.object({ room: z.string().toLowerCase(), lang: z.string().default('en') }),
      },
    },
  });
  let server: WirecallServer<typeof api>;
  let client: WirecallClient<typeof api>;
  const wire: WireEntry[] = [];

  beforeAll(async () => {
    ({ server } = await serve(api, {
      handlers: {
        double: ({ input }) => input.n,
        parseDate: ({ input }) => input.text,
        leaky: () => ({ name: 'ada', passwordHash: 'secret-hash' }) as { name: string },
        leakyTransformed: () => ({ name: ' ada ', passwordHash: 'secret-hash' }) as { name: string },
      },
    }));
    const { url } = await server.listen({ port: 0 });
    client = createClient(api, { url, WebSocket: recordingWebSocket(wire) });
  });
  afterAll(async () => {
    await client.close();
    await server.close({ graceMs: 0 });
  });

  it('an output transform runs once: double({ n: 21 }) is 42', async () => {
    await expect(client.call.double({ n: 21 })).resolves.toBe(42);
  });

  it('an output transform to a Date gives the Date its type promises', async () => {
    const date = await client.call.parseDate({ text: '2024-05-06T07:08:09.000Z' });
    expect(date).toBeInstanceOf(Date);
    expect(date.toISOString()).toBe('2024-05-06T07:08:09.000Z');
  });

  it('an event payload transform runs once: "hi" arrives as "hi!"', async () => {
    const seen: string[] = [];
    const off = client.on('shout', ({ text }) => seen.push(text));
    await vi.waitFor(() => expect(server.stats().subscriptions).toBe(1));
    await server.emit('shout', { text: 'hi' });
    await vi.waitFor(() => expect(seen).toEqual(['hi!']));
    off();
    await vi.waitFor(() => expect(server.stats().subscriptions).toBe(0));
  });

  it('listeners whose params normalise to one stream each get its events once; one leaving keeps the other', async () => {
    const first: string[] = [];
    const second: string[] = [];
    const third: string[] = [];
    const offFirst = client.on('chat', { room: 'lobby' }, ({ text }) => first.push(text));
    const offSecond = client.on('chat', { room: 'lobby', lang: 'en' }, ({ text }) => second.push(text));
    const offThird = client.on('chat', { room: 'LOBBY' }, ({ text }) => third.push(text));
    await vi.waitFor(() => expect(server.stats().subscriptions).toBe(1));

    await server.emit('chat', { text: 'one' }, { params: { room: 'lobby' } });
    await vi.waitFor(() => expect([first, second, third]).toEqual([['one'], ['one'], ['one']]));

    offFirst();
    await server.emit('chat', { text: 'two' }, { params: { room: 'Lobby', lang: 'en' } });
    await vi.waitFor(() => expect([first, second, third]).toEqual([['one'], ['one', 'two'], ['one', 'two']]));
    offSecond();
    offThird();
    await vi.waitFor(() => expect(server.stats().subscriptions).toBe(0));
  });

  it.each(['leaky', 'leakyTransformed'] as const)(
    '%s: fields the output schema does not declare never leave the server',
    async (procedure) => {
      await expect(client.call[procedure]({})).resolves.toEqual({ name: 'ada' });
      expect(wire.some((entry) => entry.text.includes('secret-hash'))).toBe(false);
    },
  );
});

/** One zod feature: a schema, what the sending app writes, and what the receiving app gets. */
interface Feature {
  schema: z.ZodType;
  send: unknown;
  received: unknown;
}

const FEATURES: Record<string, Feature> = {
  transform: { schema: z.string().transform((s) => s.length), send: 'abcd', received: 4 },
  pipe: { schema: z.string().pipe(z.coerce.number()), send: '42', received: 42 },
  default: { schema: z.object({ n: z.number().default(7) }), send: {}, received: { n: 7 } },
  catch: { schema: z.object({ n: z.number().catch(-1) }), send: { n: 'x' }, received: { n: -1 } },
  coerce: { schema: z.coerce.number(), send: '12', received: 12 },
  refine: { schema: z.number().refine((n) => n > 0), send: 3, received: 3 },
  superRefine: {
    schema: z.string().superRefine((s, ctx) => {
      if (s.length > 5) ctx.addIssue({ code: 'custom', message: 'too long' });
    }),
    send: 'abc',
    received: 'abc',
  },
  brand: { schema: z.string().brand<'UserId'>(), send: 'u1', received: 'u1' },
  'codec (app side sent)': {
    schema: z.object({ at: isoDate }),
    send: { at: new Date(0) },
    received: { at: new Date(0) },
  },
  'codec (wire side sent)': {
    schema: z.object({ at: isoDate }),
    send: { at: '1970-01-01T00:00:00.000Z' },
    received: { at: new Date(0) },
  },
  'codec beside a transform': {
    schema: z.object({ at: isoDate, name: z.string().transform((s) => s.toUpperCase()) }),
    send: { at: new Date(0), name: 'ada' },
    received: { at: new Date(0), name: 'ADA' },
  },
};

describe.each(Object.entries(FEATURES))('zod feature: %s', (_name, { schema, send, received }) => {
  const api = defineContract({
    procedures: {
      takes: { input: schema, output: z.unknown() },
      gives: { input: z.object({}), output: schema },
    },
    events: {
      payload: { payload: schema },
      params: { payload: z.string(), params: schema },
    },
    connectionParams: schema,
  });
  const seen = new Map<string, unknown>();
  let server: WirecallServer<typeof api>;
  let client: WirecallClient<typeof api>;
  const wire: WireEntry[] = [];

  beforeAll(async () => {
    ({ server } = await serve(api, {
      handlers: {
        takes: ({ input }) => {
          seen.set('input', input);
          return null;
        },
        gives: () => send as never,
      },
      context: ({ connectionParams }) => {
        seen.set('connectionParams', connectionParams);
        return { auth: undefined, connectionParams };
      },
      canSubscribe: ({ params }) => {
        seen.set('params', params);
        return true;
      },
    }));
    const { url } = await server.listen({ port: 0 });
    client = createClient(api, { url, connectionParams: send, WebSocket: recordingWebSocket(wire) });
  });
  afterAll(async () => {
    await client.close();
    await server.close({ graceMs: 0 });
  });

  it('as procedure input: the handler reads the parsed value', async () => {
    await client.call.takes(send);
    expect(seen.get('input')).toEqual(received);
  });

  it('as procedure output: the caller gets the parsed value', async () => {
    expect(await client.call.gives({})).toEqual(received);
  });

  it('as event payload: the listener gets the parsed value', async () => {
    const payloads: unknown[] = [];
    const off = client.on('payload', (payload) => payloads.push(payload));
    await vi.waitFor(() => expect(server.stats().subscriptions).toBe(1));
    await server.emit('payload', send);
    await vi.waitFor(() => expect(payloads).toEqual([received]));
    off();
    await vi.waitFor(() => expect(server.stats().subscriptions).toBe(0));
  });

  it('as subscription params: the server reads the parsed value, and emits reach the listener', async () => {
    const texts: string[] = [];
    const off = client.on('params', send, (text) => texts.push(text));
    await vi.waitFor(() => expect(server.stats().subscriptions).toBe(1));
    expect(seen.get('params')).toEqual(received);
    await server.emit('params', 'hello', { params: send });
    await vi.waitFor(() => expect(texts).toEqual(['hello']));
    off();
    await vi.waitFor(() => expect(server.stats().subscriptions).toBe(0));
  });

  it('as connection params: the context factory reads the parsed value', async () => {
    await client.call.takes(send);
    expect(seen.get('connectionParams')).toEqual(received);
  });

  it('travels in its input side: no value on the wire has been transformed', () => {
    // What left the client for `takes` is what the sending app wrote, or its encoded wire side.
    const call = wire.find((entry) => entry.dir === 'out' && entry.frame.t === 'call');
    expect(call).toBeDefined();
    expect(schema.safeParse(call!.frame.v).success).toBe(true);
  });
});

describe('the client checks what it sends, with the answer the server would give', () => {
  const api = defineContract({
    procedures: { add: { input: z.object({ a: z.number(), b: z.number() }), output: z.number() } },
    events: { room: { payload: z.string(), params: z.object({ id: z.string().min(2) }) } },
  });
  let server: WirecallServer<typeof api>;
  let url: string;

  beforeAll(async () => {
    ({ server, url } = await serve(api, { handlers: { add: ({ input }) => input.a + input.b } }));
  });
  afterAll(() => server.close({ graceMs: 0 }));

  it('a bad call input is refused with BAD_REQUEST and zod issues before anything is sent', async () => {
    const wire: WireEntry[] = [];
    const client = createClient(api, { url, WebSocket: recordingWebSocket(wire) });
    try {
      await expect(client.call.add({ a: 1, b: 2 })).resolves.toBe(3);
      const error = await rejectionOf(client.call.add({ a: 1, b: 'two' } as never));
      expect(error.code).toBe('BAD_REQUEST');
      expect(error.message).toBe('Invalid input for add');
      expect((error.data as { issues: { path: string[] }[] }).issues.map((issue) => issue.path)).toEqual([['b']]);
      expect(wire.filter((entry) => entry.dir === 'out' && entry.frame.t === 'call')).toHaveLength(1);
      // The same answer the server gives the same input sent raw, past any client check.
      await using raw = await RawClient.greeted(url, api.fingerprint);
      const answer = await raw.request({ t: 'call', id: 1, p: 'add', v: { a: 1, b: 'two' } });
      expect(answer.e).toEqual({ code: error.code, message: error.message, data: error.data });
    } finally {
      await client.close();
    }
  });

  it('bad subscription params reach onError as BAD_REQUEST with issues, and no sub is sent', async () => {
    const wire: WireEntry[] = [];
    const client = createClient(api, { url, WebSocket: recordingWebSocket(wire) });
    try {
      const errors: unknown[] = [];
      const off = client.on('room', { id: 'x' }, () => {}, { onError: (error) => errors.push(error) });
      await vi.waitFor(() => expect(errors).toHaveLength(1));
      expect(errors[0]).toMatchObject({ code: 'BAD_REQUEST', message: 'Invalid params for room' });
      off();
      await expect(client.call.add({ a: 1, b: 1 })).resolves.toBe(2);
      expect(wire.filter((entry) => entry.dir === 'out' && entry.frame.t === 'sub')).toHaveLength(0);
    } finally {
      await client.close();
    }
  });
});

describe('declared errors travel typed', () => {
  /** Throws a code this test's contract declares (the program registers another contract). */
  const declared = (code: string, message: string, data: unknown): WirecallError =>
    new WirecallError(code as never, message, { data } as never);

  const api = defineContract({
    procedures: {
      buy: {
        input: z.object({ sku: z.string(), case: z.string() }),
        output: z.null(),
        errors: {
          OUT_OF_STOCK: z.object({ sku: z.string(), left: z.number(), restockAt: isoDate }),
          PRICE_CHANGED: z.object({ was: z.bigint(), now: z.bigint() }),
        },
      },
      plain: { input: z.object({}), output: z.null() },
    },
  });
  const logs: LogEntry[] = [];
  let server: WirecallServer<typeof api>;
  let client: WirecallClient<typeof api>;

  beforeAll(async () => {
    server = createServer(api, {
      logger: recordingLogger(logs),
      handlers: {
        buy: ({ input }) => {
          switch (input.case) {
            case 'declared':
              throw declared('OUT_OF_STOCK', 'sold out', { sku: input.sku, left: 0, restockAt: new Date(0) });
            case 'bigint':
              throw declared('PRICE_CHANGED', 'price moved', { was: 10n, now: 12n });
            case 'bad data':
              throw declared('OUT_OF_STOCK', 'sold out', { sku: input.sku, left: 'none' });
            case 'undeclared':
              throw declared('SOLD_TO_SOMEONE_ELSE', 'gone', { sku: input.sku });
            default:
              throw new WirecallError('NOT_FOUND', 'no such case', { data: { at: new Date(0), n: 5n } });
          }
        },
        plain: () => {
          throw declared('OUT_OF_STOCK', 'not mine to throw', { sku: 'a', left: 1, restockAt: new Date(0) });
        },
      },
    });
    const { url } = await server.listen({ port: 0 });
    client = createClient(api, { url });
  });
  afterAll(async () => {
    await client.close();
    await server.close({ graceMs: 0 });
  });

  it('a declared code reaches the caller with its data parsed (a codec decoded to a Date)', async () => {
    const error = await rejectionOf(client.call.buy({ sku: 'a1', case: 'declared' }));
    expect(isCallError(api, 'buy', error)).toBe(true);
    if (!isCallError(api, 'buy', error) || error.code !== 'OUT_OF_STOCK') throw new Error('not narrowed');
    expect(error.message).toBe('sold out');
    expect(error.data).toEqual({ sku: 'a1', left: 0, restockAt: new Date(0) });
    expect(error.data.restockAt).toBeInstanceOf(Date);
  });

  it('declared data carries values JSON cannot (BigInt)', async () => {
    const error = await rejectionOf(client.call.buy({ sku: 'a1', case: 'bigint' }));
    expect(error).toMatchObject({ code: 'PRICE_CHANGED', data: { was: 10n, now: 12n } });
  });

  it('built-in codes carry any data as values (a Date, a BigInt)', async () => {
    const error = await rejectionOf(client.call.buy({ sku: 'a1', case: 'built-in' }));
    expect(error).toMatchObject({ code: 'NOT_FOUND', data: { at: new Date(0), n: 5n } });
  });

  it.each([
    ['data off its declaration', 'bad data'],
    ['a code nobody declared', 'undeclared'],
  ])('%s reaches the caller as INTERNAL and is logged', async (_label, which) => {
    const before = logs.length;
    const error = await rejectionOf(client.call.buy({ sku: 'a1', case: which }));
    expect(error).toMatchObject({ code: 'INTERNAL', message: 'Internal server error', data: undefined });
    expect(logs.slice(before).some((entry) => entry.level === 'error')).toBe(true);
  });

  it('a code declared by another procedure is INTERNAL here', async () => {
    const error = await rejectionOf(client.call.plain({}));
    expect(error.code).toBe('INTERNAL');
    expect(isCallError(api, 'plain', new WirecallError('NOT_FOUND', 'x'))).toBe(true);
    expect(isCallError(api, 'plain', declared('OUT_OF_STOCK', 'x', {}))).toBe(false);
  });
});
