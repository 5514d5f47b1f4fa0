/**
 * Calls over plain HTTP, as `curl` or a webhook makes them (`POST <path>/call/<name>`, `GET` for
 * idempotent procedures): the same validation, context, errors and limits as over a socket, and a
 * clear 4xx for hostile input. Real HTTP on 127.0.0.1, with `fetch`.
 */
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer, WirecallError } from '@wirecall/server';
import { defineContract } from '@wirecall/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { testApi } from '../helpers/fixtures.js';
import { newObserved, testApiOptions } from '../helpers/test-handlers.js';
import { startTestServer } from '../helpers/test-server.js';

const authApi = defineContract({
  procedures: { whoami: { input: z.object({}), output: z.string(), idempotent: true } },
  events: {},
  connectionParams: z.object({ token: z.string() }),
});

function post(url: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', body, headers });
}

describe('calls over HTTP', () => {
  it('answers POST with {"v","m"} and GET for idempotent procedures, values encoded as on the socket', async () => {
    await using ctx = await startTestServer(testApi, testApiOptions());
    const base = `http://127.0.0.1:${ctx.port}`;
    const sum = await post(`${base}/call/add`, '{"v":{"a":1,"b":2}}');
    expect(sum.status).toBe(200);
    expect(await sum.json()).toEqual({ v: 3 });
    const user = await fetch(`${base}/call/getUser?v=${encodeURIComponent('{"id":"u1"}')}`);
    expect(user.status).toBe(200);
    expect(await user.json()).toEqual({
      v: { id: 'u1', name: 'user u1', createdAt: '2020-01-01T00:00:00.000Z' },
      m: { values: { createdAt: ['Date'] }, v: 1 },
    });
    expect(user.headers.get('cache-control')).toBe('no-store');
  });

  it('maps error codes to HTTP statuses with the error body of an error frame', async () => {
    await using ctx = await startTestServer(testApi, testApiOptions());
    const base = `http://127.0.0.1:${ctx.port}/call`;
    const cases: [string, string, number, string][] = [
      ['add', '{"v":{"a":"x"}}', 400, 'BAD_REQUEST'],
      ['fail', '{"v":{"kind":"typed"}}', 403, 'FORBIDDEN'],
      ['fail', '{"v":{"kind":"plain"}}', 500, 'INTERNAL'],
      ['getUser', '{"v":{"id":"missing"}}', 404, 'NOT_FOUND'],
      ['nope', '{}', 404, 'NOT_FOUND'],
    ];
    for (const [name, body, status, code] of cases) {
      const response = await post(`${base}/${name}`, body);
      expect([name, response.status]).toEqual([name, status]);
      const { e } = (await response.json()) as { e: { code: string; message: string } };
      expect(e.code).toBe(code);
      expect(e.message).not.toContain('hunter2');
    }
    const slow = await post(`${base}/sleep`, '{"v":{"ms":5000}}', { 'wirecall-timeout': '50' });
    expect(slow.status).toBe(408);
    expect(await slow.json()).toMatchObject({ e: { code: 'TIMEOUT' } });
  });

  it('gives hostile input a clear 4xx and keeps serving', async () => {
    await using ctx = await startTestServer(testApi, { ...testApiOptions(), limits: { maxPayloadBytes: 1024 } });
    const base = `http://127.0.0.1:${ctx.port}`;
    const statuses = await Promise.all([
      post(`${base}/call/add`, '{not json'),
      post(`${base}/call/add`, '[1,2]'),
      post(`${base}/call/add`, 'null'),
      post(`${base}/call/add`, JSON.stringify({ v: 'x'.repeat(5000) })),
      post(`${base}/call/echo`, '{"v":1,"m":{"values":["regexp"],"v":1}}'),
      post(`${base}/call/echo`, '{"v":{},"m":{"values":{"__proto__":["Date"]},"v":1}}'),
      fetch(`${base}/call/add`),
      fetch(`${base}/call/getUser?v=%7Bbroken`),
      fetch(`${base}/call/add`, { method: 'PUT', body: '{}' }),
      post(`${base}/call/%E0%A4%A`, '{}'),
      post(`${base}/sse/not-a-session`, '{"t":"ping"}'),
      post(`${base}/call/add`, '{"v":{"a":1,"b":2}}', { 'wirecall-timeout': 'soon' }),
    ]).then((responses) => responses.map((response) => response.status));
    expect(statuses).toEqual([400, 400, 400, 413, 400, 400, 400, 400, 405, 426, 404, 400]);
    expect((await post(`${base}/call/add`, '{"v":{"a":2,"b":2}}')).status).toBe(200);
  });

  it('runs authenticate, connection params (header) and context as for a connection', async () => {
    const server = createServer(authApi, {
      authenticate: ({ request }) => {
        if (request.headers.authorization !== 'Bearer ok') throw new WirecallError('UNAUTHORIZED', 'no credentials');
        return { user: 'ann' };
      },
      context: ({ auth, connectionParams }) => ({ who: `${auth.user}/${connectionParams.token}` }),
      handlers: { whoami: ({ ctx }) => ctx.who },
      logger: { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} },
    });
    await using _server = server;
    const { port } = await server.listen({ port: 0 });
    const url = `http://127.0.0.1:${port}/call/whoami`;
    expect((await post(url, '{"v":{}}')).status).toBe(401);
    const badParams = await post(url, '{"v":{}}', { authorization: 'Bearer ok', 'wirecall-params': '{"token":1}' });
    expect(badParams.status).toBe(401);
    const ok = await post(url, '{"v":{}}', { authorization: 'Bearer ok', 'wirecall-params': '{"token":"t1"}' });
    expect(await ok.json()).toEqual({ v: 'ann/t1' });
  });

  it('refuses origins outside allowedOrigins, answers CORS for allowed ones, and rate-limits per address', async () => {
    await using ctx = await startTestServer(testApi, {
      ...testApiOptions(),
      allowedOrigins: ['https://app.example'],
      limits: { rateLimit: { messagesPerSecond: 1, burst: 3 } },
    });
    const url = `http://127.0.0.1:${ctx.port}/call/add`;
    const evil = await post(url, '{"v":{"a":1,"b":1}}', { origin: 'https://evil.example' });
    expect(evil.status).toBe(403);
    const good = await post(url, '{"v":{"a":1,"b":1}}', { origin: 'https://app.example' });
    expect(good.status).toBe(200);
    expect(good.headers.get('access-control-allow-origin')).toBe('https://app.example');
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await post(url, '{"v":{"a":1,"b":1}}')).status);
    expect(statuses).toContain(429);
  });

  it('answers a retry with the same idempotency key from the first run', async () => {
    const observed = newObserved();
    await using ctx = await startTestServer(testApi, testApiOptions(observed));
    const url = `http://127.0.0.1:${ctx.port}/call/getUser`;
    const headers = { 'wirecall-idempotency-key': 'webhook-42' };
    const first = await post(url, '{"v":{"id":"k"}}', headers);
    const second = await post(url, '{"v":{"id":"k"}}', headers);
    expect(await second.json()).toEqual(await first.json());
    expect(observed.runs.get('getUser:k')).toBe(1);
  });

  it('on attach(), answers its routes under the path and hands every other request to the app', async () => {
    const app = createHttpServer((_request, response) => response.end('app'));
    const server = createServer(testApi, testApiOptions());
    server.attach(app, { path: '/rpc' });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    const { port } = app.address() as AddressInfo;
    try {
      const base = `http://127.0.0.1:${port}`;
      expect(await (await fetch(`${base}/other`)).text()).toBe('app');
      expect(await (await fetch(`${base}/call/add`, { method: 'POST', body: '{}' })).text()).toBe('app');
      expect(await (await post(`${base}/rpc/call/add`, '{"v":{"a":2,"b":3}}')).json()).toEqual({ v: 5 });
      await server.close({ graceMs: 0 });
      expect(await (await post(`${base}/rpc/call/add`, '{"v":{"a":2,"b":3}}')).text()).toBe('app');
    } finally {
      await new Promise<void>((resolve) => app.close(() => resolve()));
    }
  });
});
