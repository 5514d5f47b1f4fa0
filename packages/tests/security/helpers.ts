import { randomBytes } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import type { ClientOptions, StateChange, WirecallClient } from '@wirecall/client';
import { CLOSE_CODES, PROTOCOL, type AnyContract } from '@wirecall/core';
import WebSocket from 'ws';
import type { RawClient } from '../helpers/raw-client.js';
import { recordStates } from '../helpers/chaos-kit.js';
import { connectClient } from '../helpers/test-server.js';

/** Every close code a wirecall server documents (CLOSE_CODES values). */
export const DOCUMENTED_CLOSE_CODES: ReadonlySet<number> = new Set(Object.values(CLOSE_CODES));

/** A client of {@link typedClient}: it records every state transition in `states`. */
export type Client<TContract extends AnyContract> = WirecallClient<TContract> & { states: StateChange[] };

/**
 * {@link connectClient} with the url among the options, recording state transitions: kept only for
 * packages/tests/cluster, which still calls it. New tests call connectClient (helpers/test-server.ts)
 * and, to see transitions, `recordStates` (helpers/chaos-kit.ts).
 */
export function typedClient<TContract extends AnyContract>(
  contract: TContract,
  { url, ...options }: ClientOptions<TContract>,
): Client<TContract> {
  const client = connectClient(contract, url, options);
  return Object.assign(client, { states: recordStates(client) });
}

/** Reconnect settings that keep refusal tests quick (the backoff itself is tested elsewhere). */
export const fastReconnect = { minDelayMs: 5, maxDelayMs: 20, jitter: 0 } as const;

/** How an upgrade request was answered. */
export interface UpgradeOutcome extends AsyncDisposable {
  /** 101 when a WebSocket opened, else the HTTP status of the refusal. */
  status: number;
  /** The refusal's body ('' when the socket opened). */
  body: string;
  /** Response headers of the 101 or of the refusal. */
  headers: IncomingHttpHeaders;
  /** The open socket, when the upgrade succeeded. */
  socket: WebSocket | undefined;
  /** Whether the `open` event ever fired on this socket. */
  opened: boolean;
}

export interface UpgradeOptions {
  /** The `Origin` header (none unless given, as from a non-browser client). */
  origin?: string;
  headers?: Record<string, string>;
  /** Offer permessage-deflate (ws's default offer); off unless asked. */
  perMessageDeflate?: boolean;
  /** Give up when the server has not answered the upgrade within this long. @default 5_000 */
  timeoutMs?: number;
}

/**
 * Opens a plain `ws` socket offering wirecall.v1 and reports how the server answered the upgrade:
 * the `unexpected-response` status and body, or the 101 and the open socket.
 */
export function tryUpgrade(url: string, options: UpgradeOptions = {}): Promise<UpgradeOutcome> {
  const socket = new WebSocket(url, [PROTOCOL], {
    ...(options.origin === undefined ? {} : { origin: options.origin }),
    headers: options.headers ?? {},
    perMessageDeflate: options.perMessageDeflate ?? false,
    handshakeTimeout: options.timeoutMs ?? 5_000,
  });
  const outcome: UpgradeOutcome = {
    status: 0,
    body: '',
    headers: {},
    socket: undefined,
    opened: false,
    [Symbol.asyncDispose]: async () => {
      if (socket.readyState === WebSocket.CLOSED) return;
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      if (socket.readyState === WebSocket.OPEN) socket.close(1000, 'test done');
      else socket.terminate();
      const cut = setTimeout(() => socket.terminate(), 1_000);
      await closed;
      clearTimeout(cut);
    },
  };
  socket.on('error', () => {}); // 'close' follows; the outcome says what happened
  socket.on('open', () => (outcome.opened = true));
  return new Promise((resolve, reject) => {
    socket.once('upgrade', (response) => (outcome.headers = response.headers));
    socket.once('open', () => {
      outcome.status = 101;
      outcome.socket = socket;
      resolve(outcome);
    });
    socket.once('unexpected-response', (_request, response) => {
      outcome.status = response.statusCode ?? 0;
      outcome.headers = response.headers;
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (outcome.body += chunk));
      response.on('end', () => {
        socket.terminate();
        resolve(outcome);
      });
    });
    socket.once('close', () => {
      if (outcome.status === 0) reject(new Error('the server never answered the upgrade (or cut the socket)'));
    });
  });
}

/** The TCP socket under a `ws` client, to stop reading from it (a slow consumer). */
export function tcpOf(raw: RawClient | WebSocket): Socket {
  const socket = 'socket' in raw ? raw.socket : raw;
  return (socket as unknown as { _socket: Socket })._socket;
}

/** An upgrade performed by hand over plain HTTP, leaving the raw TCP socket to the test. */
export interface ManualUpgrade {
  status: number;
  headers: IncomingHttpHeaders;
  socket: Socket;
  /** Bytes the server sent right after the 101, before the test started reading. */
  head: Buffer;
}

/** Performs a WebSocket upgrade with exactly the given extra headers (no library in between). */
export function manualUpgrade(port: number, headers: Record<string, string> = {}): Promise<ManualUpgrade> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({
      host: '127.0.0.1',
      port,
      path: '/',
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
        'Sec-WebSocket-Protocol': PROTOCOL,
        ...headers,
      },
    });
    request.once('upgrade', (response, socket, head) => {
      resolve({ status: response.statusCode ?? 0, headers: response.headers, socket, head });
    });
    request.once('response', (response) => {
      response.resume();
      reject(new Error(`upgrade refused with HTTP ${response.statusCode}`));
    });
    request.once('error', reject);
    request.end();
  });
}

/**
 * Sends an upgrade request with the given headers (they replace the valid defaults; `undefined`
 * removes one) and resolves with the status it got, 101 or a refusal. Any socket is destroyed.
 */
export function upgradeStatus(port: number, headers: Record<string, string | undefined>): Promise<number> {
  const all: Record<string, string> = {};
  const defaults: Record<string, string | undefined> = {
    Connection: 'Upgrade',
    Upgrade: 'websocket',
    'Sec-WebSocket-Version': '13',
    'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
    'Sec-WebSocket-Protocol': PROTOCOL,
    ...headers,
  };
  for (const [name, value] of Object.entries(defaults)) if (value !== undefined) all[name] = value;
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port, path: '/', headers: all });
    request.once('upgrade', (response, socket) => {
      socket.destroy();
      resolve(response.statusCode ?? 0);
    });
    request.once('response', (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.once('error', reject);
    request.end();
  });
}

/** Encodes one masked client frame (RFC 6455 §5.2), with control over the RSV1 bit. */
export function clientFrame(opcode: number, payload: Buffer, { rsv1 = false }: { rsv1?: boolean } = {}): Buffer {
  const mask = randomBytes(4);
  const length = payload.length;
  const header = length < 126 ? Buffer.alloc(2) : length < 65_536 ? Buffer.alloc(4) : Buffer.alloc(10);
  header[0] = 0x80 | (rsv1 ? 0x40 : 0) | opcode;
  if (length < 126) header[1] = 0x80 | length;
  else if (length < 65_536) {
    header[1] = 0x80 | 126;
    header.writeUInt16BE(length, 2);
  } else {
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  const masked = Buffer.alloc(length);
  for (let i = 0; i < length; i++) masked[i] = payload[i]! ^ mask[i % 4]!;
  return Buffer.concat([header, mask, masked]);
}

/** One frame the server sent (servers never mask). */
export interface ServerFrame {
  opcode: number;
  payload: Buffer;
}

/** Splits unmasked server frames out of a byte stream; returns the frames and the unparsed rest. */
export function parseServerFrames(data: Buffer): { frames: ServerFrame[]; rest: Buffer } {
  const frames: ServerFrame[] = [];
  let offset = 0;
  while (data.length - offset >= 2) {
    const opcode = data[offset]! & 0x0f;
    let length = data[offset + 1]! & 0x7f;
    let start = offset + 2;
    if (length === 126) {
      if (data.length - offset < 4) break;
      length = data.readUInt16BE(offset + 2);
      start = offset + 4;
    } else if (length === 127) {
      if (data.length - offset < 10) break;
      length = Number(data.readBigUInt64BE(offset + 2));
      start = offset + 10;
    }
    if (data.length < start + length) break;
    frames.push({ opcode, payload: data.subarray(start, start + length) });
    offset = start + length;
  }
  return { frames, rest: data.subarray(offset) };
}

/** The close code of a close frame's payload (1005 when it carries none). */
export function closeCodeOf(frame: ServerFrame): number {
  return frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : 1005;
}
