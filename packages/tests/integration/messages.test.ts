/* eslint-disable @typescript-eslint/only-throw-error -- a handler that throws a hostile non-Error, on purpose */
import { createClient, type WirecallError } from '@wirecall/client';
import { messages } from '@wirecall/client/messages';
import { defineContract, WirecallError as ServerError } from '@wirecall/core';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { RawClient, recordingWebSocket, type WireEntry } from '../helpers/raw-client.js';
import { quietClientLogger, startTestServer } from '../helpers/test-server.js';

/** Messages from the client: typed, checked at both ends, no answer, dropped while offline by default. */
const chatApi = defineContract({
  procedures: { ping: { input: z.object({}), output: z.string() } },
  messages: {
    typing: { payload: z.object({ room: z.string().min(1) }) },
    /** Worth keeping while offline. */
    read: { payload: z.object({ upTo: z.number() }), queue: true },
    refused: { payload: z.null() },
    hostile: { payload: z.null() },
  },
});

function startMessageServer(received: { name: string; payload: unknown; ctx: unknown }[]) {
  return startTestServer(chatApi, {
    context: () => ({ user: 'ada' }),
    handlers: { ping: () => 'pong' },
    messages: {
      typing: ({ payload, ctx, meta }) => void received.push({ name: meta.message, payload, ctx }),
      read: ({ payload, ctx, meta }) => void received.push({ name: meta.message, payload, ctx }),
      refused: () => {
        throw new ServerError('FORBIDDEN', 'not in this room');
      },
      hostile: async () => {
        await Promise.resolve();
        throw new Proxy(
          {},
          {
            get: () => {
              throw new Error('hostile');
            },
          },
        );
      },
    },
  });
}

describe('messages from the client', () => {
  it('need `messages` from @wirecall/client/messages: without it, createClient says so before connecting', () => {
    const options = { url: 'ws://127.0.0.1:1', reconnect: false } as Parameters<typeof createClient<typeof chatApi>>[1];
    expect(() => createClient(chatApi, { ...options, messages: undefined as never })).toThrow(
      /declares message typing; pass `messages` from '@wirecall\/client\/messages'/,
    );
  });

  it('reach their handler typed, with the connection’s ctx, and nothing comes back', async () => {
    const received: { name: string; payload: unknown; ctx: unknown }[] = [];
    await using ctx = await startMessageServer(received);
    const wire: WireEntry[] = [];
    const client = createClient(chatApi, { url: ctx.url, WebSocket: recordingWebSocket(wire), messages });
    try {
      await client.call.ping({});
      const before = wire.filter((entry) => entry.dir === 'in').length;
      client.send.typing({ room: 'lobby' });
      await vi.waitFor(() =>
        expect(received).toEqual([{ name: 'typing', payload: { room: 'lobby' }, ctx: { user: 'ada' } }]),
      );
      await client.call.ping({}); // one answer: the call's, nothing for the message
      expect(wire.filter((entry) => entry.dir === 'in').length).toBe(before + 1);
      expect(wire.find((entry) => entry.dir === 'out' && entry.frame.t === 'msg')?.frame).toMatchObject({
        n: 'typing',
        v: { room: 'lobby' },
      });
    } finally {
      await client.close();
    }
  });

  it('report what the client refuses (invalid) or the server refuses, by message name', async () => {
    const received: { name: string; payload: unknown; ctx: unknown }[] = [];
    await using ctx = await startMessageServer(received);
    const failures: { code: string; message: string }[] = [];
    const client = createClient(chatApi, {
      messages,
      url: ctx.url,
      logger: quietClientLogger,
      onMessageError: (error: WirecallError, { message }) => failures.push({ code: error.code, message }),
    });
    try {
      await client.call.ping({}); // connected: messages sent before that would be dropped
      client.send.typing({ room: '' });
      client.send.refused(null);
      client.send.hostile(null);
      await vi.waitFor(() => expect(failures).toHaveLength(3));
      expect(failures).toEqual(
        expect.arrayContaining([
          { code: 'BAD_REQUEST', message: 'typing' },
          { code: 'FORBIDDEN', message: 'refused' },
          { code: 'INTERNAL', message: 'hostile' },
        ]),
      );
      expect(received).toEqual([]);
      await expect(client.call.ping({})).resolves.toBe('pong');
    } finally {
      await client.close();
    }
  });

  it('are dropped while offline, unless declared queue: true (then sent on the next connection)', async () => {
    const received: { name: string; payload: unknown; ctx: unknown }[] = [];
    await using ctx = await startMessageServer(received);
    const client = createClient(chatApi, { url: ctx.url, reconnect: { minDelayMs: 50, maxDelayMs: 50 }, messages });
    try {
      await client.call.ping({});
      client.reconnect();
      expect(client.state).toBe('reconnecting');
      client.send.typing({ room: 'stale' });
      client.send.read({ upTo: 42 });
      await expect(client.call.ping({})).resolves.toBe('pong');
      await vi.waitFor(() => expect(received.map(({ name }) => name)).toEqual(['read']));
      expect(received[0]!.payload).toEqual({ upTo: 42 });
    } finally {
      await client.close();
    }
  });

  it('answer a raw peer’s unknown or malformed message with an error naming it, and keep the connection', async () => {
    await using ctx = await startMessageServer([]);
    await using raw = await RawClient.greeted(ctx.url, chatApi.fingerprint);
    raw.send({ t: 'msg', n: 'shout', v: 1 });
    expect(await raw.waitFor((frame) => frame.t === 'error')).toMatchObject({ n: 'shout', e: { code: 'NOT_FOUND' } });
    raw.send({ t: 'msg', n: 'typing', v: { room: 5 } });
    expect(await raw.waitFor((frame) => frame.t === 'error' && frame.n === 'typing')).toMatchObject({
      e: { code: 'BAD_REQUEST' },
    });
    expect(await raw.request({ t: 'call', id: 1, p: 'ping', v: {} })).toMatchObject({ t: 'result', v: 'pong' });
  });
});
