import { createClient, type SocketConstructor } from '@wirecall/client';
import { binaryFrames } from '@wirecall/client/binary';
import { streams } from '@wirecall/client/streams';
import { defineContract } from '@wirecall/core';
import { packFrame } from '@wirecall/core/internal';
import { describe, expect, it, vi } from 'vitest';
import WebSocket, { type RawData } from 'ws';
import { z } from 'zod';
import { RawClient } from '../helpers/raw-client.js';
import type { LimitOptions } from '@wirecall/server';
import { quietClientLogger, startTestServer } from '../helpers/test-server.js';

/**
 * Bytes travel in binary frames, raw, for clients that read them (`binaryFrames()` from
 * `@wirecall/client/binary`); as base64 text for the others.
 */
const bytesApi = defineContract({
  procedures: {
    echo: { input: z.object({ data: z.instanceof(Uint8Array), note: z.string() }), output: z.instanceof(Uint8Array) },
    upload: { input: z.object({}), inputStream: z.instanceof(Uint8Array), output: z.number() },
    download: { input: z.object({ slices: z.number(), size: z.number() }), stream: z.instanceof(Uint8Array) },
  },
  events: { blob: { payload: z.object({ data: z.instanceof(Uint8Array) }) } },
});

/** Counts the frames a typed client's socket sends and receives, by kind. */
function countingWebSocket(counts: { binaryIn: number; textIn: number; binaryOut: number; textOut: number }) {
  class Counting extends WebSocket {
    constructor(url: string, protocols: string | string[]) {
      super(url, protocols);
      this.on('message', (_data: RawData, isBinary: boolean) => {
        if (isBinary) counts.binaryIn++;
        else counts.textIn++;
      });
      const send = this.send.bind(this) as (data: unknown) => void;
      this.send = ((data: unknown) => {
        if (typeof data === 'string') counts.textOut++;
        else counts.binaryOut++;
        send(data);
      }) as typeof this.send;
    }
  }
  return Counting as unknown as SocketConstructor;
}

function startBytesServer(limits: LimitOptions = {}) {
  return startTestServer(bytesApi, {
    limits,
    handlers: {
      echo: ({ input }) => input.data,
      upload: async ({ inputStream }) => {
        let total = 0;
        for await (const slice of inputStream) total += slice.length;
        return total;
      },
      download: async function* ({ input }) {
        for (let i = 0; i < input.slices; i++) {
          await Promise.resolve();
          yield new Uint8Array(input.size).fill(i % 256);
        }
      },
    },
  });
}

describe('binary frames', () => {
  it('carry a call’s bytes both ways raw: a 64 KiB value costs about 64 KiB on the wire', async () => {
    await using ctx = await startBytesServer();
    const counts = { binaryIn: 0, textIn: 0, binaryOut: 0, textOut: 0 };
    const client = createClient(bytesApi, {
      url: ctx.url,
      streams,
      binary: binaryFrames(),
      WebSocket: countingWebSocket(counts),
    });
    try {
      const data = new Uint8Array(64 * 1024).map((_unused, i) => i % 251);
      const before = ctx.server.stats();
      const echoed = await client.call.echo({ data, note: 'é' });
      expect(echoed).toEqual(data);
      expect(counts.binaryOut).toBe(1);
      expect(counts.binaryIn).toBe(1);
      const after = ctx.server.stats();
      // base64 would be 87 KiB each way.
      expect(after.bytesIn - before.bytesIn).toBeLessThan(66 * 1024);
      expect(after.bytesOut - before.bytesOut).toBeLessThan(66 * 1024);
    } finally {
      await client.close();
    }
  });

  it('stream 100 slices of 64 KiB up and down as binary frames', async () => {
    await using ctx = await startBytesServer();
    const counts = { binaryIn: 0, textIn: 0, binaryOut: 0, textOut: 0 };
    const client = createClient(bytesApi, {
      url: ctx.url,
      streams,
      binary: binaryFrames(),
      WebSocket: countingWebSocket(counts),
    });
    try {
      const slice = new Uint8Array(64 * 1024).fill(7);
      await expect(
        client.call.upload(
          {},
          Array.from({ length: 100 }, () => slice),
        ),
      ).resolves.toBe(100 * 64 * 1024);
      let received = 0;
      for await (const item of client.call.download({ slices: 100, size: 64 * 1024 })) {
        expect(item.length).toBe(64 * 1024);
        received++;
      }
      expect(received).toBe(100);
      expect(counts.binaryOut).toBeGreaterThanOrEqual(100);
      expect(counts.binaryIn).toBeGreaterThanOrEqual(100);
    } finally {
      await client.close();
    }
  });

  it('send events with bytes binary to clients that read them, and base64 text to the others', async () => {
    await using ctx = await startBytesServer();
    const counts = { binaryIn: 0, textIn: 0, binaryOut: 0, textOut: 0 };
    const client = createClient(bytesApi, {
      url: ctx.url,
      streams,
      binary: binaryFrames(),
      WebSocket: countingWebSocket(counts),
    });
    await using textOnly = await RawClient.greeted(ctx.url, bytesApi.fingerprint); // no `bin` in its hello
    try {
      const seen: Uint8Array[] = [];
      client.on('blob', ({ data }) => seen.push(data));
      textOnly.send({ t: 'sub', id: 1, e: 'blob' });
      await vi.waitFor(() => expect(ctx.server.stats().subscriptions).toBe(2));
      const binaryBefore = counts.binaryIn;
      await ctx.server.emit('blob', { data: new Uint8Array([1, 2, 3]) });
      await vi.waitFor(() => expect(seen).toEqual([new Uint8Array([1, 2, 3])]));
      expect(counts.binaryIn).toBe(binaryBefore + 1);
      const event = await textOnly.waitFor((frame) => frame.t === 'event');
      expect(event).toMatchObject({ v: { data: 'AQID' }, m: { values: { data: [['custom', 'u8']] } } });
    } finally {
      await client.close();
    }
  });

  it('a raw peer’s binary call is answered; one pointing outside its body gets BAD_REQUEST', async () => {
    await using ctx = await startBytesServer();
    await using raw = await RawClient.greeted(ctx.url, bytesApi.fingerprint);
    const annotated = { values: { data: [['custom', 'u8']] }, v: 1 };
    raw.sendBinary(
      packFrame(JSON.stringify({ t: 'call', id: 1, p: 'echo', v: { data: [0, 2], note: 'x' }, m: annotated }), [
        new Uint8Array([9, 8]),
      ]),
    );
    // The raw peer asked for no binary frames, so the answer is base64 text.
    expect(await raw.waitFor((frame) => frame.id === 1)).toMatchObject({ t: 'result', v: 'CQg=' });
    raw.sendBinary(
      packFrame(JSON.stringify({ t: 'call', id: 2, p: 'echo', v: { data: [1, 5], note: 'x' }, m: annotated }), [
        new Uint8Array([9, 8]),
      ]),
    );
    const refused = await raw.waitFor((frame) => frame.id === 2);
    expect(refused).toMatchObject({ t: 'error', e: { code: 'BAD_REQUEST' } });
    expect(raw.isOpen).toBe(true);
  });

  it('a binary call over the message rate limit gets RATE_LIMITED like a text one', async () => {
    await using ctx = await startBytesServer({ rateLimit: { messagesPerSecond: 1, burst: 3 } });
    await using raw = await RawClient.greeted(ctx.url, bytesApi.fingerprint);
    const annotated = { values: { data: [['custom', 'u8']] }, v: 1 };
    for (let id = 1; id <= 5; id++) {
      raw.sendBinary(
        packFrame(JSON.stringify({ t: 'call', id, p: 'echo', v: { data: [0, 1], note: '' }, m: annotated }), [
          new Uint8Array([id]),
        ]),
      );
    }
    const answers = await Promise.all([1, 2, 3, 4, 5].map((id) => raw.waitFor((frame) => frame.id === id)));
    expect(answers.filter((frame) => frame.t === 'error' && frame.e?.code === 'RATE_LIMITED').length).toBeGreaterThan(
      0,
    );
    expect(answers.filter((frame) => frame.t === 'result').length).toBeGreaterThan(0);
  });

  it('moves 100 MB up and down in 64 KiB slices, every byte counted', { timeout: 60_000 }, async () => {
    await using ctx = await startBytesServer();
    const client = createClient(bytesApi, { url: ctx.url, streams, binary: binaryFrames() });
    try {
      const slice = new Uint8Array(64 * 1024).fill(3);
      const count = Math.ceil((100 * 1000 * 1000) / slice.length);
      function* slices(): Generator<Uint8Array<ArrayBuffer>> {
        for (let i = 0; i < count; i++) yield slice; // one buffer, sent again: only the credits hold memory
      }
      await expect(client.call.upload({}, slices())).resolves.toBe(count * slice.length);
      let bytes = 0;
      for await (const item of client.call.download({ slices: count, size: slice.length })) bytes += item.length;
      expect(bytes).toBe(count * slice.length);
    } finally {
      await client.close();
    }
  });

  it('the shared-tabs worker asks for text only (its hello carries no `bin`)', async () => {
    await using ctx = await startBytesServer();
    // What the hub sends upstream is the tab's hello without `bin`: the server then sends text.
    await using raw = await RawClient.connect(ctx.url);
    raw.send({ t: 'hello', fp: bytesApi.fingerprint });
    const welcome = await raw.waitFor((frame) => frame.t === 'welcome');
    expect(welcome.bin).toBeUndefined();
    const client = createClient(bytesApi, {
      url: ctx.url,
      streams,
      binary: binaryFrames(),
      logger: quietClientLogger,
    });
    try {
      await expect(client.call.echo({ data: new Uint8Array([1]), note: '' })).resolves.toEqual(new Uint8Array([1]));
    } finally {
      await client.close();
    }
  });

  it('a client without binaryFrames() carries the same bytes as base64 in text frames, both ways', async () => {
    await using ctx = await startBytesServer();
    const counts = { binaryIn: 0, textIn: 0, binaryOut: 0, textOut: 0 };
    const client = createClient(bytesApi, { url: ctx.url, streams, WebSocket: countingWebSocket(counts) });
    const received: Uint8Array[] = [];
    client.on('blob', ({ data }) => received.push(data));
    try {
      const data = new Uint8Array(1024).map((_unused, i) => i % 253);
      await expect(client.call.echo({ data, note: 'é' })).resolves.toEqual(data);
      await expect(client.call.upload({}, [data, data])).resolves.toBe(2048);
      const slices: Uint8Array[] = [];
      for await (const slice of client.call.download({ slices: 3, size: 16 })) slices.push(slice);
      expect(slices).toEqual([0, 1, 2].map((i) => new Uint8Array(16).fill(i)));
      await vi.waitFor(() => expect(ctx.server.stats().subscriptions).toBe(1));
      await ctx.server.emit('blob', { data });
      await vi.waitFor(() => expect(received).toEqual([data]));
      expect(counts.binaryOut).toBe(0);
      expect(counts.binaryIn).toBe(0);
    } finally {
      await client.close();
    }
  });
});
