import {
  CLOSE_ABNORMAL,
  CLOSE_FORBIDDEN,
  CLOSE_MESSAGE_TOO_BIG,
  CLOSE_NORMAL,
  CLOSE_PROTOCOL_ERROR,
  CLOSE_UNAUTHORIZED,
} from '@wirecall/core/internal';
import type { SocketConstructor, SocketLike } from '../connection/connection-manager.js';
import { httpUrlOf } from './http-url.js';
import { SseReader, type SseMessage } from './sse-reader.js';

/** How the HTTP transport reaches the server. */
export interface HttpSocketConfig {
  /** @default globalThis.fetch */
  fetch: typeof fetch;
  /** Cookies on the session's requests (`include` for a server on another origin). @default 'same-origin' */
  credentials: RequestCredentials;
}

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

/** The largest POST until `welcome.mp` says otherwise (the server's default frame limit). */
const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** The close code an HTTP status of the session's `GET` stands for (as the Node client reads a refused upgrade). */
function closeCodeOf(status: number): number {
  switch (status) {
    case 401:
      return CLOSE_UNAUTHORIZED;
    case 403:
      return CLOSE_FORBIDDEN;
    case 400:
      return CLOSE_PROTOCOL_ERROR;
    default:
      return CLOSE_ABNORMAL; // 503, 429, a proxy's 502: capacity or network, worth retrying
  }
}

/**
 * A WebSocket-shaped socket over one SSE session, for the connection manager: the server's frames
 * arrive as SSE messages on a streamed `GET <path>/sse` (read with `fetch`, so it works in Node
 * and browsers alike, and a refusal's status is known), and the client's frames go out as POSTs to
 * `<path>/sse/<token>`, newline-delimited, one POST in flight at a time so they arrive in order.
 *
 * ```
 *   CONNECTING ──event: session──► OPEN ──close()──► CLOSING ──event: close / stream end──► CLOSED
 *        └── HTTP refusal (401 → 4401, 403 → 4403, 400 → 1002, else 1006), network error ──► CLOSED
 * ```
 */
export class HttpSocket implements SocketLike {
  binaryType = 'arraybuffer';
  readyState = CONNECTING;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  readonly #base: string;
  readonly #query: string;
  readonly #config: HttpSocketConfig;
  readonly #stream = new AbortController();
  #token: string | undefined;
  #queue: string[] = [];
  #posting = false;
  /** The server pinged (an SSE comment): the next POST, even empty, is the pong. */
  #pongDue = false;
  #maxBodyBytes = DEFAULT_MAX_BODY_BYTES;
  /** What `close()` asked for: the close event reports it, as a WebSocket's does. */
  #closing: { code: number; reason: string } | undefined;

  constructor(url: string, config: HttpSocketConfig) {
    const { base, query } = httpUrlOf(url);
    this.#base = base;
    this.#query = query;
    this.#config = config;
    void this.#listen();
  }

  send(data: string | Uint8Array): void {
    if (typeof data !== 'string') throw new TypeError('wirecall: binary frames do not travel over HTTP');
    if (this.readyState !== OPEN) throw new Error('wirecall: the HTTP session is not open');
    this.#queue.push(data);
    this.#flush();
  }

  /** Leaves the session (the server learns the code, 1000 for a departure), then the stream ends. */
  close(code: number = CLOSE_NORMAL, reason = ''): void {
    if (this.readyState >= CLOSING) return;
    this.#closing = { code, reason };
    const token = this.#token;
    this.readyState = CLOSING;
    if (token === undefined) {
      this.#finish(code, reason);
      return;
    }
    // The server answers the DELETE by ending the stream with `event: close`; if it cannot be
    // reached, the stream is cut here.
    this.#config
      .fetch(`${this.#base}/sse/${token}${this.#withQuery(`code=${code}`)}`, {
        method: 'DELETE',
        credentials: this.#config.credentials,
        keepalive: true,
      })
      .then(
        () => undefined,
        () => this.#finish(code, reason),
      );
  }

  /** Cuts the session without a word (the server sees its stream end: a drop, not a departure). */
  terminate(): void {
    this.#finish(CLOSE_ABNORMAL, 'terminated');
  }

  async #listen(): Promise<void> {
    let response: Response;
    try {
      response = await this.#config.fetch(`${this.#base}/sse${this.#query}`, {
        headers: { accept: 'text/event-stream' },
        credentials: this.#config.credentials,
        cache: 'no-store',
        signal: this.#stream.signal,
      });
    } catch (error) {
      this.#fail(CLOSE_ABNORMAL, error instanceof Error ? error.message : 'the session could not be opened');
      return;
    }
    if (response.status !== 200 || response.body === null) {
      await response.body?.cancel().catch(() => undefined);
      this.#fail(closeCodeOf(response.status), `the server refused the session: HTTP ${response.status}`);
      return;
    }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    const sse = new SseReader((message) => this.#dispatch(message));
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        sse.push(decoder.decode(value, { stream: true }));
        if (this.readyState === CLOSED) return;
      }
    } catch {
      // Aborted by close()/terminate(), or the network failed: the session is over either way.
    }
    this.#fail(CLOSE_ABNORMAL, 'the event stream ended');
  }

  #dispatch(message: SseMessage): void {
    if (this.readyState === CLOSED) return;
    if (message.comment !== undefined) {
      if (message.comment === 'ping') {
        this.#pongDue = true;
        this.#flush();
      }
      return;
    }
    switch (message.event) {
      case 'session':
        this.#token = message.data;
        this.readyState = OPEN;
        this.onopen?.({});
        return;
      case 'close': {
        const { code, reason } = JSON.parse(message.data) as { code: number; reason: string };
        this.#finish(code, reason);
        return;
      }
      default:
        if (message.data.startsWith('{"t":"welcome"')) this.#readLimit(message.data);
        this.onmessage?.({ data: message.data });
    }
  }

  /** Batches stay under the largest frame the server takes (`welcome.mp`). */
  #readLimit(welcome: string): void {
    try {
      const { mp } = JSON.parse(welcome) as { mp?: unknown };
      if (typeof mp === 'number' && mp > 0) this.#maxBodyBytes = mp;
    } catch {
      // The connection manager refuses a malformed welcome itself.
    }
  }

  /** Sends what is queued in one POST, unless one is in flight (its end sends the rest). */
  #flush(): void {
    if (this.#posting || this.#token === undefined || this.readyState !== OPEN) return;
    if (this.#queue.length === 0 && !this.#pongDue) return;
    let size = 0;
    let count = 0;
    for (const frame of this.#queue) {
      // A frame alone over the limit still goes, alone: the server ends the session with 1009,
      // the same answer a socket gets.
      if (count > 0 && size + frame.length + 1 > this.#maxBodyBytes) break;
      size += frame.length + 1;
      count++;
    }
    const body = this.#queue.splice(0, count).join('\n');
    this.#pongDue = false;
    this.#posting = true;
    void this.#post(this.#token, body);
  }

  async #post(token: string, body: string): Promise<void> {
    try {
      const response = await this.#config.fetch(`${this.#base}/sse/${token}${this.#query}`, {
        method: 'POST',
        // text/plain: a "simple" request, no CORS preflight per POST.
        headers: { 'content-type': 'text/plain;charset=UTF-8' },
        body,
        credentials: this.#config.credentials,
      });
      await response.body?.cancel().catch(() => undefined);
      if (response.status === 413) {
        this.#fail(CLOSE_MESSAGE_TOO_BIG, 'message too big');
        return;
      }
      if (!response.ok) {
        this.#fail(CLOSE_ABNORMAL, `the session is gone: HTTP ${response.status}`);
        return;
      }
    } catch (error) {
      this.#fail(CLOSE_ABNORMAL, error instanceof Error ? error.message : 'sending failed');
      return;
    }
    this.#posting = false;
    this.#flush();
  }

  #withQuery(extra: string): string {
    return this.#query === '' ? `?${extra}` : `${this.#query}&${extra}`;
  }

  #fail(code: number, reason: string): void {
    if (this.readyState === CLOSED) return;
    this.onerror?.({ message: reason });
    this.#finish(code, reason);
  }

  #finish(code: number, reason: string): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSED;
    this.#queue = [];
    this.#stream.abort();
    const closed = this.#closing ?? { code, reason };
    // As a WebSocket's: 'close' is an event of its own, after the call that caused it.
    setTimeout(() => this.onclose?.(closed), 0);
  }
}

/** A socket constructor for the connection manager, bound to this transport's config. */
export function httpSocketClass(config: HttpSocketConfig): SocketConstructor {
  return class extends HttpSocket {
    constructor(url: string) {
      super(url, config);
    }
  };
}
