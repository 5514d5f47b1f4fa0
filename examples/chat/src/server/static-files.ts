/**
 * Serves the built front-end (Vite's dist/) with plain node:http: GET and HEAD only, a content type
 * per extension, no path outside the directory, long-lived caching for Vite's content-hashed assets
 * and none for index.html (so a rebuilt page is picked up on reload).
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

function plain(response: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers });
  response.end(`${text}\n`);
}

/** The file under `root` a URL path names, or undefined for a path that is malformed or escapes `root`. */
function fileFor(root: string, url: string | undefined): string | undefined {
  let pathname: string;
  try {
    pathname = decodeURIComponent(new URL(url ?? '/', 'http://localhost').pathname);
  } catch {
    return undefined;
  }
  if (pathname.includes('\0')) return undefined;
  if (pathname.endsWith('/')) pathname += 'index.html';
  const file = normalize(join(root, pathname));
  return file.startsWith(root + sep) ? file : undefined;
}

/** A request listener serving the files under `root`. */
export function serveStatic(root: string): (request: IncomingMessage, response: ServerResponse) => void {
  const base = normalize(root).replace(/[\\/]+$/, '');
  return (request, response) => {
    void (async () => {
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        plain(response, 405, 'method not allowed', { Allow: 'GET, HEAD' });
        return;
      }
      const file = fileFor(base, request.url);
      if (file === undefined) {
        plain(response, 400, 'bad path');
        return;
      }
      const info = await stat(file).catch(() => undefined);
      if (info === undefined || !info.isFile()) {
        plain(response, 404, 'not found');
        return;
      }
      const hashed = file.startsWith(join(base, 'assets') + sep);
      response.writeHead(200, {
        'Content-Type': CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
        'Content-Length': String(info.size),
        'Cache-Control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
        'X-Content-Type-Options': 'nosniff',
      });
      if (request.method === 'HEAD') {
        response.end();
        return;
      }
      await pipeline(createReadStream(file), response);
    })().catch(() => {
      // The client went away mid-file, or the file vanished (a rebuild swapped dist/): end the response.
      if (!response.headersSent) plain(response, 500, 'could not read the file');
      else response.destroy();
    });
  };
}
