import { createClient } from '@wirecall/client';
import { presence } from '@wirecall/client/presence';
import { streams } from '@wirecall/client/streams';
import { PROTOCOL } from '@wirecall/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  killAllChatProcesses,
  startChatProcess,
  type ChatProcess,
} from '../../packages/tests/browser/helpers/chat-process.js';
import { api, type Message } from './src/contract.js';

/**
 * The React chat doubles as a smoke test: start it the way `npm start` does (against the workspace
 * sources; it builds the front-end first when dist/ is missing or stale), check that it serves the
 * page and a bundle holding React, TanStack Query and the wirecall client (on the browser's
 * WebSocket), that a Node client can chat on `/ws`, and that it stops cleanly on SIGTERM. The page
 * itself is tested in Chromium by packages/tests/react/react-chat.e2e.test.ts.
 */
const silent = { warn: () => {}, error: () => {} };

describe('the React chat example', () => {
  let server: ChatProcess;

  beforeAll(async () => {
    server = await startChatProcess({ port: 0, readyTimeoutMs: 45_000, example: 'react-chat' });
  }, 50_000);

  afterAll(async () => {
    await killAllChatProcesses();
  });

  it('serves the page and its bundle', async () => {
    const page = await fetch(`${server.url}/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<div id="root"></div>');
    const script = /<script type="module" crossorigin src="(\/assets\/[\w.-]+\.js)"><\/script>/.exec(html)?.[1];
    expect(script, html).toBeDefined();
    const bundle = await fetch(`${server.url}${script}`);
    expect(bundle.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const code = await bundle.text();
    // The wirecall client (its protocol), @wirecall/react (its context's name) and React are in it,
    // on the browser's WebSocket (isomorphic-ws's browser entry), not `ws`. (Asserted as booleans:
    // a failure would print the whole bundle.)
    expect(code.includes(PROTOCOL)).toBe(true);
    expect(code.includes('WirecallContext')).toBe(true);
    expect(code.includes('react.transitional.element')).toBe(true);
    expect(/require\(["']ws["']\)|from ["']ws["']/.test(code)).toBe(false);
  });

  it('lets a Node client send and receive a message', async () => {
    const client = createClient(api, { url: server.wsUrl, logger: silent, streams, presence });
    try {
      const received: Message[] = [];
      const off = client.on('message', { room: 'b' }, (message) => received.push(message));
      const sent = await client.call.send({ room: 'b', author: 'smoke', text: 'hello from Node' });
      await vi.waitFor(() => expect(received).toEqual([sent]), { timeout: 5_000 });
      off();
    } finally {
      await client.close();
    }
  });

  it('stops cleanly on SIGTERM', async () => {
    await server.kill('SIGTERM');
    expect(server.exitCode).toBe(0);
    expect(server.stdout).toMatch(/^react-chat listening http:\/\/127\.0\.0\.1:\d+\nSIGTERM: closing\nclosed\n$/);
    expect(server.stderr).toBe('');
  });
});
