/* eslint-disable @typescript-eslint/require-await -- generators here stand for producers; most need no await */
import { streams } from '@wirecall/client/streams';
import { CLOSE_CODES, defineContract, WirecallError } from '@wirecall/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { tracked, type LimitOptions } from '@wirecall/server';
import { RawClient } from '../helpers/raw-client.js';
import { rejectionOf } from '../helpers/rejection.js';
import { connectClient, startTestServer } from '../helpers/test-server.js';

/**
 * Streaming procedures over real sockets: items under credit-based flow control, a final value,
 * cancellation that reaches the producer, typed errors mid-stream, uploads and duplex.
 */

const streamApi = defineContract({
  procedures: {
    count: {
      input: z.object({ to: z.number(), failAt: z.number().optional() }),
      stream: z.object({ n: z.number() }),
      output: z.object({ total: z.number() }),
      errors: { COUNT_BROKE: z.object({ at: z.number() }) },
    },
    /** Yields until stopped; records how far it got and whether its finally ran. */
    forever: { input: z.object({ key: z.string(), stallAfter: z.number().optional() }), stream: z.number() },
    offContract: { input: z.object({}), stream: z.number() },
    big: { input: z.object({ size: z.number() }), stream: z.string() },
    dropAfter: { input: z.object({ items: z.number() }), stream: z.number() },
    sum: { input: z.object({ key: z.string() }), inputStream: z.number(), output: z.number() },
    shout: { input: z.object({}), inputStream: z.string(), stream: z.string(), output: z.number() },
    plain: { input: z.object({}), output: z.string() },
    /** A streaming procedure marked idempotent: the flag must not let its generator outlive the connection. */
    idemForever: { input: z.object({ key: z.string() }), stream: z.number(), idempotent: true },
    /** Reads two items of its input at once. */
    pair: { input: z.object({}), inputStream: z.number(), output: z.number() },
    /** Resumable: its items carry ids, and a call after a drop goes on after the last one. */
    feed: { input: z.object({ to: z.number(), dropAt: z.number() }), stream: z.number(), resumable: true },
    /** Ignores its signal and takes its time: a handler still winding down after a cancel. */
    stubborn: { input: z.object({ key: z.string() }), output: z.null() },
  },
});

/** The `lastEventId` each call of `feed` got, in order. */
const feedCalls: (string | undefined)[] = [];
let stubbornRunning = 0;
let stubbornMost = 0;

interface Producer {
  produced: number;
  finished: boolean;
  aborted: boolean;
}

const producers = new Map<string, Producer>();
const consumers = new Map<string, { consumed: number; error?: unknown; finished: boolean }>();

function producer(key: string): Producer {
  let entry = producers.get(key);
  if (entry === undefined) {
    entry = { produced: 0, finished: false, aborted: false };
    producers.set(key, entry);
  }
  return entry;
}

afterEach(() => {
  producers.clear();
  consumers.clear();
});

const never = (signal: AbortSignal): Promise<never> =>
  new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));

function startStreamServer(limits: LimitOptions = {}) {
  return startTestServer(streamApi, {
    limits,
    handlers: {
      count: async function* ({ input }) {
        for (let n = 1; n <= input.to; n++) {
          if (n === input.failAt) {
            throw new WirecallError('COUNT_BROKE' as never, 'broke', { data: { at: n } } as never);
          }
          yield { n };
        }
        return { total: input.to };
      },
      forever: async function* ({ input, signal }) {
        const entry = producer(input.key);
        signal.addEventListener('abort', () => (entry.aborted = true));
        try {
          for (;;) {
            if (input.stallAfter !== undefined && entry.produced >= input.stallAfter) await never(signal);
            entry.produced++;
            yield entry.produced;
          }
        } finally {
          entry.finished = true;
        }
      },
      offContract: async function* () {
        yield 1;
        yield 'two' as unknown as number;
      },
      big: async function* ({ input }) {
        yield 'small';
        yield 'x'.repeat(input.size);
      },
      dropAfter: async function* ({ input, connection }) {
        for (let n = 1; n <= input.items; n++) yield n;
        // Wait for the client to have the items, then lose the connection.
        await new Promise((resolve) => setTimeout(resolve, 50));
        connection.close(CLOSE_CODES.GOING_AWAY, 'dropped on purpose');
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      },
      sum: async ({ input, inputStream }) => {
        const entry = { consumed: 0, finished: false } as { consumed: number; error?: unknown; finished: boolean };
        consumers.set(input.key, entry);
        let total = 0;
        try {
          for await (const n of inputStream) {
            entry.consumed++;
            total += n;
            if (input.key.startsWith('slow')) await new Promise((resolve) => setTimeout(resolve, 5));
          }
        } catch (error) {
          entry.error = error;
          throw error;
        } finally {
          entry.finished = true;
        }
        return total;
      },
      shout: async function* ({ inputStream }) {
        let count = 0;
        for await (const text of inputStream) {
          count++;
          yield text.toUpperCase();
        }
        return count;
      },
      plain: () => 'plain',
      idemForever: async function* ({ input }) {
        const entry = producer(input.key);
        try {
          for (;;) yield ++entry.produced;
        } finally {
          entry.finished = true;
        }
      },
      pair: async ({ inputStream }) => {
        const iterator = inputStream[Symbol.asyncIterator]();
        const [a, b] = await Promise.all([iterator.next(), iterator.next()]);
        return (a.value as number) + (b.value as number);
      },
      feed: async function* ({ input, lastEventId, connection }) {
        feedCalls.push(lastEventId);
        for (let n = lastEventId === undefined ? 1 : Number(lastEventId) + 1; n <= input.to; n++) {
          yield tracked(String(n), n);
          if (n === input.dropAt && lastEventId === undefined) {
            // Let the client have the items, then lose the connection under the stream.
            await new Promise((resolve) => setTimeout(resolve, 30));
            connection.close(CLOSE_CODES.GOING_AWAY, 'dropped on purpose');
            await new Promise((resolve) => setTimeout(resolve, 1_000));
          }
        }
      },
      stubborn: async () => {
        stubbornMost = Math.max(stubbornMost, ++stubbornRunning);
        await new Promise((resolve) => setTimeout(resolve, 300));
        stubbornRunning--;
        return null;
      },
    },
  });
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

describe('streams from the server', () => {
  it('delivers typed items in order, then the final value', async () => {
    await using ctx = await startStreamServer();
    await using client = connectClient(streamApi, ctx.url, { streams });

    const stream = client.call.count({ to: 50 });
    const items = await collect(stream);

    expect(items).toEqual(Array.from({ length: 50 }, (_unused, i) => ({ n: i + 1 })));
    await expect(stream.result).resolves.toEqual({ total: 50 });
    expect(stream.received).toBe(50);
    await vi.waitFor(() => expect(ctx.server.stats().inFlightCalls).toBe(0));
  });

  it('a consumer that stops reading stops the producer: it runs at most one window ahead', async () => {
    await using ctx = await startStreamServer();
    await using client = connectClient(streamApi, ctx.url, { streams });

    const stream = client.call.forever({ key: 'paused' }, { window: 4 });
    const first = await stream.next();
    expect(first).toEqual({ done: false, value: 1 });
    // Give a runaway producer every chance to run ahead.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const { produced } = producer('paused');
    // One item read: at most the window of 4, plus the credit that read item gave back (none yet: half a window is 2).
    expect(produced).toBeLessThanOrEqual(4);
    expect(produced).toBeGreaterThanOrEqual(1);

    for (let i = 0; i < 3; i++) await stream.next();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(producer('paused').produced).toBeLessThanOrEqual(4 + 4);
    stream.cancel();
    await vi.waitFor(() => expect(producer('paused').finished).toBe(true));
  });

  it.each([
    ['break out of for await', 'break'],
    ['the call’s signal', 'signal'],
    ['client.close()', 'close'],
  ] as const)('%s stops the server’s generator: its signal aborts and its finally runs', async (_label, how) => {
    await using ctx = await startStreamServer();
    const client = connectClient(streamApi, ctx.url, { streams });
    const controller = new AbortController();
    const stream = client.call.forever({ key: how }, { signal: controller.signal });
    let seen = 0;
    let thrown: unknown;
    try {
      for await (const n of stream) {
        seen = n;
        if (n < 3) continue;
        if (how === 'break') break;
        if (how === 'signal') controller.abort();
        if (how === 'close') await client.close();
      }
    } catch (error) {
      thrown = error;
    }
    expect(seen).toBeGreaterThanOrEqual(3);
    if (how === 'signal') expect(thrown).toMatchObject({ code: 'CANCELLED' });
    if (how === 'close') expect(thrown).toMatchObject({ code: 'CLOSED' });
    if (how === 'break') {
      expect(thrown).toBeUndefined();
      await expect(stream.result).rejects.toMatchObject({ code: 'CANCELLED' });
    }
    await vi.waitFor(() => expect(producer(how)).toMatchObject({ finished: true }));
    if (how !== 'close') expect(producer(how).aborted).toBe(true);
    await vi.waitFor(() => expect(ctx.server.stats().inFlightCalls).toBe(0));
    await client.close();
  });

  it('a handler that throws mid-stream ends the iteration with its typed error, after the items before it', async () => {
    await using ctx = await startStreamServer();
    await using client = connectClient(streamApi, ctx.url, { streams });

    const stream = client.call.count({ to: 10, failAt: 4 });
    const items: number[] = [];
    const error = await rejectionOf(
      (async () => {
        for await (const { n } of stream) items.push(n);
      })(),
    );

    expect(items).toEqual([1, 2, 3]);
    expect(error).toMatchObject({ code: 'COUNT_BROKE', message: 'broke', data: { at: 4 } });
    await expect(stream.result).rejects.toBe(error);
  });

  it('an item off the contract ends the stream with INTERNAL; the connection carries on', async () => {
    await using ctx = await startStreamServer();
    await using client = connectClient(streamApi, ctx.url, { streams });

    const items: number[] = [];
    const error = await rejectionOf(
      (async () => {
        for await (const n of client.call.offContract({})) items.push(n);
      })(),
    );
    expect(items).toEqual([1]);
    expect(error.code).toBe('INTERNAL');
    await expect(client.call.plain({})).resolves.toBe('plain');
  });

  it('an item larger than maxPayloadBytes fails the stream with PAYLOAD_TOO_LARGE, not the connection', async () => {
    await using ctx = await startStreamServer({ maxPayloadBytes: 64 * 1024 });
    await using client = connectClient(streamApi, ctx.url, { streams });

    const stream = client.call.big({ size: 100 * 1024 });
    const items: string[] = [];
    const error = await rejectionOf(
      (async () => {
        for await (const item of stream) items.push(item);
      })(),
    );
    expect(items).toEqual(['small']);
    expect(error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', data: { maxPayloadBytes: 64 * 1024 } });
    await expect(client.call.plain({})).resolves.toBe('plain');
    expect(client.state).toBe('open');
  });

  it('timeoutMs bounds the wait for the next item: TIMEOUT, and the producer is stopped', async () => {
    await using ctx = await startStreamServer();
    await using client = connectClient(streamApi, ctx.url, { streams });

    const stream = client.call.forever({ key: 'stall', stallAfter: 2 }, { timeoutMs: 200 });
    const items: number[] = [];
    const error = await rejectionOf(
      (async () => {
        for await (const n of stream) items.push(n);
      })(),
    );
    expect(items).toEqual([1, 2]);
    expect(error).toMatchObject({ code: 'TIMEOUT' });
    await vi.waitFor(() => expect(producer('stall')).toMatchObject({ aborted: true, finished: true }));
  });

  it('a stream that outlives timeoutMs is fine while items keep coming', async () => {
    await using ctx = await startStreamServer();
    await using client = connectClient(streamApi, ctx.url, { streams });
    const stream = client.call.forever({ key: 'slow reader' }, { timeoutMs: 100 });
    let last = 0;
    for await (const n of stream) {
      last = n;
      await new Promise((resolve) => setTimeout(resolve, 30));
      if (n === 8) break; // 8 items over ~240 ms, more than twice the timeout
    }
    expect(last).toBe(8);
  });

  it('limits.maxStreams: a typed client queues streams past the announced limit', async () => {
    await using ctx = await startStreamServer({ maxStreams: 2 });
    await using client = connectClient(streamApi, ctx.url, { streams });

    const a = client.call.forever({ key: 'a' });
    const b = client.call.forever({ key: 'b' });
    await a.next();
    await b.next();
    const c = client.call.forever({ key: 'c' });
    await expect(client.call.plain({})).resolves.toBe('plain'); // calls pass the waiting stream
    expect(producers.has('c')).toBe(false);
    a.cancel();
    await expect(c.next()).resolves.toEqual({ done: false, value: 1 });
    b.cancel();
    c.cancel();
    await vi.waitFor(() => expect(producer('c').finished).toBe(true));
  });

  it('limits.maxStreams refuses a raw peer’s stream too many with RATE_LIMITED, without running it', async () => {
    await using ctx = await startStreamServer({ maxStreams: 1 });
    await using raw = await RawClient.greeted(ctx.url, streamApi.fingerprint);
    raw.send({ t: 'call', id: 1, p: 'forever', v: { key: 'first' }, cr: 1 });
    await raw.waitFor((frame) => frame.t === 'item' && frame.id === 1);
    const refused = await raw.request({ t: 'call', id: 2, p: 'forever', v: { key: 'second' } });
    expect(refused).toMatchObject({ t: 'error', e: { code: 'RATE_LIMITED', data: { maxStreams: 1 } } });
    expect(producers.has('second')).toBe(false);
    raw.send({ t: 'cancel', id: 1 });
    await vi.waitFor(() => expect(producer('first').finished).toBe(true));
  });

  it('a lost connection ends the stream with CONNECTION_LOST and says how many items arrived', async () => {
    await using ctx = await startStreamServer();
    await using client = connectClient(streamApi, ctx.url, { streams, reconnect: { minDelayMs: 10, maxDelayMs: 20 } });

    const stream = client.call.dropAfter({ items: 5 });
    const items: number[] = [];
    const error = await rejectionOf(
      (async () => {
        for await (const n of stream) items.push(n);
      })(),
    );
    expect(items).toEqual([1, 2, 3, 4, 5]);
    expect(error).toMatchObject({ code: 'CONNECTION_LOST', data: { received: 5 } });
    // The client reconnects by itself and the next call works.
    await expect(client.call.plain({})).resolves.toBe('plain');
  });

  it('leaves nothing behind over 1,000 streams ended every way', async () => {
    await using ctx = await startStreamServer();
    await using client = connectClient(streamApi, ctx.url, { streams });

    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(
        Array.from({ length: 100 }, async (_unused, i) => {
          const way = (batch * 100 + i) % 4;
          if (way === 0) return collect(client.call.count({ to: 3 }));
          if (way === 1) return rejectionOf(collect(client.call.count({ to: 5, failAt: 2 })));
          const stream = client.call.forever({ key: `leak-${batch}-${i}` });
          await stream.next();
          if (way === 2) return stream.return();
          stream.cancel();
          return undefined;
        }),
      );
    }
    await vi.waitFor(() => expect(ctx.server.stats().inFlightCalls).toBe(0));
    expect(client.pending.calls).toBe(0);
    const cancelled = [...producers.values()];
    expect(cancelled).toHaveLength(500);
    await vi.waitFor(() => expect(cancelled.every((entry) => entry.finished)).toBe(true));
  });
});

describe('resumable streams', () => {
  it('go on across a dropped connection: every item once, in order, the handler told where to resume', async () => {
    await using ctx = await startStreamServer();
    await using client = connectClient(streamApi, ctx.url, { streams, reconnect: { minDelayMs: 10, maxDelayMs: 20 } });
    feedCalls.length = 0;
    const items = await collect(client.call.feed({ to: 20, dropAt: 7 }, { window: 4 }));
    expect(items).toEqual(Array.from({ length: 20 }, (_unused, i) => i + 1));
    expect(feedCalls).toHaveLength(2);
    expect(feedCalls[0]).toBeUndefined();
    // The client resumed after the last item it had: item 7, the one before the drop.
    expect(feedCalls[1]).toBe('7');
  });
});

describe('what a peer cannot do to a stream', () => {
  it('an idempotency key does not keep a stream’s generator alive after its connection is gone', async () => {
    await using ctx = await startStreamServer();
    const raw = await RawClient.greeted(ctx.url, streamApi.fingerprint);
    raw.send({ t: 'call', id: 1, p: 'idemForever', v: { key: 'idem' }, cr: 2, ik: 'retry-me' });
    await raw.waitFor((frame) => frame.t === 'item' && frame.v === 2);
    raw.socket.terminate();
    await vi.waitFor(() => expect(producer('idem').finished).toBe(true));
  });

  it('a rate-limited credit ends its call on both ends: one RATE_LIMITED answer, the generator stopped', async () => {
    await using ctx = await startStreamServer({ rateLimit: { messagesPerSecond: 1, burst: 4 } });
    await using raw = await RawClient.greeted(ctx.url, streamApi.fingerprint);
    raw.send({ t: 'call', id: 1, p: 'forever', v: { key: 'limited' }, cr: 1 });
    await raw.waitFor((frame) => frame.t === 'item' && frame.id === 1);
    for (let i = 0; i < 5; i++) raw.send({ t: 'credit', id: 1, n: 1 });
    const refusal = await raw.waitFor((frame) => frame.t === 'error' && frame.id === 1);
    expect(refusal.e).toMatchObject({ code: 'RATE_LIMITED' });
    await vi.waitFor(() => expect(producer('limited').finished).toBe(true));
    expect(raw.frames.filter((frame) => frame.t === 'error' || frame.t === 'result')).toHaveLength(1);
    expect(raw.isOpen).toBe(true);
  });

  it('refuses a window out of range, before sending (client) or with BAD_REQUEST (raw)', async () => {
    await using ctx = await startStreamServer();
    await using client = connectClient(streamApi, ctx.url, { streams });
    for (const window of [0, 1.5, Number.POSITIVE_INFINITY, 2_000_000]) {
      expect((await rejectionOf(client.call.count({ to: 1 }, { window }).next())).code).toBe('BAD_REQUEST');
    }
    await using raw = await RawClient.greeted(ctx.url, streamApi.fingerprint);
    const answer = await raw.request({ t: 'call', id: 1, p: 'count', v: { to: 1 }, cr: 2_000_000 });
    expect(answer).toMatchObject({ t: 'error', e: { code: 'BAD_REQUEST' } });
  });

  it('a handler may ask its input stream for two items at once', async () => {
    await using ctx = await startStreamServer();
    await using client = connectClient(streamApi, ctx.url, { streams });
    await expect(client.call.pair({}, [20, 22])).resolves.toBe(42);
  });

  it('cancelled handlers still running are bounded: at most one more window of them', async () => {
    await using ctx = await startStreamServer({ maxInFlightCalls: 2 });
    await using raw = await RawClient.greeted(ctx.url, streamApi.fingerprint);
    stubbornMost = 0;
    const refused: unknown[] = [];
    for (let id = 1; id <= 12; id++) {
      raw.send({ t: 'call', id, p: 'stubborn', v: { key: String(id) } });
      raw.send({ t: 'cancel', id });
    }
    await raw.barrier();
    for (const frame of raw.frames) if (frame.t === 'error') refused.push(frame.e);
    expect(stubbornMost).toBeLessThanOrEqual(4);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused).toContainEqual(expect.objectContaining({ code: 'RATE_LIMITED' }));
  });
});

describe('streams from the client', () => {
  it('an upload reaches the handler as an async iterable; its answer is the call’s result', async () => {
    await using ctx = await startStreamServer();
    await using client = connectClient(streamApi, ctx.url, { streams });

    const numbers = Array.from({ length: 100 }, (_unused, i) => i + 1);
    await expect(client.call.sum({ key: 'plain' }, numbers)).resolves.toBe(5050);
    expect(consumers.get('plain')).toMatchObject({ consumed: 100, finished: true });
  });

  it('an upload whose source is slower than timeoutMs is fine: the timeout waits on the server only', async () => {
    await using ctx = await startStreamServer();
    await using client = connectClient(streamApi, ctx.url, { streams });
    async function* slow(): AsyncGenerator<number> {
      for (let n = 1; n <= 6; n++) {
        await new Promise((resolve) => setTimeout(resolve, 60));
        yield n;
      }
    }
    await expect(client.call.sum({ key: 'slow-source' }, slow(), { timeoutMs: 150 })).resolves.toBe(21);
  });

  it('a slow handler slows the source: the client pulls at most one window ahead of it', async () => {
    await using ctx = await startStreamServer();
    await using client = connectClient(streamApi, ctx.url, { streams });

    let pulled = 0;
    let aheadMost = 0;
    async function* source(): AsyncGenerator<number> {
      for (let n = 1; n <= 60; n++) {
        pulled++;
        aheadMost = Math.max(aheadMost, pulled - (consumers.get('slow')?.consumed ?? 0));
        yield n;
      }
    }
    await expect(client.call.sum({ key: 'slow' }, source())).resolves.toBe(1830);
    // The server grants 16 at first and 8 more per 8 read: never more than 16 ahead (plus one in hand).
    expect(aheadMost).toBeLessThanOrEqual(17);
  });

  it('cancelling an upload stops both ends: the handler’s iteration throws, the source is closed', async () => {
    await using ctx = await startStreamServer();
    await using client = connectClient(streamApi, ctx.url, { streams });

    let sourceClosed = false;
    async function* endless(): AsyncGenerator<number> {
      try {
        for (let n = 0; ; n++) yield n;
      } finally {
        sourceClosed = true;
      }
    }
    const controller = new AbortController();
    const call = client.call.sum({ key: 'slow-cancel' }, endless(), { signal: controller.signal });
    await vi.waitFor(() => expect(consumers.get('slow-cancel')?.consumed).toBeGreaterThan(3));
    controller.abort();
    expect((await rejectionOf(call)).code).toBe('CANCELLED');
    await vi.waitFor(() => expect(consumers.get('slow-cancel')).toMatchObject({ finished: true }));
    expect(consumers.get('slow-cancel')?.error).toMatchObject({ code: 'CANCELLED' });
    await vi.waitFor(() => expect(sourceClosed).toBe(true));
  });

  it('a source that throws fails the call with CANCELLED carrying the cause; the handler sees CANCELLED', async () => {
    await using ctx = await startStreamServer();
    await using client = connectClient(streamApi, ctx.url, { streams });

    async function* broken(): AsyncGenerator<number> {
      yield 1;
      throw new Error('disk gone');
    }
    const error = await rejectionOf(client.call.sum({ key: 'broken' }, broken()));
    expect(error.code).toBe('CANCELLED');
    expect((error.cause as Error).message).toBe('disk gone');
    await vi.waitFor(() => expect(consumers.get('broken')?.error).toMatchObject({ code: 'CANCELLED' }));
  });

  it('an item off the contract is refused before it is sent', async () => {
    await using ctx = await startStreamServer();
    await using client = connectClient(streamApi, ctx.url, { streams });
    const error = await rejectionOf(client.call.sum({ key: 'bad' }, [1, 'two' as unknown as number]));
    expect(error.code).toBe('BAD_REQUEST');
    await vi.waitFor(() => expect(consumers.get('bad')?.finished).toBe(true));
  });

  it('duplex: the handler answers each item of the caller’s stream as it comes', async () => {
    await using ctx = await startStreamServer();
    await using client = connectClient(streamApi, ctx.url, { streams });

    const stream = client.call.shout({}, ['a', 'b', 'c']);
    expect(await collect(stream)).toEqual(['A', 'B', 'C']);
    await expect(stream.result).resolves.toBe(3);
  });

  it('a raw peer that sends past its credits gets BAD_REQUEST for that call and keeps its connection', async () => {
    await using ctx = await startStreamServer();
    await using raw = await RawClient.greeted(ctx.url, streamApi.fingerprint);

    // A handler that reads slowly: its grants cannot keep up with a peer that ignores them.
    raw.send({ t: 'call', id: 1, p: 'sum', v: { key: 'slow-raw' } });
    const credit = await raw.waitFor((frame) => frame.t === 'credit' && frame.id === 1);
    for (let i = 0; i <= (credit.n as number) * 4; i++) raw.send({ t: 'item', id: 1, v: i });
    const answer = await raw.waitFor((frame) => frame.id === 1 && (frame.t === 'error' || frame.t === 'result'));
    expect(answer).toMatchObject({ t: 'error', e: { code: 'BAD_REQUEST' } });
    expect(await raw.request({ t: 'call', id: 2, p: 'plain', v: {} })).toMatchObject({ t: 'result', v: 'plain' });
  });
});
