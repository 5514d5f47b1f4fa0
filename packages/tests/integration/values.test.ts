import { binaryFrames } from '@wirecall/client/binary';
import { describe, expect, it, vi } from 'vitest';
import { RawClient, recordingWebSocket, type WireEntry } from '../helpers/raw-client.js';
import { connectClient, startTestServer } from '../helpers/test-server.js';
import { testApiOptions } from '../helpers/test-handlers.js';
import { testApi } from '../helpers/fixtures.js';

const base64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
const complement = (bytes: Uint8Array): Uint8Array => bytes.map((byte) => 255 - byte);
const allBytes = Uint8Array.from({ length: 256 }, (_, index) => index);

/** Values that JSON alone would mangle, each of which must come back exactly as sent. */
const roundTrips: [string, unknown][] = [
  ['a Date', new Date(Date.UTC(2024, 1, 29, 12, 30, 15, 123))],
  [
    'a Map with non-string keys',
    new Map<unknown, unknown>([
      [1, 'one'],
      [new Date(0), { deep: true }],
      ['k', null],
    ]),
  ],
  ['a Set', new Set(['a', 'b', 3])],
  ['a BigInt beyond 2^53', 2n ** 64n + 1n],
  ['a negative BigInt', -(10n ** 30n)],
  ['undefined inside an object', { kept: 1, gone: undefined, nested: { alsoGone: undefined } }],
  ['undefined inside an array', [1, undefined, 3]],
  ['a Uint8Array of every byte value', allBytes],
  ['an empty Uint8Array', new Uint8Array(0)],
  ['NaN, -0 and the infinities', [Number.NaN, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]],
  ['a key with a dot next to a Date', { 'a.b': new Date(1), a: { b: 'plain' } }],
  [
    'a mix nested inside each other',
    {
      when: new Date(86_400_000),
      byId: new Map<string, unknown>([
        ['x', new Set([1n, 2n])],
        ['y', { bytes: new Uint8Array([9, 8, 7]), missing: undefined }],
      ]),
      list: [new Map([[new Date(2), 2n]]), new Set([new Date(3)])],
    },
  ],
  ['null', null],
  ['a plain JSON object', { a: [1, 'two', { three: true }] }],
];

describe('values', () => {
  describe('in calls', () => {
    it.each(roundTrips)('echoes %s unchanged', async (_label, value) => {
      await using ctx = await startTestServer(testApi, testApiOptions());
      await using client = connectClient(testApi, ctx.url);

      const echoed = await client.call.echo(value);

      expect(echoed).toStrictEqual(value);
    });

    it('keeps an undefined property as an own property, not dropped', async () => {
      await using ctx = await startTestServer(testApi, testApiOptions());
      await using client = connectClient(testApi, ctx.url);

      const echoed = (await client.call.echo({ kept: 1, gone: undefined })) as Record<string, unknown>;

      expect(Object.keys(echoed).sort()).toEqual(['gone', 'kept']);
      expect(echoed.gone).toBeUndefined();
    });

    it('echoes a top-level undefined as undefined', async () => {
      await using ctx = await startTestServer(testApi, testApiOptions());
      await using client = connectClient(testApi, ctx.url);

      expect(await client.call.echo(undefined)).toBeUndefined();
      expect(await client.call.echo(null)).toBeNull();
    });

    it('rebuilds real instances, not look-alikes', async () => {
      await using ctx = await startTestServer(testApi, testApiOptions());
      await using client = connectClient(testApi, ctx.url);

      const echoed = (await client.call.echo({
        date: new Date(5),
        map: new Map([['k', 1]]),
        set: new Set([1]),
        big: 5n,
        bytes: new Uint8Array([1]),
      })) as Record<string, unknown>;

      expect(echoed.date).toBeInstanceOf(Date);
      expect(echoed.map).toBeInstanceOf(Map);
      expect(echoed.set).toBeInstanceOf(Set);
      expect(typeof echoed.big).toBe('bigint');
      expect(echoed.bytes).toBeInstanceOf(Uint8Array);
    });

    it('passes Uint8Array through a typed procedure in both directions', async () => {
      await using ctx = await startTestServer(testApi, testApiOptions());
      await using client = connectClient(testApi, ctx.url);

      const result = await client.call.bytes({ data: allBytes });

      expect(result).toBeInstanceOf(Uint8Array);
      expect(result).toStrictEqual(complement(allBytes));
    });

    it('sends only the bytes of a Uint8Array view, not its whole buffer', async () => {
      await using ctx = await startTestServer(testApi, testApiOptions());
      await using client = connectClient(testApi, ctx.url);
      const view = new Uint8Array(allBytes.buffer, 10, 5);

      const result = await client.call.bytes({ data: view });

      expect(Array.from(result)).toEqual([245, 244, 243, 242, 241]);
    });

    it('round-trips 256 KiB of bytes', async () => {
      await using ctx = await startTestServer(testApi, testApiOptions());
      await using client = connectClient(testApi, ctx.url);
      const big = Uint8Array.from({ length: 256 * 1024 }, (_, index) => (index * 31) % 256);

      const result = await client.call.bytes({ data: big });

      expect(result).toBeInstanceOf(Uint8Array);
      expect(result.length).toBe(big.length);
      // Byte comparison: expect's deep equality walks 256 Ki elements one by one (seconds).
      expect(Buffer.from(result).equals(complement(big))).toBe(true);
    });
  });

  describe('on the wire', () => {
    it('sends a Uint8Array raw in a binary frame in both directions of a typed call', async () => {
      await using ctx = await startTestServer(testApi, testApiOptions());
      const wire: WireEntry[] = [];
      await using client = connectClient(testApi, ctx.url, {
        WebSocket: recordingWebSocket(wire),
        binary: binaryFrames(),
      });
      const data = new Uint8Array([0, 1, 2, 250, 255]);

      await client.call.bytes({ data });

      const call = wire.find((entry) => entry.dir === 'out' && entry.frame.t === 'call' && entry.frame.p === 'bytes');
      expect(call?.binary?.body).toEqual(data);
      expect(call?.frame.v).toEqual({ data: [0, 5] });
      expect(call?.frame.m).toEqual({ values: { data: [['custom', 'u8']] }, v: 1 });
      const result = wire.find(
        (entry) => entry.dir === 'in' && entry.frame.t === 'result' && entry.frame.id === call?.frame.id,
      );
      expect(result?.binary?.body).toEqual(complement(data));
      expect(result?.frame.v).toEqual([0, 5]);
      expect(result?.frame.m).toEqual({ values: [['custom', 'u8']], v: 1 });
    });

    it('accepts base64 bytes from a raw client and answers with base64, never an array of numbers', async () => {
      await using ctx = await startTestServer(testApi, testApiOptions());
      await using raw = await RawClient.greeted(ctx.url);
      const data = new Uint8Array([1, 2, 3, 4]);

      const answer = await raw.request({
        t: 'call',
        id: 1,
        p: 'bytes',
        v: { data: base64(data) },
        m: { values: { data: [['custom', 'u8']] }, v: 1 },
      });

      expect(answer).toEqual({
        t: 'result',
        id: 1,
        v: base64(complement(data)),
        m: { values: [['custom', 'u8']], v: 1 },
      });
      expect(raw.texts.some((text) => text.includes('[254,253,252,251]'))).toBe(false);
    });

    it('sends Date, BigInt, Map, Set and undefined as superjson annotations', async () => {
      await using ctx = await startTestServer(testApi, testApiOptions());
      await using raw = await RawClient.greeted(ctx.url);

      const answer = await raw.request({
        t: 'call',
        id: 1,
        p: 'echo',
        v: { d: '2020-01-01T00:00:00.000Z', b: '12345678901234567890', m: [['k', 1]], s: [1, 2], u: null },
        m: { values: { d: ['Date'], b: ['bigint'], m: ['map'], s: ['set'], u: ['undefined'] }, v: 1 },
      });

      expect(answer).toEqual({
        t: 'result',
        id: 1,
        v: { d: '2020-01-01T00:00:00.000Z', b: '12345678901234567890', m: [['k', 1]], s: [1, 2], u: null },
        m: { values: { d: ['Date'], b: ['bigint'], m: ['map'], s: ['set'], u: ['undefined'] }, v: 1 },
      });
    });

    it('sends plain JSON values without an m field', async () => {
      await using ctx = await startTestServer(testApi, testApiOptions());
      await using raw = await RawClient.greeted(ctx.url);

      const answer = await raw.request({ t: 'call', id: 1, p: 'echo', v: { a: [1, 'b', null, true] } });

      expect(answer).toEqual({ t: 'result', id: 1, v: { a: [1, 'b', null, true] } });
    });
  });

  describe('in events', () => {
    it('delivers a Date in tick and Uint8Array + Set in blob to a typed client', async () => {
      await using ctx = await startTestServer(testApi, testApiOptions());
      await using client = connectClient(testApi, ctx.url);
      const ticks: unknown[] = [];
      const blobs: unknown[] = [];
      client.on('tick', (payload) => ticks.push(payload));
      client.on('blob', (payload) => blobs.push(payload));
      await vi.waitFor(() => expect(ctx.server.stats().subscriptions).toBe(2));
      const at = new Date(Date.UTC(2021, 5, 1, 8, 0, 0, 1));

      await ctx.server.emit('tick', { seq: 1, at });
      await ctx.server.emit('blob', { data: allBytes, tags: new Set(['x', 'y']) });

      await vi.waitFor(() => expect(blobs).toHaveLength(1));
      expect(ticks).toStrictEqual([{ seq: 1, at }]);
      expect((ticks[0] as { at: unknown }).at).toBeInstanceOf(Date);
      const blob = blobs[0] as { data: unknown; tags: unknown };
      expect(blob.data).toBeInstanceOf(Uint8Array);
      expect(blob.data).toStrictEqual(allBytes);
      expect(blob.tags).toBeInstanceOf(Set);
      expect(blob.tags).toStrictEqual(new Set(['x', 'y']));
    });

    it('sends event bytes as base64 with the u8 annotation on the wire', async () => {
      await using ctx = await startTestServer(testApi, testApiOptions());
      await using raw = await RawClient.greeted(ctx.url);
      raw.send({ t: 'sub', id: 1, e: 'blob' });
      raw.send({ t: 'sub', id: 2, e: 'tick' });
      const blobKey = (await raw.waitFor((frame) => frame.t === 'subscribed' && frame.id === 1)).k;
      const tickKey = (await raw.waitFor((frame) => frame.t === 'subscribed' && frame.id === 2)).k;
      const data = new Uint8Array([0, 127, 128, 255]);

      await ctx.server.emit('blob', { data, tags: new Set(['t']) });
      await ctx.server.emit('tick', { seq: 7, at: new Date(Date.UTC(2000, 0, 1)) });

      const blob = await raw.waitFor((frame) => frame.t === 'event' && frame.k === blobKey);
      expect(blob.v).toEqual({ data: base64(data), tags: ['t'] });
      expect(blob.m).toEqual({ values: { data: [['custom', 'u8']], tags: ['set'] }, v: 1 });
      const tick = await raw.waitFor((frame) => frame.t === 'event' && frame.k === tickKey);
      expect(tick.v).toEqual({ seq: 7, at: '2000-01-01T00:00:00.000Z' });
      expect(tick.m).toEqual({ values: { at: ['Date'] }, v: 1 });
    });
  });
});
