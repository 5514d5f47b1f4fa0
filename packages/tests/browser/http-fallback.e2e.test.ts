import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChatServer, type ChatServer } from '../../../examples/chat/src/server/chat-server.js';
import { startBlockingProxy, type BlockingProxy } from '../http/upgrade-blocking-proxy.js';
import { browserSuite, checkChromium, launchChromium } from './helpers/chromium.js';
import type { PageApi } from './http-chat-page/main.js';

/**
 * The chat in real Chromium behind a proxy that refuses every WebSocket upgrade (403): the pages
 * (the chat's contract, a client given `http: httpTransport()`) fall back to HTTP + Server-Sent
 * Events by themselves and the chat works: messages both ways, presence, the bot's streamed
 * answer. The chat example's server runs in process (`attach()` on its own HTTP server); the page
 * is bundled by Vite from the packages' dist (`npm run build` first, as `npm test` does).
 */
const chromiumCheck = checkChromium();
const PAGE_ROOT = fileURLToPath(new URL('./http-chat-page/', import.meta.url));
const WAIT = { timeout: 15_000, interval: 50 };
const quiet = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} };

async function inPage<T>(page: Page, run: (api: PageApi) => T | Promise<T>): Promise<T> {
  return page.evaluate<T>(`(${run.toString()})(window.wirecall)`);
}

describe.skipIf(!chromiumCheck.available)(
  browserSuite('the chat over SSE when the WebSocket upgrade is refused, in Chromium', chromiumCheck),
  () => {
    let proxy: BlockingProxy;
    let chat: ChatServer;
    let outDir: string;
    let browser: Browser | undefined;

    beforeAll(async () => {
      outDir = await mkdtemp(join(tmpdir(), 'wirecall-http-chat-'));
      await build({ root: PAGE_ROOT, logLevel: 'silent', build: { outDir, emptyOutDir: true, target: 'es2022' } });
      proxy = await startBlockingProxy();
      chat = createChatServer({ distDir: outDir, extraOrigins: [proxy.origin], logger: quiet });
      const port = await chat.listen(0, '127.0.0.1');
      proxy.target = `http://127.0.0.1:${port}`;
      browser = await launchChromium();
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      await chat?.close();
      await proxy?.[Symbol.asyncDispose]();
      if (outDir !== undefined) await rm(outDir, { recursive: true, force: true });
    });

    async function openChat(name: string): Promise<Page> {
      const page = await (await browser!.newContext()).newPage();
      await page.goto(`${proxy.origin}/?name=${name}`);
      await expect.poll(() => inPage(page, (api) => api.state()), WAIT).toBe('open');
      return page;
    }

    it('falls back to SSE by itself, and two pages chat, see each other and stream the bot', async () => {
      const [alice, bob] = [await openChat('alice'), await openChat('bob')];
      expect(await inPage(alice, (api) => api.transport())).toBe('http');
      expect(await inPage(bob, (api) => api.transport())).toBe('http');
      // Two refused upgrades per page, then HTTP; the server never saw a WebSocket.
      expect(proxy.refusedUpgrades).toBe(4);
      await expect.poll(() => inPage(alice, (api) => api.online()), WAIT).toEqual(['alice', 'bob']);

      await alice.evaluate(() => (window as unknown as { wirecall: PageApi }).wirecall.send('hello over SSE'));
      await bob.evaluate(() => (window as unknown as { wirecall: PageApi }).wirecall.send('hi alice'));
      for (const page of [alice, bob]) {
        await expect
          .poll(() => inPage(page, (api) => api.shown()), WAIT)
          .toEqual(['alice: hello over SSE', 'bob: hi alice']);
      }
      expect(await bob.locator('#messages li').first().textContent()).toBe('alice: hello over SSE (Date)');

      const tokens = await bob.evaluate(() => (window as unknown as { wirecall: PageApi }).wirecall.ask('help'));
      expect(tokens.length).toBeGreaterThan(1);
      await expect
        .poll(() => inPage(alice, (api) => api.shown().filter((line) => line.startsWith('bot: '))), WAIT)
        .toHaveLength(1);
      expect(chat.wirecall.stats().connections).toBe(2);
    });
  },
);
