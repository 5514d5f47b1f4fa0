import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CLOSE_CODES, toWirecallError, WirecallError } from '@wirecall/core/internal';
import type { ConnectionSlot } from '../connection/connection-slots.js';
import { EventStreamSocket } from './event-stream-socket.js';
import type { HttpHost } from './http-host.js';
import { connectionParamsJson, jsonParam } from './request-values.js';
import { readBody, sendError } from './respond.js';
import { VirtualSocket } from './sse-socket.js';

/** Close codes a client may leave with (DELETE `?code=`): a departure, or a reconnect. */
const LEAVING_CODES: ReadonlySet<number> = new Set([CLOSE_CODES.NORMAL, CLOSE_CODES.CLIENT_RECONNECTING]);

/**
 * The open SSE sessions of a server, by token. A session is a connection like any other (the
 * server's connection host runs it); this table only routes each session's POSTs and DELETE to
 * its virtual socket. The token (24 random bytes) is the session's only key: whoever holds it
 * speaks for the client, as whoever holds a socket does.
 */
export class SseSessions {
  readonly #host: HttpHost;
  readonly #sessions = new Map<string, VirtualSocket>();

  constructor(host: HttpHost) {
    this.#host = host;
  }

  get size(): number {
    return this.#sessions.size;
  }

  /**
   * `GET <path>/sse`: the checks of an upgrade, then a `text/event-stream` answer whose first
   * message (`event: session`) gives the token, and a connection on a virtual socket.
   */
  async open(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const admitted = await this.#admit(request, response);
    if (admitted === undefined) return;
    const token = randomBytes(24).toString('base64url');
    response.write(`event: session\ndata: ${token}\n\n`);
    const socket = new VirtualSocket(response, token);
    this.#sessions.set(token, socket);
    socket.once('close', () => this.#sessions.delete(token));
    this.#host.accept(socket, { request, ...admitted });
  }

  /**
   * `GET <path>/events/<event>?v=<params>&m=<annotations>`: one event stream as plain SSE, for an
   * `EventSource` or `curl` (see event-stream-socket.ts). The server sends the `hello` (connection
   * params from the `wirecall-params` header or cookie) and the `sub`, resuming after
   * `Last-Event-ID` (or `?lastEventId=`) when given. A malformed query is a 400 before anything opens.
   */
  async openEvents(request: IncomingMessage, response: ServerResponse, event: string): Promise<void> {
    const host = this.#host;
    let frames: Buffer[];
    try {
      const query = new URL(request.url ?? '/', 'http://x').searchParams;
      const lastEventId = request.headers['last-event-id'] ?? query.get('lastEventId') ?? undefined;
      const params = connectionParamsJson(request, true);
      const hello = { t: 'hello', fp: host.contract.fingerprint, ...(params === undefined ? {} : { v: params }) };
      const sub = {
        t: 'sub',
        id: 1,
        e: event,
        v: jsonParam(query.get('v'), 'v'),
        m: jsonParam(query.get('m'), 'm'),
        after: typeof lastEventId === 'string' && lastEventId.length > 0 ? lastEventId : undefined,
      };
      frames = [Buffer.from(JSON.stringify(hello)), Buffer.from(JSON.stringify(sub))];
    } catch (thrown) {
      sendError(response, toWirecallError(thrown), host.logger);
      return;
    }
    const admitted = await this.#admit(request, response);
    if (admitted === undefined) return;
    // Nothing may be written before the first event: send the head now, so the client sees 200.
    response.flushHeaders();
    const socket = new EventStreamSocket(response, 'events');
    host.accept(socket, { request, ...admitted });
    socket.receive(frames);
  }

  /**
   * The checks of an upgrade (origin was checked by the router; capacity, then `authenticate`, each
   * refusal its HTTP status), then the `text/event-stream` answer's head; undefined when refused.
   */
  async #admit(
    request: IncomingMessage,
    response: ServerResponse,
  ): Promise<{ auth: unknown; slot: ConnectionSlot } | undefined> {
    const host = this.#host;
    const slot = host.reserveSlot(request.socket.remoteAddress ?? '');
    if (slot === undefined) {
      sendError(response, new WirecallError('UNAVAILABLE', 'too many connections'), host.logger);
      return undefined;
    }
    let auth: unknown;
    try {
      auth = await host.authenticate(request);
    } catch (thrown) {
      slot.release();
      const error = toWirecallError(thrown);
      if (error.code === 'INTERNAL') host.logger.error({ err: error.cause }, 'authenticate failed');
      host.counters.countError(error.code);
      sendError(
        response,
        error.code === 'INTERNAL' ? new WirecallError('INTERNAL', 'internal error') : error,
        host.logger,
      );
      return undefined;
    }
    if (response.destroyed || host.closing) {
      slot.release();
      if (host.closing) sendError(response, new WirecallError('UNAVAILABLE', 'server is shutting down'), host.logger);
      return undefined;
    }
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      // nginx and some proxies buffer responses unless told not to.
      'x-accel-buffering': 'no',
      connection: 'keep-alive',
    });
    request.socket.setNoDelay(true);
    // Long-lived by design: Node's per-request timeouts do not apply to a stream of events.
    request.socket.setTimeout(0);
    return { auth, slot };
  }

  /**
   * `POST <path>/sse/<token>`: the client's frames, newline-delimited, in order (one POST at a
   * time). A body over `limits.maxPayloadBytes` ends the session with 1009, like a socket's frame.
   */
  async post(request: IncomingMessage, response: ServerResponse, token: string): Promise<void> {
    const socket = this.#sessions.get(token);
    if (socket === undefined) {
      sendError(response, new WirecallError('NOT_FOUND', 'no such session'), this.#host.logger);
      return;
    }
    const { maxPayloadBytes } = this.#host.limits;
    const body = await readBody(request, maxPayloadBytes);
    if (body === undefined) {
      socket.close(CLOSE_CODES.MESSAGE_TOO_BIG, 'message too big');
      sendError(response, new WirecallError('PAYLOAD_TOO_LARGE', 'message too big'), this.#host.logger);
      return;
    }
    socket.receive(splitFrames(body));
    response.writeHead(204).end();
  }

  /** `DELETE <path>/sse/<token>?code=1000`: the client leaves (1000) or is replacing the session (4000). */
  leave(request: IncomingMessage, response: ServerResponse, token: string): void {
    const socket = this.#sessions.get(token);
    const code = Number(new URL(request.url ?? '/', 'http://x').searchParams.get('code') ?? CLOSE_CODES.NORMAL);
    socket?.left(LEAVING_CODES.has(code) ? code : CLOSE_CODES.NORMAL);
    response.writeHead(204).end();
  }
}

/** The non-empty lines of a POST body, each one frame. */
function splitFrames(body: Buffer): Buffer[] {
  const frames: Buffer[] = [];
  let start = 0;
  while (start < body.length) {
    let end = body.indexOf(0x0a, start);
    if (end === -1) end = body.length;
    if (end > start) frames.push(body.subarray(start, end));
    start = end + 1;
  }
  return frames;
}
