import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * Refuses an upgrade with a plain HTTP response, before any WebSocket exists, so a browser or a
 * script sees the status (401, 403, 503) instead of a bare connection failure.
 */
export function rejectUpgrade(socket: Duplex, status: number, message: string): void {
  if (socket.destroyed) return;
  const body = `${message}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
      'Connection: close\r\nContent-Type: text/plain; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/** The subprotocols a client offered in `Sec-WebSocket-Protocol`. */
export function offeredProtocols(header: string | undefined): string[] {
  return header === undefined ? [] : header.split(',').map((token) => token.trim());
}

/** The path of a request URL, without its query. */
export function pathnameOf(url: string | undefined): string {
  const path = url ?? '/';
  const query = path.indexOf('?');
  return query === -1 ? path : path.slice(0, query);
}
