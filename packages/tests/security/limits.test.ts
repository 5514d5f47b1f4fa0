import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { SocketConstructor } from '@wirecall/client';
import { defineContract } from '@wirecall/core';
import WebSocket from 'ws';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { RawClient, type RawFrame } from '../helpers/raw-client.js';
import { testApi } from '../helpers/fixtures.js';
import { connectClient, startTestServer } from '../helpers/test-server.js';
import {
  clientFrame,
  closeCodeOf,
  fastReconnect,
  manualUpgrade,
  parseServerFrames,
  type ServerFrame,
  tcpOf,
  tryUpgrade,
} from './helpers.js';
import { rejectionOf } from '../helpers/rejection.js';
import { testApiOptions } from '../helpers/test-handlers.js';
import { recordStates } from '../helpers/chaos-kit.js';

/** A contract with a rendezvous procedure and one stream of each kind (plain, conflated). */
const limitsApi = defineContract({
  procedures: {
    hold: { input: z.object({ tag: z.string() }), output: z.string() },
  },
  events: {
    firehose: { payload: z.object({ seq: z.number(), pad: z.string() }) },
    latest: { payload: z.object({ seq: z.number(), pad: z.string() }), conflate: true },
  },
});

/** A `ws` WebSocket whose `welcome` frames lose `mp`, as from a server that does not announce its limit. */
function welcomeWithoutLimit(): SocketConstructor {
  class WithoutLimit extends WebSocket {
    override emit(event: string | symbol, ...args: unknown[]): boolean {
      const [data, isBinary] = args;
      if (event === 'message' && isBinary === false && Buffer.isBuffer(data)) {
        const text = data.toString('utf8');
        if (text.startsWith('{"t":"welcome"')) {
          const { mp: _mp, ...welcome } = JSON.parse(text) as Record<string, unknown>;
          return super.emit(event, Buffer.from(JSON.stringify(welcome)), false);
        }
      }
      return super.emit(event, ...args);
    }
  }
  return WithoutLimit as unknown as SocketConstructor;
}

function seqOf(frame: RawFrame): number | undefined {
  return frame.t === 'event' ? (frame.v as { seq?: number } | undefined)?.seq : undefined;
}

async function greet(url: string, fp: string): Promise<RawClient> {
  const raw = await RawClient.connect(url);
  raw.hello(fp);
  await raw.waitFor((frame) => frame.t === 'welcome');
  return raw;
}

describe('limits.maxPayloadBytes (oversized frames)', () => {
  it('closes a raw socket that sends a bigger frame with 1009, before parsing it', async () => {
    await using ctx = await startTestServer(testApi, { ...testApiOptions(), limits: { maxPayloadBytes: 1_024 } });
    await using raw = await RawClient.greeted(ctx.url);
    expect(raw.frames[0]).toMatchObject({ t: 'welcome', mp: 1_024 });

    raw.send({ t: 'call', id: 1, p: 'echo', v: 'x'.repeat(2_000) });

    expect((await raw.waitForClose()).code).toBe(1009);
    expect(raw.frames.filter((frame) => frame.id === 1)).toEqual([]);
    expect(ctx.server.stats().messagesIn).toBe(1); // only the hello: the big frame was never taken in
  });

  it('a typed client refuses an oversized call with PAYLOAD_TOO_LARGE itself and keeps its connection', async () => {
    await using ctx = await startTestServer(testApi, { ...testApiOptions(), limits: { maxPayloadBytes: 1_024 } });
    await using client = connectClient(testApi, ctx.url);
    const states = recordStates(client);
    expect(await client.call.echo('small')).toBe('small');
    const before = ctx.server.stats().messagesIn;

    const error = await rejectionOf(client.call.echo('x'.repeat(2_000)));

    expect(error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(ctx.server.stats().messagesIn).toBe(before);
    expect(await client.call.echo('after')).toBe('after');
    expect(states.map((change) => change.state)).toEqual(['open']);
  });

  it('when the limit was not announced (a proxy, an older server), the 1009 close reports PAYLOAD_TOO_LARGE', async () => {
    await using ctx = await startTestServer(testApi, { ...testApiOptions(), limits: { maxPayloadBytes: 1_024 } });
    await using client = connectClient(testApi, ctx.url, {
      WebSocket: welcomeWithoutLimit(),
      reconnect: fastReconnect,
    });
    const states = recordStates(client);
    expect(await client.call.echo('small')).toBe('small');

    const error = await rejectionOf(client.call.echo('x'.repeat(2_000)));

    expect(error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(states.find((change) => change.state !== 'open')).toMatchObject({
      state: 'reconnecting',
      closeCode: 1009,
      error: { code: 'PAYLOAD_TOO_LARGE' },
    });
    // A refusal, not a network error: the client reconnects and works.
    expect(await client.call.echo('after')).toBe('after');
  });
});

describe('limits.maxInFlightCalls (concurrent calls)', () => {
  /** `hold` runs until two calls are running at once, so the limit of 2 is really reached. */
  async function rendezvousServer() {
    const runs: string[] = [];
    const waiting: (() => void)[] = [];
    let running = 0;
    let maxRunning = 0;
    const served = await startTestServer(limitsApi, {
      limits: { maxInFlightCalls: 2 },
      handlers: {
        hold: async ({ input }) => {
          runs.push(input.tag);
          running++;
          maxRunning = Math.max(maxRunning, running);
          if (running < 2) await new Promise<void>((resolve) => waiting.push(resolve));
          else for (const release of waiting.splice(0)) release();
          running--;
          return input.tag;
        },
      },
    });
    return Object.assign(served, { runs, max: () => maxRunning });
  }

  it('refuses a third concurrent raw call with RATE_LIMITED without running it', async () => {
    await using ctx = await rendezvousServer();
    await using raw = await RawClient.connect(ctx.url);
    raw.hello(limitsApi.fingerprint);
    const welcome = await raw.waitFor((frame) => frame.t === 'welcome');
    expect(welcome.mi).toBe(2);

    // Call 1 waits for a partner; call 3 arrives while 1 is still running and 2 not yet.
    raw.send({ t: 'call', id: 1, p: 'hold', v: { tag: 'first' } });
    await vi.waitFor(() => expect(ctx.server.stats().inFlightCalls).toBe(1));
    raw.send({ t: 'call', id: 2, p: 'hold', v: { tag: 'second' } });
    raw.send({ t: 'call', id: 3, p: 'hold', v: { tag: 'third' } });

    const answers = await Promise.all([1, 2, 3].map((id) => raw.waitFor((frame) => frame.id === id)));
    expect(answers).toEqual([
      { t: 'result', id: 1, v: 'first' },
      { t: 'result', id: 2, v: 'second' },
      {
        t: 'error',
        id: 3,
        e: { code: 'RATE_LIMITED', message: 'At most 2 calls in flight', data: { maxInFlightCalls: 2 } },
      },
    ]);
    expect(ctx.runs).toEqual(['first', 'second']);
    expect(ctx.server.stats().errors).toEqual({ RATE_LIMITED: 1 });
  });

  it('never sends a typed client past the window the server announced', async () => {
    await using ctx = await rendezvousServer();
    await using client = connectClient(limitsApi, ctx.url);

    const tags = Array.from({ length: 8 }, (_unused, i) => `call-${i}`);
    const results = await Promise.allSettled(tags.map((tag) => client.call.hold({ tag })));

    expect(results).toEqual(tags.map((value) => ({ status: 'fulfilled', value })));
    expect(ctx.max()).toBe(2);
    expect(ctx.runs).toHaveLength(8);
    expect(ctx.server.stats().errors).toEqual({});
  });
});

describe('limits.rateLimit (message floods)', () => {
  /** Writes every frame at once, as fast as the socket takes them, and waits for the close. */
  async function flood(frames: string[]): Promise<{ code: number; answered: number; passed: number }> {
    await using ctx = await startTestServer(testApi, testApiOptions()); // the default limit: 1,000/s, bursts of 2,000
    await using bystander = connectClient(testApi, ctx.url);
    await using raw = await RawClient.greeted(ctx.url);
    for (const frame of frames) raw.sendText(frame);
    const { code } = await raw.waitForClose(15_000);
    // One connection's flood never touches another's.
    expect(await bystander.call.add({ a: 2, b: 2 })).toBe(4);
    return {
      code,
      answered: raw.frames.filter((frame) => frame.e?.code === 'RATE_LIMITED').length,
      passed: raw.frames.filter((frame) => frame.t !== 'error' || frame.e?.code !== 'RATE_LIMITED').length,
    };
  }

  it('closes a flood of 20,000 pings written at once with 1008', async () => {
    const result = await flood(Array.from({ length: 20_000 }, () => '{"t":"ping"}'));
    expect(result.code).toBe(1008);
    // The burst passed (pongs), and the close came long before the flood was through.
    expect(result.passed).toBeGreaterThanOrEqual(1_000);
    expect(result.passed).toBeLessThan(10_000);
  });

  it('closes a flood of 6,000 calls written at once with 1008, after answering the refused ones it read', async () => {
    const frames = Array.from({ length: 6_000 }, (_, id) =>
      JSON.stringify({ t: 'call', id, p: 'add', v: { a: id, b: 1 } }),
    );
    const result = await flood(frames);
    expect(result.code).toBe(1008);
    expect(result.answered).toBeGreaterThanOrEqual(1);
    // About `burst` refusals (plus the few that leaked away meanwhile), then the close.
    expect(result.answered).toBeLessThan(3_000);
  });

  it('closes a flood of 6,000 malformed frames (each with an id, each answerable) with 1008', async () => {
    const result = await flood(Array.from({ length: 6_000 }, (_, id) => JSON.stringify({ t: 'call', id })));
    expect(result.code).toBe(1008);
  });

  it('answers calls beyond the burst with RATE_LIMITED, and closes a continuing flood with 1008', async () => {
    await using ctx = await startTestServer(testApi, {
      ...testApiOptions(),
      limits: { rateLimit: { messagesPerSecond: 10, burst: 5 } },
    });
    await using bystander = connectClient(testApi, ctx.url);
    expect(await bystander.call.add({ a: 1, b: 2 })).toBe(3);
    await using raw = await RawClient.greeted(ctx.url); // hello took one of the 5 tokens

    for (let id = 1; id <= 8; id++) raw.send({ t: 'call', id, p: 'add', v: { a: id, b: 0 } });
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_unused, i) => raw.waitFor((frame) => frame.id === i + 1)),
    );

    const passed = answers.filter((frame) => frame.t === 'result');
    const limited = answers.filter((frame) => frame.e?.code === 'RATE_LIMITED');
    expect(passed.length + limited.length).toBe(8);
    expect(passed.length).toBeGreaterThanOrEqual(4);
    expect(passed.length).toBeLessThanOrEqual(5);
    // The bucket is first come, first served: the refused ones are the last ones.
    expect(answers.map((frame) => frame.t)).toEqual([...passed.map(() => 'result'), ...limited.map(() => 'error')]);
    expect(limited[0]!.e).toEqual({ code: 'RATE_LIMITED', message: 'Too many messages; slow down' });
    expect(raw.isOpen).toBe(true);

    const from = raw.frames.length;
    for (let id = 100; id < 140; id++) raw.send({ t: 'call', id, p: 'add', v: { a: id, b: 0 } });

    expect(await raw.waitForClose()).toEqual({ code: 1008, reason: 'message rate limit exceeded' });
    // Cut off long before the 40 were through: at most the refilled tokens' worth passed, and at most
    // `burst` refusals in a row were answered before the close.
    const flood = raw.frames.slice(from);
    const floodPassed = flood.filter((frame) => frame.t === 'result').length;
    const floodLimited = flood.filter((frame) => frame.e?.code === 'RATE_LIMITED').length;
    expect(floodPassed + floodLimited).toBe(flood.length);
    expect(floodPassed).toBeLessThanOrEqual(5);
    expect(floodLimited).toBeGreaterThanOrEqual(1);
    expect(flood.length).toBeLessThan(20);
    // Another connection has its own bucket.
    expect(await bystander.call.add({ a: 2, b: 2 })).toBe(4);
  });
});

describe('limits.maxSubscriptions (subscription floods)', () => {
  it('refuses a third stream with RATE_LIMITED, raw and typed', async () => {
    await using ctx = await startTestServer(testApi, { ...testApiOptions(), limits: { maxSubscriptions: 2 } });
    await using raw = await RawClient.greeted(ctx.url);

    raw.send({ t: 'sub', id: 1, e: 'tick' });
    raw.send({ t: 'sub', id: 2, e: 'chatMessage', v: { room: 'a' } });
    raw.send({ t: 'sub', id: 3, e: 'chatMessage', v: { room: 'b' } });

    const answers = await Promise.all([1, 2, 3].map((id) => raw.waitFor((frame) => frame.id === id)));
    expect(answers.map((frame) => frame.t)).toEqual(['subscribed', 'subscribed', 'error']);
    expect(answers[2]!.e).toEqual({ code: 'RATE_LIMITED', message: 'At most 2 subscriptions per connection' });
    expect(ctx.server.stats().subscriptions).toBe(2);

    // Freeing a slot makes room again.
    raw.send({ t: 'unsub', id: 1 });
    raw.send({ t: 'sub', id: 4, e: 'chatMessage', v: { room: 'b' } });
    expect((await raw.waitFor((frame) => frame.id === 4)).t).toBe('subscribed');

    await using client = connectClient(testApi, ctx.url);
    const errors: string[] = [];
    client.on('tick', () => {}, { onError: (error) => errors.push(`tick ${error.code}`) });
    client.on('chatMessage', { room: 'a' }, () => {}, { onError: (error) => errors.push(`a ${error.code}`) });
    client.on('chatMessage', { room: 'b' }, () => {}, { onError: (error) => errors.push(`b ${error.code}`) });

    await vi.waitFor(() => expect(errors).toEqual(['b RATE_LIMITED']));
    await vi.waitFor(() => expect(ctx.server.stats().subscriptions).toBe(4));
  });
});

describe('stream keys (params of a subscription)', () => {
  it('a subscription whose stream key is longer than the protocol allows fails alone, not the connection', async () => {
    // docs/protocol.md bounds stream keys (the client refuses `subscribed`/`event` frames with a longer
    // `k`); params are often user input (a room name from a URL), so one such subscription must not
    // take down every call and stream of the client with it.
    await using ctx = await startTestServer(testApi, testApiOptions());
    await using client = connectClient(testApi, ctx.url, { reconnect: fastReconnect });
    const states = recordStates(client);
    const errors: string[] = [];
    client.on('chatMessage', { room: 'x'.repeat(5_000) }, () => {}, { onError: (error) => errors.push(error.code) });
    expect(await client.call.add({ a: 1, b: 2 })).toBe(3);

    await vi.waitFor(() => expect(errors.length + states.length).toBeGreaterThan(1));
    expect(states.map((change) => change.state)).toEqual(['open']);
    expect(errors).toHaveLength(1);
    expect(await client.call.add({ a: 2, b: 3 })).toBe(5);
  });
});

describe('limits.handshakeTimeoutMs (silent peers)', () => {
  it('closes a socket that never says hello with 4408, and leaves greeted ones alone', async () => {
    await using ctx = await startTestServer(testApi, { ...testApiOptions(), limits: { handshakeTimeoutMs: 200 } });
    await using greeted = await RawClient.greeted(ctx.url);
    await using silent = await RawClient.connect(ctx.url);

    expect(await silent.waitForClose()).toEqual({ code: 4408, reason: 'no hello within the handshake timeout' });
    expect(silent.frames).toEqual([]);
    // The greeted socket opened first, so its own timer would have fired by now had it not been cleared.
    await greeted.barrier();
    expect(greeted.isOpen).toBe(true);
    expect(ctx.server.stats().connections).toBe(1);
  });
});

describe('limits.maxBufferedBytes (slow consumers)', () => {
  /** Emits until `stop()` or `bound` events; yields to the event loop between emits so others read. */
  async function emitUntil(
    emit: (seq: number) => Promise<unknown>,
    stop: () => boolean,
    bound: number,
  ): Promise<number> {
    let seq = 0;
    while (!stop() && seq < bound) {
      await emit(++seq);
      await yieldToLoop();
    }
    return seq;
  }

  async function pausedSubscriber(url: string, event: 'firehose' | 'latest'): Promise<RawClient> {
    const raw = await greet(url, limitsApi.fingerprint);
    raw.send({ t: 'sub', id: 1, e: event });
    await raw.waitFor((frame) => frame.t === 'subscribed');
    tcpOf(raw).pause();
    return raw;
  }

  it('closes a consumer that stops reading with 4001; everyone else keeps receiving', async () => {
    const closes: number[] = [];
    await using ctx = await startTestServer(limitsApi, {
      handlers: { hold: ({ input }) => input.tag },
      limits: { maxBufferedBytes: 64 * 1024 },
      history: { maxEvents: 0 },
      hooks: { onDisconnect: (_connection, { code }) => closes.push(code) },
    });
    await using bystander = connectClient(limitsApi, ctx.url);
    const seen: number[] = [];
    bystander.on('firehose', ({ seq }) => seen.push(seq));
    await vi.waitFor(() => expect(ctx.server.stats().subscriptions).toBe(1));
    await using slow = await pausedSubscriber(ctx.url, 'firehose');
    const pad = 'x'.repeat(256 * 1024);

    const emitted = await emitUntil(
      (seq) => ctx.server.emit('firehose', { seq, pad }),
      () => closes.length > 0,
      1_000,
    );

    // Cut off once the kernel's socket buffers and 64 KiB on top were full, well before the bound.
    expect(closes).toEqual([4001]);
    expect(emitted).toBeLessThan(1_000);
    expect(ctx.logs.filter((entry) => entry.message === 'slow consumer disconnected')).toHaveLength(1);
    expect(ctx.server.stats()).toMatchObject({ connections: 1, subscriptions: 1 });
    // Nothing more is queued for the closed consumer: one more event costs exactly one frame (the bystander's).
    const before = ctx.server.stats();
    await ctx.server.emit('firehose', { seq: emitted + 1, pad: 'last' });
    const after = ctx.server.stats();
    expect(after.messagesOut - before.messagesOut).toBe(1);
    await vi.waitFor(() => expect(seen.at(-1)).toBe(emitted + 1));
    expect(seen).toEqual(Array.from({ length: emitted + 1 }, (_unused, i) => i + 1));

    tcpOf(slow).resume();
    expect([4001, 1006]).toContain((await slow.waitForClose()).code);
  });

  it('conflated streams keep only the newest pending event, where a plain stream is cut off', async () => {
    const closes: number[] = [];
    await using ctx = await startTestServer(limitsApi, {
      handlers: { hold: ({ input }) => input.tag },
      limits: { maxBufferedBytes: 1024 * 1024 },
      history: { maxEvents: 0 },
      hooks: { onDisconnect: (_connection, { code }) => closes.push(code) },
    });
    const pad = 'x'.repeat(64 * 1024);

    // A plain stream: a paused consumer is cut off after `cutOff` events.
    await using plain = await pausedSubscriber(ctx.url, 'firehose');
    const cutOff = await emitUntil(
      (seq) => ctx.server.emit('firehose', { seq, pad }),
      () => closes.length > 0,
      2_000,
    );
    expect(closes).toEqual([4001]);
    tcpOf(plain).resume();

    // A conflated stream under ten times that load stays open and ends on the newest value.
    await using latest = await pausedSubscriber(ctx.url, 'latest');
    const emitted = await emitUntil(
      (seq) => ctx.server.emit('latest', { seq, pad }),
      () => closes.length > 1,
      Math.max(10 * cutOff, 200),
    );
    expect(closes).toEqual([4001]);
    tcpOf(latest).resume();

    await latest.waitFor((frame) => seqOf(frame) === emitted, { timeoutMs: 10_000 });
    const received = latest.frames.map(seqOf).filter((seq) => seq !== undefined);
    expect(received.length).toBeLessThan(emitted / 2);
    expect(received.at(-1)).toBe(emitted);
    // Thinned out, never reordered or repeated.
    expect(received).toEqual([...received].sort((a, b) => a - b));
    expect(new Set(received).size).toBe(received.length);
    expect(latest.isOpen).toBe(true);
  });
});

describe('unsent pongs (a peer that pings without reading)', () => {
  it('terminates the socket once more than 60 automatic pongs wait behind a full send buffer', async () => {
    const closes: number[] = [];
    await using ctx = await startTestServer(limitsApi, {
      handlers: { hold: ({ input }) => input.tag },
      // High enough that the send-buffer limit is not what cuts this peer off.
      limits: { maxBufferedBytes: 256 * 1024 * 1024 },
      history: { maxEvents: 0 },
      hooks: { onDisconnect: (_connection, { code }) => closes.push(code) },
    });
    const raw = await greet(ctx.url, limitsApi.fingerprint);
    raw.send({ t: 'sub', id: 1, e: 'firehose' });
    await raw.waitFor((frame) => frame.t === 'subscribed');
    tcpOf(raw).pause();
    // Fill the kernel's socket buffers both ways so every pong from here on waits in ws's queue.
    const pad = 'x'.repeat(1024 * 1024);
    for (let seq = 1; seq <= 24; seq++) await ctx.server.emit('firehose', { seq, pad });
    await yieldToLoop();
    expect(closes).toEqual([]);

    for (let ping = 0; ping < 100; ping++) raw.socket.ping(Buffer.alloc(125));

    await vi.waitFor(() => expect(closes).toEqual([1006]));
    expect(ctx.server.stats().connections).toBe(0);
    raw.socket.terminate();
  });
});

describe('permessage-deflate (decompression bombs)', () => {
  it('is not negotiated even when the client offers it', async () => {
    await using ctx = await startTestServer(testApi, testApiOptions());

    await using offered = await tryUpgrade(ctx.url, { perMessageDeflate: true });
    expect(offered.status).toBe(101);
    expect(offered.headers['sec-websocket-extensions']).toBeUndefined();
    expect(offered.socket?.extensions).toBe('');

    const manual = await manualUpgrade(ctx.port, {
      'Sec-WebSocket-Extensions': 'permessage-deflate; client_max_window_bits, x-webkit-deflate-frame',
    });
    try {
      expect(manual.status).toBe(101);
      expect(manual.headers['sec-websocket-protocol']).toBe('wirecall.v1');
      expect(manual.headers['sec-websocket-extensions']).toBeUndefined();
    } finally {
      manual.socket.destroy();
    }
  });

  it('closes with 1002 on a compressed (RSV1) frame instead of inflating it', async () => {
    await using ctx = await startTestServer(testApi, testApiOptions());
    const { socket, head } = await manualUpgrade(ctx.port);
    try {
      let buffer = head;
      const frames: ServerFrame[] = [];
      socket.on('data', (chunk: Buffer) => {
        const parsed = parseServerFrames(Buffer.concat([buffer, chunk]));
        frames.push(...parsed.frames);
        buffer = parsed.rest;
      });
      const hello = Buffer.from(JSON.stringify({ t: 'hello', fp: ctx.server.contract.fingerprint }));
      socket.write(clientFrame(0x1, hello));
      await vi.waitFor(() => expect(frames.some((frame) => frame.opcode === 0x1)).toBe(true));

      // A deflate-compressed frame of zeros would inflate to far more than it weighs.
      socket.write(clientFrame(0x1, Buffer.from('f3ca4d0100', 'hex'), { rsv1: true }));

      await vi.waitFor(() => expect(frames.some((frame) => frame.opcode === 0x8)).toBe(true));
      expect(closeCodeOf(frames.find((frame) => frame.opcode === 0x8)!)).toBe(1002);
      await vi.waitFor(() => expect(ctx.server.stats().connections).toBe(0));
    } finally {
      socket.destroy();
    }
  });
});
