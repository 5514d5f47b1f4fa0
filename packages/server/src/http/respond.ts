import type { IncomingMessage, ServerResponse } from 'node:http';
import { ERROR_CODES, isErrorCode, type WirecallError } from '@wirecall/core/internal';
import { encodeErrorBody } from '../connection/error-frame.js';
import type { Logger } from '../logger.js';

/** Headers a browser may send on the HTTP transport's requests (answered in CORS preflights). */
const ALLOWED_HEADERS = 'content-type, wirecall-params, wirecall-timeout, wirecall-idempotency-key, last-event-id';

/** The HTTP status of an error code (core's table); a declared code of the app's own is 400, like a refusal. */
export function statusOf(code: string): number {
  return isErrorCode(code) ? ERROR_CODES[code] : 400;
}

/** Answers with a JSON body. */
export function sendJson(response: ServerResponse, status: number, body: string): void {
  if (response.headersSent || response.destroyed) return;
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  response.end(body);
}

/** Answers with `{"e":{code,message,data}}`, the same error body as in an `error` frame, and its status. */
export function sendError(response: ServerResponse, error: WirecallError, logger: Logger): void {
  const encoded = encodeErrorBody(error, logger);
  sendJson(response, statusOf(encoded.code), `{"e":${encoded.json}}`);
}

/**
 * CORS for the origins the app allowed by name or predicate (`allowedOrigins`): the request's own
 * origin, with credentials (cookies). Without `allowedOrigins` no CORS header is sent: pages of
 * other origins cannot read the answers (the same-origin page can).
 */
export function allowOrigin(request: IncomingMessage, response: ServerResponse, restricted: boolean): void {
  const origin = request.headers.origin;
  if (!restricted || origin === undefined) return;
  response.setHeader('access-control-allow-origin', origin);
  response.setHeader('access-control-allow-credentials', 'true');
  response.setHeader('vary', 'origin');
}

/** Answers a CORS preflight for an allowed origin. */
export function preflight(response: ServerResponse, methods: string): void {
  response.writeHead(204, {
    'access-control-allow-methods': methods,
    'access-control-allow-headers': ALLOWED_HEADERS,
    'access-control-max-age': '600',
  });
  response.end();
}

/** Reads a request body up to `limit` bytes; undefined when it is larger (the rest is not read). */
export function readBody(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > limit) {
      resolve(undefined);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        request.off('data', onData);
        request.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    request.on('data', onData);
    request.once('end', () => resolve(Buffer.concat(chunks)));
    request.once('error', reject);
  });
}
