import type { WirecallClient } from '@wirecall/client';
import { describe, expect, it } from 'vitest';
import { RawClient, UpgradeRefused } from '../helpers/raw-client.js';
import { connectClient, startTestServer } from '../helpers/test-server.js';
import { newObserved, testApiOptions, type TestApiServer } from '../helpers/test-handlers.js';
import { testApi, type TestApi } from '../helpers/fixtures.js';

/**
 * A server plus a well-behaved client that has a call and a subscription going: whatever a raw
 * socket does to the server, this one must keep working.
 */
async function withBystander(
  ctx: TestApiServer,
): Promise<{ bystander: WirecallClient<TestApi>; stillWorks: () => Promise<void> }> {
  const bystander = connectClient(testApi, ctx.url);
  const ticks: number[] = [];
  bystander.on('tick', (tick) => ticks.push(tick.seq));
  expect(await bystander.call.add({ a: 1, b: 1 })).toBe(2);
  let seq = 0;
  return {
    bystander,
    stillWorks: async () => {
      expect(bystander.state).toBe('open');
      expect(await bystander.call.add({ a: 20, b: 22 })).toBe(42);
      seq++;
      await ctx.server.emit('tick', { seq, at: new Date(seq) });
      await expect.poll(() => ticks.at(-1)).toBe(seq);
    },
  };
}

/** Connects a raw socket and sends exactly the given frames (no hello unless listed). */
async function sendRaw(ctx: TestApiServer, ...frames: (string | Uint8Array | object)[]): Promise<RawClient> {
  const raw = await RawClient.connect(ctx.url);
  for (const frame of frames) {
    if (typeof frame === 'string') raw.sendText(frame);
    else if (frame instanceof Uint8Array) raw.sendBinary(frame);
    else raw.send(frame);
  }
  return raw;
}

const hello = (ctx: TestApiServer): object => ({ t: 'hello', fp: ctx.server.contract.fingerprint });

describe('protocol violations', () => {
  describe('close the offending socket', () => {
    it.each<[string, number, (ctx: TestApiServer) => (string | Uint8Array | object)[]]>([
      ['a text frame that is not JSON', 1002, (ctx) => [hello(ctx), '{not json']],
      ['a text frame that is not JSON, before hello', 1002, () => ['hello?']],
      ['a JSON array', 1002, (ctx) => [hello(ctx), '[1,2,3]']],
      ['a JSON string', 1002, (ctx) => [hello(ctx), '"call"']],
      ['an unknown type without an id', 1002, (ctx) => [hello(ctx), { t: 'shout' }]],
      ['a call without an id', 1002, (ctx) => [hello(ctx), { t: 'call', p: 'add', v: { a: 1, b: 2 } }]],
      ['a second hello', 1002, (ctx) => [hello(ctx), hello(ctx)]],
      ['a binary frame too short for its header length', 1002, (ctx) => [hello(ctx), new Uint8Array([123, 125])]],
      ['a binary frame whose header is longer than the frame', 1002, () => [new Uint8Array([0, 0, 0, 9, 1])]],
      ['a call as the first frame', 4400, () => [{ t: 'call', id: 1, p: 'add', v: { a: 1, b: 2 } }]],
      ['a ping as the first frame', 4400, () => [{ t: 'ping' }]],
      ['a subscription as the first frame', 4400, () => [{ t: 'sub', id: 1, e: 'tick' }]],
    ])('%s closes with %i', async (_label, code, frames) => {
      await using ctx = await startTestServer(testApi, testApiOptions());
      const { bystander, stillWorks } = await withBystander(ctx);
      await using _bystander = bystander;

      await using raw = await sendRaw(ctx, ...frames(ctx));

      expect((await raw.waitForClose()).code).toBe(code);
      await stillWorks();
    });

    it('closes with 1009 when a frame exceeds maxPayloadBytes', async () => {
      await using ctx = await startTestServer(testApi, { ...testApiOptions(), limits: { maxPayloadBytes: 1_024 } });
      const { bystander, stillWorks } = await withBystander(ctx);
      await using _bystander = bystander;
      await using raw = await RawClient.greeted(ctx.url);

      raw.send({ t: 'call', id: 1, p: 'echo', v: 'x'.repeat(2_000) });

      expect((await raw.waitForClose()).code).toBe(1009);
      expect(raw.frames.filter((frame) => frame.id === 1)).toEqual([]);
      await stillWorks();
    });

    it('never answers a call that came before hello', async () => {
      const observed = newObserved();
      await using ctx = await startTestServer(testApi, testApiOptions(observed));
      await using raw = await sendRaw(ctx, { t: 'call', id: 1, p: 'getUser', v: { id: 'early' } }, hello(ctx));

      expect((await raw.waitForClose()).code).toBe(4400);
      expect(raw.frames).toEqual([]);
      expect(observed.runs.has('getUser:early')).toBe(false);
    });
  });

  describe('the first frame must be a valid hello (BAD_HELLO, 4400)', () => {
    // CLOSE_CODES.BAD_HELLO: "The first frame was not a valid `hello`", and Connection's diagram:
    // "open ──anything else / bad hello──► closed (4400 / 4409)".
    it.each<[string, object]>([
      ['an unknown type with an id', { t: 'shout', id: 1 }],
      ['a malformed call with an id', { t: 'call', id: 1 }],
      ['a hello without a fingerprint', { t: 'hello' }],
      ['a hello with a non-string fingerprint', { t: 'hello', fp: 42 }],
    ])('%s as the first frame closes with 4400', async (_label, frame) => {
      await using ctx = await startTestServer(testApi, testApiOptions());
      await using raw = await sendRaw(ctx, frame);

      // Whichever comes first: a frame (the server answered instead of closing) or the close.
      await raw.waitFor(() => true).catch(() => {});

      expect({ close: raw.closeInfo?.code, received: raw.frames }).toEqual({ close: 4400, received: [] });
    });
  });

  describe('answer a frame that names an id, and keep the socket', () => {
    it.each<[string, object]>([
      ['an unknown type', { t: 'shout', id: 7 }],
      ['an envelope without a type', { id: 7, p: 'add' }],
      ['a call without a procedure name', { t: 'call', id: 7, v: {} }],
      ['a call with a negative tm', { t: 'call', id: 7, p: 'add', v: { a: 1, b: 2 }, tm: -5 }],
      ['a call with a non-numeric tm', { t: 'call', id: 7, p: 'add', v: { a: 1, b: 2 }, tm: '100' }],
      ['a call whose m is not an object', { t: 'call', id: 7, p: 'add', v: { a: 1, b: 2 }, m: 'Date' }],
      [
        'a call whose m asks for a refused annotation (regexp)',
        { t: 'call', id: 7, p: 'echo', v: '(a+)+$', m: { values: ['regexp'], v: 1 } },
      ],
      [
        'a call whose m points at a forbidden key',
        { t: 'call', id: 7, p: 'echo', v: { a: 1 }, m: { values: { '__proto__.x': ['Date'] }, v: 1 } },
      ],
      ['a subscription without an event name', { t: 'sub', id: 7 }],
    ])('%s gets BAD_REQUEST', async (_label, frame) => {
      await using ctx = await startTestServer(testApi, testApiOptions());
      const { bystander, stillWorks } = await withBystander(ctx);
      await using _bystander = bystander;
      await using raw = await RawClient.greeted(ctx.url);

      const answer = await raw.request(frame as { id: number });

      expect(answer).toMatchObject({ t: 'error', id: 7, e: { code: 'BAD_REQUEST' } });
      expect(typeof answer.e?.message).toBe('string');
      expect(raw.isOpen).toBe(true);
      expect(await raw.request({ t: 'call', id: 8, p: 'add', v: { a: 2, b: 3 } })).toEqual({
        t: 'result',
        id: 8,
        v: 5,
      });
      await stillWorks();
    });

    it('answers a duplicate in-flight id with BAD_REQUEST and lets the first call finish', async () => {
      const observed = newObserved();
      await using ctx = await startTestServer(testApi, testApiOptions(observed));
      const { bystander, stillWorks } = await withBystander(ctx);
      await using _bystander = bystander;
      await using raw = await RawClient.greeted(ctx.url);
      const key = `duplicate-${Math.random()}`;

      raw.send({ t: 'call', id: 3, p: 'waitForAbort', v: { key } });
      const from = raw.frames.length;
      raw.send({ t: 'call', id: 3, p: 'add', v: { a: 1, b: 1 } });
      const duplicate = await raw.waitFor((frame) => frame.t === 'error', { from });

      // Without the id: an error with id 3 would be a second answer to the call still running.
      expect(duplicate).toEqual({
        t: 'error',
        e: { code: 'BAD_REQUEST', message: 'A call with this id is already in flight' },
      });
      // The first call with id 3 is still the one running: cancelling id 3 reaches its handler.
      raw.send({ t: 'cancel', id: 3 });
      await expect.poll(() => observed.aborts.has(key)).toBe(true);
      expect(await raw.request({ t: 'call', id: 3, p: 'add', v: { a: 1, b: 1 } })).toEqual({
        t: 'result',
        id: 3,
        v: 2,
      });
      await stillWorks();
    });

    it('refuses a malformed frame naming a live call’s id without that id: the call is answered once', async () => {
      const observed = newObserved();
      await using ctx = await startTestServer(testApi, testApiOptions(observed));
      await using raw = await RawClient.greeted(ctx.url);
      raw.send({ t: 'call', id: 5, p: 'add', v: { a: 1, b: 1 } });
      await raw.waitFor((frame) => frame.id === 5);
      const key = `malformed-${Math.random()}`;
      raw.send({ t: 'call', id: 6, p: 'waitForAbort', v: { key } });
      const from = raw.frames.length;
      raw.send({ t: 'call', id: 6 }); // no procedure name
      expect(await raw.waitFor((frame) => frame.t === 'error', { from })).toEqual({
        t: 'error',
        e: { code: 'BAD_REQUEST', message: 'call needs a procedure name' },
      });
      raw.send({ t: 'call', id: 7 }); // the same, for an id nothing holds: refused with it
      expect(await raw.waitFor((frame) => frame.id === 7, { from })).toMatchObject({ t: 'error', id: 7 });
      raw.send({ t: 'cancel', id: 6 });
      await expect.poll(() => observed.aborts.has(key)).toBe(true);
      expect(raw.frames.slice(from).filter((frame) => frame.id === 6)).toEqual([]); // never answered twice
    });

    it('keeps ids unique across calls and subscriptions: a reuse is refused and changes nothing', async () => {
      const observed = newObserved();
      await using ctx = await startTestServer(testApi, testApiOptions(observed));
      await using raw = await RawClient.greeted(ctx.url);
      const key = `shared-id-${Math.random()}`;

      raw.send({ t: 'call', id: 7, p: 'waitForAbort', v: { key } });
      let from = raw.frames.length;
      raw.send({ t: 'sub', id: 7, e: 'tick' });
      const subOverCall = await raw.waitFor((frame) => frame.t === 'error', { from });
      // Refused without the id, which names the call still running.
      expect(subOverCall).toMatchObject({ t: 'error', e: { code: 'BAD_REQUEST' } });
      expect(subOverCall.id).toBeUndefined();
      expect(ctx.server.stats().subscriptions).toBe(0);

      raw.send({ t: 'sub', id: 8, e: 'tick' });
      await raw.waitFor((frame) => frame.t === 'subscribed' && frame.id === 8);
      from = raw.frames.length;
      raw.send({ t: 'call', id: 8, p: 'add', v: { a: 1, b: 1 } });
      const callOverSub = await raw.waitFor((frame) => frame.t === 'error', { from });
      expect(callOverSub).toMatchObject({ t: 'error', e: { code: 'BAD_REQUEST' } });
      expect(callOverSub.id).toBeUndefined();
      expect(ctx.server.stats().subscriptions).toBe(1); // the subscription is untouched

      // Call 7 is still the one running: cancelling it reaches its handler, and its id is free again.
      raw.send({ t: 'cancel', id: 7 });
      await expect.poll(() => observed.aborts.has(key)).toBe(true);
      raw.send({ t: 'sub', id: 7, e: 'tick' });
      await raw.waitFor((frame) => frame.t === 'subscribed' && frame.id === 7);
    });

    it('announces hb 0 when the server sends no heartbeats, and a client connects all the same', async () => {
      await using ctx = await startTestServer(testApi, { ...testApiOptions(), heartbeat: false });
      await using raw = await RawClient.connect(ctx.url);
      raw.hello();
      expect(await raw.waitFor((frame) => frame.t === 'welcome')).toMatchObject({ t: 'welcome', hb: 0 });
      const client = connectClient(testApi, ctx.url);
      await using _client = { [Symbol.asyncDispose]: () => client.close() };
      expect(await client.call.add({ a: 2, b: 3 })).toBe(5);
    });

    it('answers a ping with a pong', async () => {
      await using ctx = await startTestServer(testApi, testApiOptions());
      await using raw = await RawClient.greeted(ctx.url);

      raw.send({ t: 'ping' });

      expect(await raw.waitFor((frame) => frame.t === 'pong')).toEqual({ t: 'pong' });
    });
  });

  describe('the upgrade', () => {
    it.each<[string, string[]]>([
      ['no subprotocol', []],
      ['another subprotocol', ['wirecall.v2']],
      ['a subprotocol that only contains the name', ['xwirecall.v1']],
    ])('is refused with HTTP 400 when the client offers %s', async (_label, protocols) => {
      await using ctx = await startTestServer(testApi, testApiOptions());
      const { bystander, stillWorks } = await withBystander(ctx);
      await using _bystander = bystander;

      const refusal = await RawClient.connect(ctx.url, { protocols }).then(
        () => undefined,
        (error: unknown) => error,
      );

      expect(refusal).toBeInstanceOf(UpgradeRefused);
      expect((refusal as UpgradeRefused).status).toBe(400);
      expect((refusal as UpgradeRefused).body).toContain('wirecall.v1');
      await stillWorks();
    });

    it('is accepted when wirecall.v1 is one of several offered subprotocols', async () => {
      await using ctx = await startTestServer(testApi, testApiOptions());
      await using raw = await RawClient.connect(ctx.url, { protocols: ['graphql-ws', 'wirecall.v1'] });

      expect(raw.socket.protocol).toBe('wirecall.v1');
      raw.hello();
      expect(await raw.waitFor((frame) => frame.t === 'welcome')).toMatchObject({
        fp: ctx.server.contract.fingerprint,
      });
    });
  });

  it('keeps serving a well-behaved client while other sockets break every rule', async () => {
    await using ctx = await startTestServer(testApi, testApiOptions());
    const { bystander, stillWorks } = await withBystander(ctx);
    await using _bystander = bystander;
    const pending = bystander.call.sleep({ ms: 100, tag: 'survived' });

    const offenders = await Promise.all([
      sendRaw(ctx, hello(ctx), 'garbage'),
      sendRaw(ctx, hello(ctx), new Uint8Array([0xff])),
      sendRaw(ctx, { t: 'call', id: 1, p: 'add', v: { a: 1, b: 1 } }),
      sendRaw(ctx, hello(ctx), hello(ctx)),
    ]);
    const codes = await Promise.all(offenders.map(async (raw) => (await raw.waitForClose()).code));

    expect(codes).toEqual([1002, 1002, 4400, 1002]);
    expect(await pending).toBe('survived');
    await stillWorks();
    expect(ctx.server.stats().connections).toBe(1);
  });
});
