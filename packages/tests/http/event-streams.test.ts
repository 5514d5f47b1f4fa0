/**
 * Plain event streams (`GET <path>/events/<event>`) at the wire level, read with `fetch` as an
 * `EventSource` or `curl` would: events as SSE messages with their event id, resume from
 * `Last-Event-ID`, gaps, refusals, and connection params from a cookie.
 */
import { defineContract, WirecallError } from '@wirecall/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { testApi } from '../helpers/fixtures.js';
import { testApiOptions } from '../helpers/test-handlers.js';
import { startTestServer } from '../helpers/test-server.js';

/** One SSE message: its fields as the EventSource spec reads them. */
interface SseMessage {
  id?: string;
  event?: string;
  data: string;
}

/** Opens `url` and reads its SSE messages as they come. */
async function openStream(url: string, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const response = await fetch(url, { headers, signal: controller.signal });
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  let ended = false;
  const messages: SseMessage[] = [];
  /** Reads until `count` messages arrived or the stream ended; returns them all. */
  const until = async (count: number): Promise<SseMessage[]> => {
    while (messages.length < count && !ended) {
      const { done, value } = await reader.read();
      if (done) {
        ended = true;
        break;
      }
      text += value;
      let end: number;
      while ((end = text.indexOf('\n\n')) !== -1) {
        const block = text.slice(0, end);
        text = text.slice(end + 2);
        const message: SseMessage = { data: '' };
        let isComment = true;
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) continue;
          isComment = false;
          const at = line.indexOf(': ');
          const [field, value] = at === -1 ? [line, ''] : [line.slice(0, at), line.slice(at + 2)];
          if (field === 'id') message.id = value;
          else if (field === 'event') message.event = value;
          else if (field === 'data') message.data = value;
        }
        if (!isComment) messages.push(message);
      }
    }
    return messages;
  };
  return { status: response.status, response, until, ended: () => ended, close: () => controller.abort() };
}

describe('plain event streams over SSE', () => {
  it('sends each event as one SSE message with its event id, and resumes after Last-Event-ID', async () => {
    await using ctx = await startTestServer(testApi, testApiOptions());
    const url = `http://127.0.0.1:${ctx.port}/events/tick`;
    const stream = await openStream(url);
    expect(stream.status).toBe(200);
    expect(stream.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    await expect.poll(() => ctx.server.stats().subscriptions).toBe(1);
    const first = await ctx.server.emit('tick', { seq: 1, at: new Date(0) });
    const [message] = await stream.until(1);
    expect(message!.id).toBe(first);
    expect(message!.event).toBeUndefined(); // the default `message` event of an EventSource
    expect(JSON.parse(message!.data)).toEqual({
      t: 'event',
      k: 'tick',
      eid: first,
      v: { seq: 1, at: '1970-01-01T00:00:00.000Z' },
      m: { values: { at: ['Date'] }, v: 1 },
    });
    stream.close();
    await expect.poll(() => ctx.server.stats().subscriptions).toBe(0);

    // Missed while away: the reconnect with Last-Event-ID gets them, in order, and nothing before.
    const second = await ctx.server.emit('tick', { seq: 2, at: new Date(2) });
    const third = await ctx.server.emit('tick', { seq: 3, at: new Date(3) });
    const again = await openStream(url, { 'last-event-id': first });
    const resumed = await again.until(2);
    expect(resumed.map((each) => each.id)).toEqual([second, third]);
    expect(resumed.map((each) => (JSON.parse(each.data) as { v: { seq: number } }).v.seq)).toEqual([2, 3]);
    again.close();
  });

  it('takes params from the query, and says gap when the resume point is older than the history', async () => {
    await using ctx = await startTestServer(testApi, testApiOptions());
    const base = `http://127.0.0.1:${ctx.port}/events/chatMessage`;
    const room = encodeURIComponent(JSON.stringify({ room: 'r1' }));
    const stream = await openStream(`${base}?v=${room}&lastEventId=0-0`);
    const [gap] = await stream.until(1);
    expect(gap!.event).toBe('gap');
    expect(JSON.parse(gap!.data)).toMatchObject({ t: 'gap', k: 'chatMessage {"room":"r1"}' });
    await ctx.server.emit(
      'chatMessage',
      { room: 'r2', text: 'elsewhere', at: new Date(1) },
      { params: { room: 'r2' } },
    );
    await ctx.server.emit('chatMessage', { room: 'r1', text: 'here', at: new Date(2) }, { params: { room: 'r1' } });
    const [, event] = await stream.until(2);
    expect(JSON.parse(event!.data)).toMatchObject({ k: 'chatMessage {"room":"r1"}', v: { text: 'here' } });
    stream.close();
  });

  it('refuses what it cannot serve: an unknown event ends the stream with event: error, bad JSON is a 400', async () => {
    await using ctx = await startTestServer(testApi, testApiOptions());
    const base = `http://127.0.0.1:${ctx.port}`;
    const unknown = await openStream(`${base}/events/nope`);
    const [error, close] = await unknown.until(2);
    expect(error!.event).toBe('error');
    expect(JSON.parse(error!.data)).toMatchObject({ t: 'error', id: 1, e: { code: 'NOT_FOUND' } });
    expect(close!.event).toBe('close');
    await unknown.until(3);
    expect(unknown.ended()).toBe(true);
    const badQuery = await fetch(`${base}/events/chatMessage?v=%7Bnot-json`);
    expect(badQuery.status).toBe(400);
    expect(await badQuery.json()).toMatchObject({ e: { code: 'BAD_REQUEST' } });
    const badParams = await openStream(`${base}/events/chatMessage?v=${encodeURIComponent('{"room":5}')}`);
    const [refused] = await badParams.until(1);
    expect(JSON.parse(refused!.data)).toMatchObject({ e: { code: 'BAD_REQUEST' } });
    expect((await fetch(`${base}/events/tick`, { method: 'POST' })).status).toBe(405);
    expect(ctx.server.stats().connections).toBe(0);
  });

  it('reads connection params from the wirecall-params cookie, where an EventSource cannot set headers (calls never do)', async () => {
    const api = defineContract({
      procedures: { ping: { input: z.object({}), output: z.string() } },
      events: { note: { payload: z.object({ text: z.string() }) } },
      connectionParams: z.object({ token: z.string() }),
    });
    await using ctx = await startTestServer(api, {
      handlers: { ping: () => 'pong' },
      context: ({ connectionParams }) => {
        if (connectionParams.token !== 'open sesame') throw new WirecallError('UNAUTHORIZED', 'bad token');
        return {};
      },
    });
    const url = `http://127.0.0.1:${ctx.port}/events/note`;
    const cookie = (token: string) => `theme=dark; wirecall-params=${encodeURIComponent(JSON.stringify({ token }))}`;
    const allowed = await openStream(url, { cookie: cookie('open sesame') });
    await expect.poll(() => ctx.server.stats().subscriptions).toBe(1);
    await ctx.server.emit('note', { text: 'hi' });
    expect(JSON.parse((await allowed.until(1))[0]!.data)).toMatchObject({ v: { text: 'hi' } });
    allowed.close();
    const refused = await openStream(url, { cookie: cookie('wrong') });
    const [close] = await refused.until(1);
    expect(close!.event).toBe('close');
    expect(JSON.parse(close!.data)).toMatchObject({ code: 4401 });

    // A call takes its params from the header only: a cookie would ride along on another site's
    // form POST, and act for the user.
    const call = (headers: Record<string, string>) =>
      fetch(`http://127.0.0.1:${ctx.port}/call/ping`, { method: 'POST', body: '{"v":{}}', headers });
    expect((await call({ cookie: cookie('open sesame') })).status).toBe(401);
    const byHeader = await call({ 'wirecall-params': JSON.stringify({ token: 'open sesame' }) });
    expect(byHeader.status).toBe(200);
    expect(await byHeader.json()).toEqual({ v: 'pong' });
  });
});
