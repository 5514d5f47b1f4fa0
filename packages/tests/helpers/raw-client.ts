import { PROTOCOL } from '@wirecall/core';
import { unpackFrame } from '@wirecall/core/internal';
import type { ClientLogger, SocketConstructor } from '@wirecall/client';
import WebSocket, { type RawData } from 'ws';
import { testApi } from './fixtures.js';

/** A frame the server sent, parsed loosely so tests can read any field of any envelope. */
export interface RawFrame {
  t: string;
  id?: number | string;
  k?: string;
  eid?: string;
  v?: unknown;
  m?: { values?: unknown; v?: number };
  e?: { code: string; message: string; data?: unknown };
  fp?: string;
  hb?: number;
  [field: string]: unknown;
}

export interface CloseInfo {
  code: number;
  reason: string;
}

export interface RawClientOptions {
  /** Subprotocols offered in the upgrade. @default ['wirecall.v1'] */
  protocols?: string[];
}

export interface WaitOptions {
  /** Only frames at this index or later count (`client.frames.length` taken before an action). */
  from?: number;
  /** @default 5_000 */
  timeoutMs?: number;
}

/** The upgrade was answered with an HTTP status instead of 101. */
export class UpgradeRefused extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`upgrade refused with HTTP ${status}: ${body.trim()}`);
  }
}

const DEFAULT_WAIT_MS = 5_000;

function rawToString(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

function parseFrame(text: string): RawFrame {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as RawFrame;
  } catch {
    // Recorded below as unparseable: the server is never supposed to send that.
  }
  return { t: '<unparseable>', text };
}

/**
 * A bare `ws` socket speaking wirecall.v1 by hand: sends whatever a test gives it (valid or not) and
 * records every frame the server sends, and how the socket closed. Dispose it to close it.
 */
export class RawClient implements AsyncDisposable {
  readonly socket: WebSocket;
  /** Every frame received, parsed, in order. */
  readonly frames: RawFrame[] = [];
  /** The exact text of every frame received, in order (for "this never appears on the wire" checks). */
  readonly texts: string[] = [];
  /** Set once the socket has closed. */
  closeInfo: CloseInfo | undefined;
  readonly #closed: Promise<CloseInfo>;
  readonly #waiters = new Set<() => void>();

  private constructor(socket: WebSocket) {
    this.socket = socket;
    socket.on('message', (data: RawData) => {
      const text = rawToString(data);
      this.texts.push(text);
      this.frames.push(parseFrame(text));
      this.#wake();
    });
    this.#closed = new Promise((resolve) => {
      socket.on('close', (code: number, reason: Buffer) => {
        this.closeInfo = { code, reason: reason.toString('utf8') };
        resolve(this.closeInfo);
        this.#wake();
      });
    });
  }

  /** Opens a socket (offering `wirecall.v1` unless told otherwise); rejects if the upgrade fails. */
  static connect(url: string, options: RawClientOptions = {}): Promise<RawClient> {
    const socket = new WebSocket(url, options.protocols ?? [PROTOCOL]);
    const client = new RawClient(socket);
    return new Promise((resolve, reject) => {
      // Errors always end in 'close'; recording them is enough to keep the process alive.
      socket.on('error', reject);
      socket.once('open', () => {
        socket.off('error', reject);
        socket.on('error', () => {});
        resolve(client);
      });
      socket.once('unexpected-response', (_request, response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => {
          reject(new UpgradeRefused(response.statusCode ?? 0, body));
          socket.terminate();
        });
      });
    });
  }

  /** Opens a socket, says hello with `fp` (the test contract's by default) and waits for `welcome`. */
  static async greeted(url: string, fp: string = testApi.fingerprint): Promise<RawClient> {
    const client = await RawClient.connect(url);
    client.hello(fp);
    await client.waitFor((frame) => frame.t === 'welcome');
    return client;
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  hello(fp: string = testApi.fingerprint): void {
    this.send({ t: 'hello', fp });
  }

  /** Sends one envelope (or any JSON value) as a text frame. */
  send(frame: unknown): void {
    this.socket.send(JSON.stringify(frame));
  }

  sendText(text: string): void {
    this.socket.send(text, { binary: false });
  }

  sendBinary(data: Uint8Array): void {
    this.socket.send(data, { binary: true });
  }

  /** Sends a frame with an id and resolves with the `result` or `error` frame that answers it. */
  async request(frame: { id: number | string; [field: string]: unknown }): Promise<RawFrame> {
    const from = this.frames.length;
    this.send(frame);
    return this.waitFor((f) => f.id === frame.id && (f.t === 'result' || f.t === 'error'), { from });
  }

  /**
   * Pings and waits for the pong: the server handles a socket's frames in order, so once this
   * resolves it has handled everything sent before.
   */
  async barrier(): Promise<void> {
    const from = this.frames.length;
    this.send({ t: 'ping' });
    await this.waitFor((frame) => frame.t === 'pong', { from });
  }

  /** Resolves with the first frame (at index `from` or later) that matches; rejects on close or timeout. */
  waitFor(predicate: (frame: RawFrame) => boolean, options: WaitOptions = {}): Promise<RawFrame> {
    const { from = 0, timeoutMs = DEFAULT_WAIT_MS } = options;
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = this.frames.slice(from).find(predicate);
        if (found !== undefined) {
          resolve(found);
          return true;
        }
        if (this.closeInfo !== undefined) {
          reject(new Error(`socket closed (${this.closeInfo.code}) before a matching frame arrived${this.#dump()}`));
          return true;
        }
        return false;
      };
      if (check()) return;
      const waiter = (): void => {
        if (!check()) return;
        this.#waiters.delete(waiter);
        clearTimeout(timer);
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`no matching frame within ${timeoutMs} ms${this.#dump()}`));
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  /** Resolves with the close code and reason once the server (or anyone) closed the socket. */
  waitForClose(timeoutMs = DEFAULT_WAIT_MS): Promise<CloseInfo> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`socket still open after ${timeoutMs} ms${this.#dump()}`)), timeoutMs);
    });
    return Promise.race([this.#closed, timeout]).finally(() => clearTimeout(timer));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.closeInfo !== undefined) return;
    this.socket.close(1000, 'test done');
    const cut = setTimeout(() => this.socket.terminate(), 1_000);
    await this.#closed;
    clearTimeout(cut);
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }

  #dump(): string {
    return `\nreceived: ${this.texts.join('\n          ')}`;
  }
}

/** One frame seen by a typed client's socket, in the order sent and received frames happened. */
export interface WireEntry {
  dir: 'in' | 'out';
  /** The frame's text; for a binary frame, its JSON header. */
  text: string;
  frame: RawFrame;
  /** A binary frame: `text` is its header, `body` the bytes after it. */
  binary?: { body: Uint8Array };
}

/** A recorded frame: text as is, a binary frame as its header (and body). */
function entryOf(dir: 'in' | 'out', data: unknown, isBinary: boolean): WireEntry {
  if (!isBinary) {
    const text = typeof data === 'string' ? data : rawToString(data as RawData);
    return { dir, text, frame: parseFrame(text) };
  }
  const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data as Uint8Array);
  const { header, body } = unpackFrame(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  return { dir, text: header, frame: parseFrame(header), binary: { body } };
}

/**
 * A `WebSocket` for createClient's `WebSocket` option that records every frame the typed client
 * sends and receives, so tests can check what really travels.
 */
export function recordingWebSocket(log: WireEntry[]): SocketConstructor {
  class RecordingWebSocket extends WebSocket {
    constructor(url: string, protocols: string | string[]) {
      super(url, protocols);
      this.on('message', (data: RawData, isBinary: boolean) => log.push(entryOf('in', data, isBinary)));
      const send = this.send.bind(this) as (data: string | Uint8Array) => void;
      this.send = ((data: string | Uint8Array) => {
        log.push(entryOf('out', data, typeof data !== 'string'));
        send(data);
      }) as typeof this.send;
    }
  }
  return RecordingWebSocket as unknown as SocketConstructor;
}

/** What a typed client logged, for tests where it is expected to warn. */
export interface ClientLogEntry {
  level: 'warn' | 'error';
  message: string;
  details: unknown;
}

export function recordingClientLogger(entries: ClientLogEntry[]): ClientLogger {
  return {
    warn: (details, message = '') => entries.push({ level: 'warn', message, details }),
    error: (details, message = '') => entries.push({ level: 'error', message, details }),
  };
}
