/**
 * The SSE session at the wire level, with `fetch` and no wirecall client: frames are the socket's
 * envelopes, one per `data:` message; events carry `id:` (their event id); a session's POSTs feed
 * its connection; limits and refusals answer as on a socket.
 */
import { testApi } from '../helpers/fixtures.js';
import { describe, expect, it } from 'vitest';
import { testApiOptions } from '../helpers/test-handlers.js';
import { startTestServer } from '../helpers/test-server.js';

/** A raw session: its token, and the SSE text read so far. */
async function openSession(base: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${base}/sse`, { headers });
  if (response.status !== 200) return { status: response.status, token: '', next: () => Promise.resolve('') };
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  /** Reads until the text so far contains `needle`; returns all of it. */
  const until = async (needle: string): Promise<string> => {
    while (!text.includes(needle)) {
      const { done, value } = await reader.read();
      if (done) return text;
      text += value;
    }
    return text;
  };
  const token = /event: session\ndata: (\S+)/.exec(await until('\n\n'))![1]!;
  return { status: 200, token, next: until };
}

describe('SSE sessions', () => {
  it('carries the socket’s envelopes, with the event id as the SSE id', async () => {
    await using ctx = await startTestServer(testApi, testApiOptions());
    const base = `http://127.0.0.1:${ctx.port}`;
    const session = await openSession(base);
    const hello = `{"t":"hello","fp":"${testApi.fingerprint}"}`;
    const posted = await fetch(`${base}/sse/${session.token}`, {
      method: 'POST',
      body: `${hello}\n{"t":"sub","id":1,"e":"tick"}\n{"t":"call","id":2,"p":"add","v":{"a":1,"b":2}}`,
    });
    expect(posted.status).toBe(204);
    await session.next('"t":"result"');
    const eventId = await ctx.server.emit('tick', { seq: 1, at: new Date(0) });
    const text = await session.next(`id: ${eventId}\n`);
    expect(text).toContain(`data: {"t":"welcome","fp":"${testApi.fingerprint}"`);
    expect(text).toContain('data: {"t":"result","id":2,"v":3}');
    expect(text).toContain(`id: ${eventId}\ndata: {"t":"event","k":"tick","eid":"${eventId}"`);
  });

  it('ends a session whose POST is over maxPayloadBytes with close 1009, and refuses a bad first frame with 4400', async () => {
    await using ctx = await startTestServer(testApi, { ...testApiOptions(), limits: { maxPayloadBytes: 512 } });
    const base = `http://127.0.0.1:${ctx.port}`;
    const big = await openSession(base);
    const tooBig = await fetch(`${base}/sse/${big.token}`, { method: 'POST', body: 'x'.repeat(2048) });
    expect(tooBig.status).toBe(413);
    expect(await big.next('event: close')).toContain('data: {"code":1009');
    const bad = await openSession(base);
    await fetch(`${base}/sse/${bad.token}`, { method: 'POST', body: '{"t":"ping"}' });
    expect(await bad.next('event: close')).toContain('data: {"code":4400');
    // The session is gone: its token answers 404.
    expect((await fetch(`${base}/sse/${bad.token}`, { method: 'POST', body: '{}' })).status).toBe(404);
  });

  it('refuses sessions as it refuses upgrades: origin 403, authenticate 401, capacity 503', async () => {
    await using ctx = await startTestServer(testApi, {
      ...testApiOptions(),
      allowedOrigins: ['https://app.example'],
      maxConnections: { perIp: 1 },
      authenticate: ({ request }) => {
        if (request.headers.cookie !== 'session=ok') throw new Error('never reached for these');
        return undefined;
      },
    });
    const base = `http://127.0.0.1:${ctx.port}`;
    expect((await openSession(base, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await openSession(base, { cookie: 'session=no' })).status).toBe(500);
    const first = await openSession(base, { cookie: 'session=ok' });
    expect(first.status).toBe(200);
    expect((await openSession(base, { cookie: 'session=ok' })).status).toBe(503);
  });
});
