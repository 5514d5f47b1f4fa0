/**
 * @module `@wirecall/client/http`: the HTTP transport, for when a WebSocket cannot get through (a
 * blocking proxy or firewall). Give `http: httpTransport()` to `createClient`: the client then
 * falls back to HTTP + Server-Sent Events by itself (`transport: 'auto'`, the default with it), or
 * uses it only (`transport: 'http'`). Apps without it ship none of it. See docs/http.md.
 *
 * @example
 * import { httpTransport } from '@wirecall/client/http';
 * const client = createClient(api, { url, http: httpTransport() });
 */
import type { HttpSupport } from '../options.js';
import { FallbackPolicy } from './fallback.js';
import { httpSocketClass } from './http-socket.js';

export interface HttpTransportOptions {
  /** The `fetch` to use (a polyfill, or one with a proxy agent). @default globalThis.fetch */
  fetch?: typeof fetch;
  /**
   * Whether the session's requests carry cookies: `include` for a server on another origin that
   * authenticates by cookie (it must list the page's origin in `allowedOrigins`). @default 'same-origin'
   */
  credentials?: RequestCredentials;
}

/** The HTTP transport for `createClient`'s `http` option. */
export function httpTransport(options: HttpTransportOptions = {}): HttpSupport {
  const fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const Socket = httpSocketClass({ fetch: fetchImpl, credentials: options.credentials ?? 'same-origin' });
  return { Socket, policy: (mode, fallback) => new FallbackPolicy(Socket, mode, fallback) };
}

export { HttpSocket, type HttpSocketConfig } from './http-socket.js';
export type { HttpSupport } from '../options.js';
export type { PolicyLink, SocketConstructor, SocketLike, TransportPolicy } from '../connection/connection-manager.js';
export type { FallbackOptions } from '../options.js';
