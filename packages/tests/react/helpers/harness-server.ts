/**
 * Serves the harness page of the Chromium suite on 127.0.0.1: `/` (an empty page running the
 * harness), `/ssr` (a page the test rendered on the server, hydrated by the harness) and
 * `/harness.js`, bundled once by esbuild from harness/page.tsx against the workspace sources, with
 * React's development build (StrictMode double-invokes effects only there).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const ENTRY = fileURLToPath(new URL('../harness/page.tsx', import.meta.url));

async function bundleHarness(): Promise<string> {
  const result = await esbuild.build({
    entryPoints: [ENTRY],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    jsx: 'automatic',
    conditions: ['@wirecall/source'],
    define: { 'process.env.NODE_ENV': '"development"' },
    sourcemap: 'inline',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

function pageHtml(body: string, head = ''): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>harness</title>${head}</head><body><div id="root">${body}</div><script type="module" src="/harness.js"></script></body></html>`;
}

export interface HarnessServer extends AsyncDisposable {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** What `/ssr` serves next: the server-rendered markup and the script that sets `window.__SSR__`. */
  setSsr(page: { html: string; state: unknown; id: string }): void;
}

export async function startHarnessServer(): Promise<HarnessServer> {
  const script = await bundleHarness();
  let ssr = { html: '', head: '' };
  const http: Server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (path === '/harness.js') {
      response.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8' });
      response.end(script);
    } else if (path === '/' || path === '/ssr') {
      response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      response.end(path === '/ssr' ? pageHtml(ssr.html, ssr.head) : pageHtml(''));
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    setSsr({ html, state, id }) {
      // `<` escaped, so the state cannot close the script element.
      const json = JSON.stringify({ id, state }).replaceAll('<', '\\u003c');
      ssr = { html, head: `<script>window.__SSR__ = ${json};</script>` };
    },
    async [Symbol.asyncDispose]() {
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
    },
  };
}
