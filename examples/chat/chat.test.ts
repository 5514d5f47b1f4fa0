import { request } from 'node:http';
import { presence } from '@wirecall/client/presence';
import { streams } from '@wirecall/client/streams';
import { createClient, isWirecallError } from '@wirecall/client';
import { PROTOCOL } from '@wirecall/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  killAllChatProcesses,
  startChatProcess,
  type ChatProcess,
} from '../../packages/tests/browser/helpers/chat-process.js';
import { api, type Message } from './src/contract.js';

/**
 * The chat example doubles as a smoke test: start its server the way `npm start` does (against the
 * workspace sources; it builds the front-end first when dist/ is missing or stale), check that it
 * serves the page and its bundle over HTTP, that a Node client can chat on `/ws`, and that it stops
 * cleanly on SIGTERM. The browser side is tested in packages/tests/browser/chat.e2e.test.ts.
 */
const silent = { warn: () => {}, error: () => {} };

/** Answers an HTTP upgrade to `/ws` with `origin`: 101 when the server accepts it. */
function upgradeStatus(port: number, origin: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const upgrade = request({
      host: '127.0.0.1',
      port,
      path: '/ws',
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
        'Sec-WebSocket-Protocol': PROTOCOL,
        Origin: origin,
      },
    });
    upgrade.on('upgrade', (response, socket) => {
      socket.destroy();
      resolve(response.statusCode ?? 0);
    });
    upgrade.on('response', (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    upgrade.on('error', reject);
    upgrade.end();
  });
}

describe('the chat example', () => {
  let server: ChatProcess;

  beforeAll(async () => {
    server = await startChatProcess({ port: 0, readyTimeoutMs: 45_000 });
  }, 50_000);

  afterAll(async () => {
    await killAllChatProcesses();
  });

  it('serves the page, its script and its stylesheet with their content types', async () => {
    const page = await fetch(`${server.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await page.text();
    expect(html).toContain('data-testid="connection-state"');
    expect(html).toContain('data-testid="message-input"');

    const script = /<script type="module" crossorigin src="(\/assets\/[\w.-]+\.js)"><\/script>/.exec(html)?.[1];
    expect(script, html).toBeDefined();
    const bundle = await fetch(`${server.url}${script}`);
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const code = await bundle.text();
    // The client library is in it, using the browser's WebSocket (isomorphic-ws's browser entry), not `ws`.
    expect(code).toContain(PROTOCOL);
    expect(code).not.toMatch(/require\(["']ws["']\)|from ["']ws["']/);

    const stylesheet = /<link rel="stylesheet" crossorigin href="(\/assets\/[\w.-]+\.css)">/.exec(html)?.[1];
    expect(stylesheet, html).toBeDefined();
    const css = await fetch(`${server.url}${stylesheet}`);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');

    expect((await fetch(`${server.url}/nope.js`)).status).toBe(404);
    expect((await fetch(`${server.url}/%2e%2e%2fpackage.json`)).status).toBe(400);
  });

  it('lets a Node client send and receive a message, and refuses one that breaks the contract', async () => {
    const client = createClient(api, { url: server.wsUrl, logger: silent, streams, presence });
    try {
      const received: Message[] = [];
      const off = client.on('message', { room: 'c' }, (message) => received.push(message));
      const sent = await client.call.send({ room: 'c', author: 'smoke', text: 'hello from Node' });
      expect(sent).toMatchObject({ room: 'c', author: 'smoke', text: 'hello from Node' });
      expect(sent.at).toBeInstanceOf(Date);
      await vi.waitFor(() => expect(received).toEqual([sent]), { timeout: 5_000 });
      expect(received[0]!.at).toBeInstanceOf(Date);
      expect(await client.call.history({ room: 'c' })).toEqual([sent]);
      off();

      const refused = await client.call.send({ room: 'c', author: 'smoke', text: '' }).catch((error: unknown) => error);
      expect(isWirecallError(refused) && refused.code).toBe('BAD_REQUEST');
      expect((refused as { data: { issues: { path: string[] }[] } }).data.issues[0]!.path).toEqual(['text']);
    } finally {
      await client.close();
    }
  });

  it('accepts WebSockets from its own origin only', async () => {
    expect(await upgradeStatus(server.port, server.url)).toBe(101);
    expect(await upgradeStatus(server.port, `http://localhost:${server.port}`)).toBe(101);
    expect(await upgradeStatus(server.port, 'http://evil.example')).toBe(403);
  });

  it('stops cleanly on SIGTERM', async () => {
    await server.kill('SIGTERM');
    expect(server.exitCode).toBe(0);
    expect(server.stdout).toMatch(/^chat listening http:\/\/127\.0\.0\.1:\d+\nSIGTERM: closing\nclosed\n$/);
    expect(server.stderr).toBe('');
  });
});
