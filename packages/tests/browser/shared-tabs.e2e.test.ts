import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConnectionInfo } from '@wirecall/server';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../helpers/test-server.js';
import { browserSuite, checkChromium, launchChromium } from './helpers/chromium.js';
import type { PageApi } from './shared-tabs-page/main.js';
import { testApiOptions, type TestApiServer } from '../helpers/test-handlers.js';
import { testApi } from '../helpers/fixtures.js';

/**
 * `shareAcrossTabs: true` in real Chromium tabs: a page bundled by Vite from the packages' dist
 * (the published files, without the monorepo's source condition), served over HTTP, three tabs of
 * one origin; the server sees one connection, each tab its own answers and events, and closing the
 * tab that opened the connection changes nothing for the others. Needs `npm run build` first
 * (`npm test` does it).
 */
const chromiumCheck = checkChromium();
const PAGE_ROOT = fileURLToPath(new URL('./shared-tabs-page/', import.meta.url));
const WAIT = { timeout: 15_000, interval: 50 };
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript' };

/** Serves a built folder on 127.0.0.1. */
function serveFolder(root: string): Promise<Server> {
  const server = createServer((request, response) => {
    const path = normalize(decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname));
    const file = join(root, path === '/' ? 'index.html' : path);
    if (!file.startsWith(root)) return void response.writeHead(403).end();
    const stream = createReadStream(file);
    stream.on('error', () => response.writeHead(404).end());
    stream.on('open', () => {
      response.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
      stream.pipe(response);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function inPage<T>(page: Page, run: (api: PageApi) => T | Promise<T>): Promise<T> {
  return page.evaluate<T>(`(${run.toString()})(window.wirecall)`);
}

describe.skipIf(!chromiumCheck.available)(
  browserSuite('tabs sharing one connection in Chromium', chromiumCheck),
  () => {
    let ctx: TestApiServer;
    const connected: ConnectionInfo[] = [];
    let outDir: string;
    let web: Server;
    let browser: Browser | undefined;
    let context: BrowserContext;
    let pageUrl: string;

    beforeAll(async () => {
      ctx = await startTestServer(testApi, {
        ...testApiOptions(),
        hooks: { onConnection: (connection) => connected.push(connection) },
      });
      outDir = await mkdtemp(join(tmpdir(), 'wirecall-shared-tabs-'));
      await build({ root: PAGE_ROOT, logLevel: 'silent', build: { outDir, emptyOutDir: true, target: 'es2022' } });
      web = await serveFolder(outDir);
      pageUrl = `http://127.0.0.1:${(web.address() as AddressInfo).port}/?ws=${encodeURIComponent(ctx.url)}`;
      browser = await launchChromium();
      context = await browser.newContext();
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      await new Promise((resolve) => web?.close(resolve));
      await ctx?.[Symbol.asyncDispose]();
      if (outDir !== undefined) await rm(outDir, { recursive: true, force: true });
    });

    async function openTab(): Promise<Page> {
      const page = await context.newPage();
      await page.goto(pageUrl);
      await expect.poll(() => inPage(page, (api) => api.state()), WAIT).toBe('open');
      return page;
    }

    it('bundles the worker from the published dist', async () => {
      const assets = await readdir(join(outDir, 'assets'));
      expect(assets.some((name) => name.startsWith('shared-worker'))).toBe(true);
    });

    it('runs three tabs over one server connection; closing the first tab changes nothing', async () => {
      const [first, second, third] = [await openTab(), await openTab(), await openTab()];
      expect(await inPage(first, (api) => api.shared())).toBe(true);
      expect(ctx.server.stats().connections).toBe(1);
      expect(connected).toHaveLength(1);

      const sums = await Promise.all(
        [first, second, third].map((page, t) =>
          page.evaluate(
            ([a]) =>
              Promise.all([1, 2, 3].map((b) => (window as unknown as { wirecall: PageApi }).wirecall.add(a!, b))),
            [t * 10],
          ),
        ),
      );
      expect(sums).toEqual([
        [1, 2, 3],
        [11, 12, 13],
        [21, 22, 23],
      ]);

      for (const page of [first, second, third]) await inPage(page, (api) => api.listen());
      await expect.poll(() => ctx.server.stats().subscriptions, WAIT).toBe(1);
      for (let seq = 1; seq <= 3; seq++) await ctx.server.emit('tick', { seq, at: new Date() });
      for (const page of [first, second, third]) {
        await expect.poll(() => inPage(page, (api) => api.ticks()), WAIT).toEqual([1, 2, 3]);
      }

      // The tab that opened the connection goes away; the worker and its socket stay.
      await first.close({ runBeforeUnload: true });
      expect(await inPage(second, (api) => api.add(40, 2))).toBe(42);
      await ctx.server.emit('tick', { seq: 4, at: new Date() });
      for (const page of [second, third]) {
        await expect.poll(() => inPage(page, (api) => api.ticks()), WAIT).toEqual([1, 2, 3, 4]);
      }
      expect(await inPage(third, (api) => api.add(50, 8))).toBe(58);
      expect(await inPage(third, (api) => api.state())).toBe('open');
      expect(connected).toHaveLength(1);
      expect(ctx.server.stats()).toMatchObject({ connections: 1, subscriptions: 1 });
    }, 60_000);
  },
);
