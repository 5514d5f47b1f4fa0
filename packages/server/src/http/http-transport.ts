import type { IncomingMessage, ServerResponse } from 'node:http';
import { WirecallError } from '@wirecall/core/internal';
import { pathnameOf } from '../http-reject.js';
import type { HttpOptions } from '../options.js';
import { AddressLimiter } from './address-limiter.js';
import { serveCall } from './http-call.js';
import type { HttpHost } from './http-host.js';
import { allowOrigin, preflight, sendError, sendJson } from './respond.js';
import { SseSessions } from './sse-sessions.js';

/** One of the transport's routes under the server's path. */
type Route =
  | { kind: 'call'; name: string; methods: string }
  | { kind: 'sse'; methods: string }
  | { kind: 'events'; event: string; methods: string }
  | { kind: 'session'; token: string; methods: string };

/**
 * The HTTP side of a server: stateless calls (`<path>/call/<name>`), SSE sessions
 * (`<path>/sse`, `<path>/sse/<token>`) and plain event streams (`<path>/events/<event>`). `handle()` answers the requests that are its own and
 * returns false for the rest, which the HTTP server's other listeners answer. Every request passes
 * the checks of an upgrade first: shutting down (503), origin (403), and then per route the rate
 * limit, capacity and `authenticate`. Nothing a request holds may throw out of here.
 */
export class HttpTransport {
  readonly #host: HttpHost;
  readonly #options: HttpOptions;
  readonly #limiter: AddressLimiter;
  readonly #sessions: SseSessions;
  /** Stateless calls not answered yet, so that `close()` can wait for them. */
  #pending = 0;
  #drained: (() => void) | undefined;

  constructor(host: HttpHost, options: HttpOptions) {
    this.#host = host;
    this.#options = options;
    this.#limiter = new AddressLimiter(host.limits.rateLimit);
    this.#sessions = new SseSessions(host);
  }

  /** Answers `request` if it is one of this transport's routes under `path`; false otherwise. */
  handle(request: IncomingMessage, response: ServerResponse, path: string | undefined): boolean {
    const route = routeOf(pathnameOf(request.url), path ?? '');
    if (route === undefined) return false;
    const host = this.#host;
    const { logger } = host;
    response.on('error', (error) => logger.debug({ err: error }, 'HTTP response error'));
    request.on('error', (error) => logger.debug({ err: error }, 'HTTP request error'));
    this.#serve(route, request, response).catch((error: unknown) => {
      logger.error({ err: error }, 'HTTP request failed');
      sendError(response, new WirecallError('INTERNAL', 'internal error'), logger);
    });
    return true;
  }

  /** Resolves once no stateless call is waiting for its answer. */
  drained(): Promise<void> {
    if (this.#pending === 0) return Promise.resolve();
    return new Promise((resolve) => (this.#drained = resolve));
  }

  async #serve(route: Route, request: IncomingMessage, response: ServerResponse): Promise<void> {
    const host = this.#host;
    const { logger } = host;
    if (!host.originAllowed(request.headers.origin)) {
      sendError(response, new WirecallError('FORBIDDEN', 'origin not allowed'), logger);
      return;
    }
    allowOrigin(request, response, host.restrictsOrigins);
    const method = request.method ?? 'GET';
    if (method === 'OPTIONS') {
      preflight(response, route.methods);
      return;
    }
    if (!route.methods.split(', ').includes(method)) {
      response.setHeader('allow', route.methods);
      sendJson(
        response,
        405,
        `{"e":${JSON.stringify({ code: 'BAD_REQUEST', message: `${method} is not served here` })}}`,
      );
      return;
    }
    if (host.closing) {
      sendError(response, new WirecallError('UNAVAILABLE', 'server is shutting down'), logger);
      return;
    }
    switch (route.kind) {
      case 'session':
        if (method === 'DELETE') this.#sessions.leave(request, response, route.token);
        else await this.#sessions.post(request, response, route.token);
        return;
      case 'sse':
        if (!this.#rateAllows(request, response)) return;
        await this.#sessions.open(request, response);
        return;
      case 'events':
        if (!this.#rateAllows(request, response)) return;
        await this.#sessions.openEvents(request, response, route.event);
        return;
      case 'call':
        if (!this.#rateAllows(request, response)) return;
        this.#pending++;
        try {
          await serveCall(host, { request, response, cacheControl: this.#cacheControl(route.name) }, route.name);
        } finally {
          if (--this.#pending === 0) this.#drained?.();
        }
        return;
      default: {
        const unreachable: never = route;
        throw new Error(`unhandled route ${JSON.stringify(unreachable)}`);
      }
    }
  }

  /** The per-address rate limit of requests that have no connection of their own. */
  #rateAllows(request: IncomingMessage, response: ServerResponse): boolean {
    if (this.#limiter.take(request.socket.remoteAddress ?? '')) return true;
    this.#host.counters.countError('RATE_LIMITED');
    sendError(response, new WirecallError('RATE_LIMITED', 'Too many requests; slow down'), this.#host.logger);
    return false;
  }

  #cacheControl(procedure: string): string | undefined {
    const option = this.#options.cacheControl;
    return typeof option === 'function' ? option(procedure) : option;
  }
}

/** Which route a pathname is, under `base` (the server's path, '' for none). */
function routeOf(pathname: string, base: string): Route | undefined {
  if (!pathname.startsWith(base)) return undefined;
  const rest = pathname.slice(base.length);
  if (rest === '/sse') return { kind: 'sse', methods: 'GET' };
  if (rest.startsWith('/sse/')) {
    const token = rest.slice('/sse/'.length);
    return /^[\w-]{1,64}$/.test(token) ? { kind: 'session', token, methods: 'POST, DELETE' } : undefined;
  }
  if (rest.startsWith('/call/')) {
    const name = nameAfter(rest, '/call/');
    return name === undefined ? undefined : { kind: 'call', name, methods: 'GET, POST' };
  }
  if (rest.startsWith('/events/')) {
    const event = nameAfter(rest, '/events/');
    return event === undefined ? undefined : { kind: 'events', event, methods: 'GET' };
  }
  return undefined;
}

/** The procedure or event name after `prefix` in a pathname (URL-decoded), if it can be one. */
function nameAfter(rest: string, prefix: string): string | undefined {
  let name: string;
  try {
    name = decodeURIComponent(rest.slice(prefix.length));
  } catch {
    return undefined;
  }
  return name.length > 0 && name.length <= 256 ? name : undefined;
}
