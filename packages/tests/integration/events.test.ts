import type { EventMeta } from '@wirecall/client';
import { describe, expect, it, vi } from 'vitest';
import { RawClient, recordingWebSocket, type RawFrame, type WireEntry } from '../helpers/raw-client.js';
import { connectClient, startTestServer } from '../helpers/test-server.js';
import { testApiOptions, type TestApiServer } from '../helpers/test-handlers.js';
import { testApi } from '../helpers/fixtures.js';

interface Chat {
  room: string;
  text: string;
  at: Date;
}

const chat = (room: string, text: string): Chat => ({ room, text, at: new Date(Date.UTC(2024, 0, 1)) });

/** Resolves once the server holds `count` (stream, connection) subscriptions. */
async function subscriptionsReach(ctx: TestApiServer, count: number): Promise<void> {
  await vi.waitFor(() => expect(ctx.server.stats().subscriptions).toBe(count));
}

const isEvent =
  (key: string | undefined) =>
  (frame: RawFrame): boolean =>
    frame.t === 'event' && frame.k === key;

describe('events', () => {
  describe('params', () => {
    it('delivers an event only to subscribers of its params', async () => {
      await using ctx = await startTestServer(testApi, testApiOptions());
      await using inA = connectClient(testApi, ctx.url);
      await using inB = connectClient(testApi, ctx.url);
      const roomA: Chat[] = [];
      const roomB: Chat[] = [];
      inA.on('chatMessage', { room: 'a' }, (message) => roomA.push(message));
      inB.on('chatMessage', { room: 'b' }, (message) => roomB.push(message));
      await subscriptionsReach(ctx, 2);

      await ctx.server.emit('chatMessage', chat('a', 'for a'), { params: { room: 'a' } });
      await ctx.server.emit('chatMessage', chat('c', 'for nobody'), { params: { room: 'c' } });
      // A marker on b's stream: anything meant for b (or wrongly routed to it) arrives before it.
      await ctx.server.emit('chatMessage', chat('b', 'for b'), { params: { room: 'b' } });

      await vi.waitFor(() => expect(roomB).toHaveLength(1));
      await vi.waitFor(() => expect(roomA).toHaveLength(1));
      expect(roomA).toStrictEqual([chat('a', 'for a')]);
      expect(roomB).toStrictEqual([chat('b', 'for b')]);
      expect(roomA[0]!.at).toBeInstanceOf(Date);
    });

    it('delivers to every client subscribed with the same params', async () => {
      await using ctx = await startTestServer(testApi, testApiOptions());
      const clients = [
        connectClient(testApi, ctx.url),
        connectClient(testApi, ctx.url),
        connectClient(testApi, ctx.url),
      ];
      await using _cleanup = {
        [Symbol.asyncDispose]: async () => void (await Promise.all(clients.map((client) => client.close()))),
      };
      const received = clients.map(() => [] as string[]);
      clients.forEach((client, index) =>
        client.on('chatMessage', { room: 'shared' }, (message) => received[index]!.push(message.text)),
      );
      await subscriptionsReach(ctx, 3);

      await ctx.server.emit('chatMessage', chat('shared', 'hello all'), { params: { room: 'shared' } });

      await vi.waitFor(() => expect(received).toEqual([['hello all'], ['hello all'], ['hello all']]));
    });

    it('tags events with their stream key and keeps streams of different params apart on one socket', async () => {
      await using ctx = await startTestServer(testApi, testApiOptions());
      await using raw = await RawClient.greeted(ctx.url);
      raw.send({ t: 'sub', id: 1, e: 'chatMessage', v: { room: 'a' } });
      raw.send({ t: 'sub', id: 2, e: 'chatMessage', v: { room: 'b' } });
      const keyA = (await raw.waitFor((frame) => frame.t === 'subscribed' && frame.id === 1)).k;
      const keyB = (await raw.waitFor((frame) => frame.t === 'subscribed' && frame.id === 2)).k;
      expect(keyA).not.toBe(keyB);

      await ctx.server.emit('chatMessage', chat('a', 'one'), { params: { room: 'a' } });
      await ctx.server.emit('chatMessage', chat('b', 'two'), { params: { room: 'b' } });

      await raw.waitFor(isEvent(keyB));
      const events = raw.frames.filter((frame) => frame.t === 'event');
      expect(events.map((frame) => [frame.k, (frame.v as { text: string }).text])).toEqual([
        [keyA, 'one'],
        [keyB, 'two'],
      ]);
    });
  });

  describe('order and ids', () => {
    it('delivers a stream in emit order, with the ids emit returned', async () => {
      await using ctx = await startTestServer(testApi, testApiOptions());
      await using client = connectClient(testApi, ctx.url);
      const seen: { seq: number; meta: EventMeta }[] = [];
      client.on('tick', (tick, meta) => seen.push({ seq: tick.seq, meta }));
      await subscriptionsReach(ctx, 1);

      const ids: string[] = [];
      for (let seq = 0; seq < 100; seq++) ids.push(await ctx.server.emit('tick', { seq, at: new Date(seq) }));

      await vi.waitFor(() => expect(seen).toHaveLength(100));
      expect(seen.map((item) => item.seq)).toEqual(Array.from({ length: 100 }, (_, seq) => seq));
      expect(seen.map((item) => item.meta.id)).toEqual(ids);
      expect(new Set(ids).size).toBe(100);
      expect(seen.every((item) => item.meta.event === 'tick')).toBe(true);
    });
  });

  describe('unsubscribe', () => {
    it('sends no more frames for a stream once the raw client unsubscribed (checked on the wire)', async () => {
      await using ctx = await startTestServer(testApi, testApiOptions());
      await using raw = await RawClient.greeted(ctx.url);
      raw.send({ t: 'sub', id: 5, e: 'chatMessage', v: { room: 'a' } });
      raw.send({ t: 'sub', id: 6, e: 'tick' });
      const subscribed = await raw.waitFor((frame) => frame.t === 'subscribed' && frame.id === 5);
      const chatKey = subscribed.k;
      const tickKey = (await raw.waitFor((frame) => frame.t === 'subscribed' && frame.id === 6)).k;
      expect(typeof chatKey).toBe('string');

      await ctx.server.emit('chatMessage', chat('a', 'before'), { params: { room: 'a' } });
      const before = await raw.waitFor(isEvent(chatKey));
      expect(before.v).toMatchObject({ text: 'before' });

      raw.send({ t: 'unsub', id: 5 });
      const unsubAt = raw.frames.length;
      await raw.barrier(); // the server has handled the unsub
      await ctx.server.emit('chatMessage', chat('a', 'after 1'), { params: { room: 'a' } });
      await ctx.server.emit('chatMessage', chat('a', 'after 2'), { params: { room: 'a' } });
      await ctx.server.emit('tick', { seq: 1, at: new Date(1) });

      await raw.waitFor(isEvent(tickKey), { from: unsubAt });
      expect(raw.frames.slice(unsubAt).filter(isEvent(chatKey))).toEqual([]);
      expect(raw.texts.some((text) => text.includes('after 1') || text.includes('after 2'))).toBe(false);
      expect(ctx.server.stats().subscriptions).toBe(1);
    });

    it('keeps a stream while another subscription id of the same socket still wants it', async () => {
      await using ctx = await startTestServer(testApi, testApiOptions());
      await using raw = await RawClient.greeted(ctx.url);
      raw.send({ t: 'sub', id: 1, e: 'tick' });
      raw.send({ t: 'sub', id: 2, e: 'tick' });
      raw.send({ t: 'sub', id: 3, e: 'blob' });
      const tickKey = (await raw.waitFor((frame) => frame.t === 'subscribed' && frame.id === 1)).k;
      await raw.waitFor((frame) => frame.t === 'subscribed' && frame.id === 2);
      const blobKey = (await raw.waitFor((frame) => frame.t === 'subscribed' && frame.id === 3)).k;

      raw.send({ t: 'unsub', id: 1 });
      await raw.barrier();
      await ctx.server.emit('tick', { seq: 1, at: new Date(1) });
      const stillThere = await raw.waitFor(isEvent(tickKey));
      expect(stillThere.v).toMatchObject({ seq: 1 });

      raw.send({ t: 'unsub', id: 2 });
      const unsubAt = raw.frames.length;
      await raw.barrier();
      await ctx.server.emit('tick', { seq: 2, at: new Date(2) });
      await ctx.server.emit('blob', { data: new Uint8Array([1]), tags: new Set(['marker']) });

      await raw.waitFor(isEvent(blobKey), { from: unsubAt });
      expect(raw.frames.slice(unsubAt).filter(isEvent(tickKey))).toEqual([]);
    });

    it('stops calling a typed handler after off(), and the server stops sending its frames', async () => {
      await using ctx = await startTestServer(testApi, testApiOptions());
      const wire: WireEntry[] = [];
      await using client = connectClient(testApi, ctx.url, { WebSocket: recordingWebSocket(wire) });
      const messages: string[] = [];
      const ticks: number[] = [];
      const off = client.on('chatMessage', { room: 'a' }, (message) => messages.push(message.text));
      client.on('tick', (tick) => ticks.push(tick.seq));
      await subscriptionsReach(ctx, 2);

      await ctx.server.emit('chatMessage', chat('a', 'before'), { params: { room: 'a' } });
      await vi.waitFor(() => expect(messages).toEqual(['before']));
      off();
      await subscriptionsReach(ctx, 1); // the server has handled the unsub
      await ctx.server.emit('chatMessage', chat('a', 'after 1'), { params: { room: 'a' } });
      await ctx.server.emit('chatMessage', chat('a', 'after 2'), { params: { room: 'a' } });
      await ctx.server.emit('tick', { seq: 1, at: new Date(1) });

      await vi.waitFor(() => expect(ticks).toEqual([1]));
      expect(messages).toEqual(['before']);
      expect(client.pending.listeners).toBe(1);
      // On the wire: the unsub went out, and no frame of that stream came back after it.
      const sub = wire.find(
        (entry) => entry.dir === 'out' && entry.frame.t === 'sub' && (entry.frame.e as unknown) === 'chatMessage',
      );
      const chatKey = wire.find(
        (entry) => entry.dir === 'in' && entry.frame.t === 'subscribed' && entry.frame.id === sub?.frame.id,
      )?.frame.k;
      const unsubAt = wire.findIndex(
        (entry) => entry.dir === 'out' && entry.frame.t === 'unsub' && entry.frame.id === sub?.frame.id,
      );
      expect(chatKey).toBeDefined();
      expect(unsubAt).toBeGreaterThan(-1);
      expect(wire.slice(unsubAt).filter((entry) => entry.dir === 'in' && isEvent(chatKey)(entry.frame))).toEqual([]);
    });

    it('shares one server subscription between listeners and unsubscribes when the last one leaves', async () => {
      await using ctx = await startTestServer(testApi, testApiOptions());
      const wire: WireEntry[] = [];
      await using client = connectClient(testApi, ctx.url, { WebSocket: recordingWebSocket(wire) });
      const first: number[] = [];
      const second: number[] = [];
      const offFirst = client.on('tick', (tick) => first.push(tick.seq));
      const offSecond = client.on('tick', (tick) => second.push(tick.seq));
      await subscriptionsReach(ctx, 1);

      await ctx.server.emit('tick', { seq: 1, at: new Date(1) });
      await vi.waitFor(() => expect(second).toEqual([1]));
      offFirst();
      await ctx.server.emit('tick', { seq: 2, at: new Date(2) });
      await vi.waitFor(() => expect(second).toEqual([1, 2]));
      offSecond();
      await subscriptionsReach(ctx, 0);

      expect(first).toEqual([1]);
      const out = wire.filter((entry) => entry.dir === 'out').map((entry) => entry.frame.t);
      expect(out.filter((t) => t === 'sub')).toHaveLength(1);
      expect(out.filter((t) => t === 'unsub')).toHaveLength(1);
      expect(client.pending.listeners).toBe(0);
    });

    it('calling off() twice is harmless', async () => {
      await using ctx = await startTestServer(testApi, testApiOptions());
      await using client = connectClient(testApi, ctx.url);
      const ticks: number[] = [];
      const offOld = client.on('tick', () => {});
      client.on('tick', (tick) => ticks.push(tick.seq));
      await subscriptionsReach(ctx, 1);

      offOld();
      offOld();
      await ctx.server.emit('tick', { seq: 9, at: new Date(9) });

      // The second off() must not remove the other listener or the server subscription.
      await vi.waitFor(() => expect(ticks).toEqual([9]));
      expect(ctx.server.stats().subscriptions).toBe(1);
    });
  });

  describe('refusals', () => {
    it('answers a duplicate subscription id with BAD_REQUEST and keeps the first', async () => {
      await using ctx = await startTestServer(testApi, testApiOptions());
      await using raw = await RawClient.greeted(ctx.url);
      raw.send({ t: 'sub', id: 1, e: 'tick' });
      const tickKey = (await raw.waitFor((frame) => frame.t === 'subscribed' && frame.id === 1)).k;

      raw.send({ t: 'sub', id: 1, e: 'blob' });
      // Without the id: an error with id 1 would read as the end of subscription 1.
      const refused = await raw.waitFor((frame) => frame.t === 'error');

      expect(refused).toEqual({
        t: 'error',
        e: { code: 'BAD_REQUEST', message: 'This id is in use by a subscription or a call in flight' },
      });
      await ctx.server.emit('tick', { seq: 3, at: new Date(3) });
      expect((await raw.waitFor(isEvent(tickKey))).v).toMatchObject({ seq: 3 });
    });

    it('refuses params on an event that takes none', async () => {
      await using ctx = await startTestServer(testApi, testApiOptions());
      await using raw = await RawClient.greeted(ctx.url);

      raw.send({ t: 'sub', id: 1, e: 'tick', v: { room: 'a' } });

      expect(await raw.waitFor((frame) => frame.id === 1)).toMatchObject({ t: 'error', e: { code: 'BAD_REQUEST' } });
      expect(ctx.server.stats().subscriptions).toBe(0);
    });
  });
});
