import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  checkSchema,
  parseClientEnvelope,
  toWirecallError,
  WirecallError,
  type CallEnvelope,
  decodeValue,
} from '@wirecall/core/internal';
import type { ZodType } from 'zod';
import { runCall, ServerCall, type CallSink } from '../connection/call-runner.js';
import type { ConnectionInfo } from '../connection/connection-info.js';
import type { OutFrame } from '../connection/value-frame.js';
import type { HttpHost } from './http-host.js';
import { connectionParamsJson, HTTP_HEADERS, jsonParam } from './request-values.js';
import { readBody, sendError, sendJson, statusOf } from './respond.js';

/** The one call of a stateless request: its id inside the frames the call runner writes. */
const CALL_ID = 1;
const RESULT_PREFIX = `{"t":"result","id":${CALL_ID}`;

let lastCallId = 0;

/** One stateless call's request, its answer, and what the GET answer's `cache-control` is. */
export interface CallExchange {
  request: IncomingMessage;
  response: ServerResponse;
  cacheControl: string | undefined;
}

/**
 * Serves `POST <path>/call/<name>` (and `GET` for idempotent procedures): the request becomes a
 * `call` envelope and runs through the same call runner as a socket's calls (input validation,
 * middleware, context, the idempotency cache, error encoding), answered `200 {"v","m"}` or the
 * error code's status with `{"e":{code,message,data}}`. Resolves once answered.
 */
export async function serveCall(host: HttpHost, exchange: CallExchange, name: string): Promise<void> {
  const { request, response } = exchange;
  try {
    const envelope = await callEnvelope(host, request, name);
    const ctx = await contextOf(host, request);
    await run(host, exchange, { envelope, ctx });
  } catch (thrown) {
    const error = toWirecallError(thrown);
    if (error.code === 'INTERNAL')
      host.logger.error({ err: error.cause ?? error, procedure: name }, 'HTTP call failed');
    host.counters.countError(error.code);
    sendError(response, error, host.logger);
  }
}

/** The request as a `call` envelope, checked by the socket's own envelope parser. */
async function callEnvelope(host: HttpHost, request: IncomingMessage, name: string): Promise<CallEnvelope> {
  const entry = host.procedures.get(name);
  if (entry === undefined) throw new WirecallError('NOT_FOUND', `Unknown procedure ${name}`);
  if (entry.def.stream !== undefined || entry.def.inputStream !== undefined) {
    throw new WirecallError('BAD_REQUEST', `${name} streams: call it over a session (GET <path>/sse), not per request`);
  }
  let value: { v?: unknown; m?: unknown };
  if (request.method === 'GET') {
    if (entry.def.idempotent !== true) {
      throw new WirecallError('BAD_REQUEST', `${name} is not idempotent: call it with POST`);
    }
    const query = new URL(request.url ?? '/', 'http://x').searchParams;
    value = { v: jsonParam(query.get('v'), 'v'), m: jsonParam(query.get('m'), 'm') };
  } else {
    const body = await readBody(request, host.limits.maxPayloadBytes);
    if (body === undefined) {
      throw new WirecallError('PAYLOAD_TOO_LARGE', `The body is larger than ${host.limits.maxPayloadBytes} bytes`);
    }
    value = body.length === 0 ? {} : bodyValue(body);
  }
  const headers = request.headers;
  const tm = headers[HTTP_HEADERS.timeout];
  const ik = headers[HTTP_HEADERS.idempotencyKey];
  const parsed = parseClientEnvelope({
    t: 'call',
    id: CALL_ID,
    p: name,
    v: value.v,
    m: value.m,
    ...(typeof tm === 'string' ? { tm: Number(tm) } : {}),
    ...(typeof ik === 'string' ? { ik } : {}),
  });
  if (!parsed.ok || parsed.envelope.t !== 'call') {
    throw new WirecallError('BAD_REQUEST', parsed.ok ? 'not a call' : parsed.reason);
  }
  return parsed.envelope;
}

function bodyValue(body: Buffer): { v?: unknown; m?: unknown } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString());
  } catch {
    throw new WirecallError('BAD_REQUEST', 'The body is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new WirecallError('BAD_REQUEST', 'The body must be an object {"v": <input>, "m"?: <annotations>}');
  }
  return parsed;
}

/**
 * `authenticate`, then the connection params (the `wirecall-params` header, JSON), checked like a
 * `hello`'s, then the app's `context`: the same steps and refusals as a connection's handshake.
 */
async function contextOf(host: HttpHost, request: IncomingMessage): Promise<unknown> {
  const auth = await host.authenticate(request);
  let connectionParams: unknown;
  const schema = host.contract.connectionParams as ZodType | undefined;
  if (schema !== undefined) {
    const checked = checkSchema(schema, decodeValue({ v: connectionParamsJson(request) }));
    if (!checked.ok) throw new WirecallError('UNAUTHORIZED', 'invalid connection params');
    connectionParams = checked.value;
  }
  return host.createContext({ request, auth, connectionParams });
}

/** Runs the call through the call runner; resolves when the response is written. */
function run(host: HttpHost, exchange: CallExchange, call: { envelope: CallEnvelope; ctx: unknown }): Promise<void> {
  if (host.closing) {
    throw new WirecallError('UNAVAILABLE', 'The server is shutting down', { data: { notExecuted: true } });
  }
  return new Promise((resolve) => {
    const sink = new HttpCallSink(host, exchange, { ctx: call.ctx, done: resolve });
    const serverCall = new ServerCall(host, sink, call.envelope);
    sink.call = serverCall;
    const { tm } = call.envelope;
    if (tm !== undefined) {
      serverCall.deadline = host.deadlines.schedule(tm, () =>
        sink.abort(new WirecallError('TIMEOUT', 'The caller’s deadline passed')),
      );
    }
    // The client went away before the answer: the handler's signal aborts, as for a cancel.
    // An idempotent call with a key keeps running, as after a dropped socket: a retry with the same
    // key (a webhook's redelivery) gets its answer instead of running it twice.
    exchange.response.once('close', () => {
      if (serverCall.survivesDisconnect) sink.forget();
      else sink.abort(new WirecallError('CANCELLED', 'The request was closed'));
    });
    runCall(serverCall, call.envelope);
  });
}

/** Where the call runner's frames go: the first one becomes the HTTP answer. */
class HttpCallSink implements CallSink {
  readonly ctx: unknown;
  readonly info: ConnectionInfo;
  readonly bufferedAmount = 0;
  readonly acceptsBinary = false;
  call: ServerCall | undefined;
  readonly #host: HttpHost;
  readonly #exchange: CallExchange;
  readonly #done: () => void;
  #answered = false;

  constructor(host: HttpHost, exchange: CallExchange, { ctx, done }: { ctx: unknown; done: () => void }) {
    this.#host = host;
    this.#exchange = exchange;
    this.#done = done;
    this.ctx = ctx;
    const { request } = exchange;
    this.info = {
      id: `${host.nodeId}.http${++lastCallId}`,
      user: host.identify(ctx),
      remoteAddress: request.socket.remoteAddress,
      url: request.url,
      close: () => request.socket.destroy(),
    };
  }

  whenWritable(): Promise<void> {
    return Promise.resolve();
  }

  send(frame: OutFrame): void {
    const text = typeof frame === 'string' ? frame : Buffer.from(frame).toString();
    if (text.startsWith(RESULT_PREFIX)) {
      const rest = text.slice(RESULT_PREFIX.length);
      this.#answer(200, rest.startsWith(',') ? `{${rest.slice(1)}` : '{}');
      return;
    }
    // An error frame: `{"t":"error","id":1,"e":{...}}`, answered with its code's status.
    const error = (JSON.parse(text) as { e: { code: string } }).e;
    this.#answer(statusOf(error.code), `{"e":${JSON.stringify(error)}}`);
  }

  callSettled(call: ServerCall): void {
    call.deadline?.cancel();
    if (call.aborted) this.abort(call.abortReason);
  }

  /** Ends the call with `reason` (a deadline, the client gone) and answers with it at once. */
  abort(reason: unknown): void {
    if (this.#answered) return;
    this.call?.abort(reason);
    this.call?.deadline?.cancel();
    const error = toWirecallError(reason);
    this.#host.counters.countError(error.code);
    this.#answered = true;
    sendError(this.#exchange.response, error, this.#host.logger);
    this.#done();
  }

  /** Nobody is left to answer (the client went away); the call itself goes on. */
  forget(): void {
    if (this.#answered) return;
    this.#answered = true;
    this.#done();
  }

  #answer(status: number, body: string): void {
    if (this.#answered) return;
    this.#answered = true;
    this.call?.deadline?.cancel();
    const { request, response, cacheControl } = this.#exchange;
    if (status === 200 && request.method === 'GET' && cacheControl !== undefined) {
      response.setHeader('cache-control', cacheControl);
      sendJsonKeepingCache(response, body);
    } else {
      sendJson(response, status, body);
    }
    this.#done();
  }
}

/** A GET answer with the app's `cache-control` (sendJson would write `no-store`). */
function sendJsonKeepingCache(response: ServerResponse, body: string): void {
  if (response.headersSent || response.destroyed) return;
  response.writeHead(200, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  response.end(body);
}
