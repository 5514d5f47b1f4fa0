import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { CLOSE_CODES } from '@wirecall/core/internal';

/** Event frames start with this; their `eid` becomes the SSE `id:` line, so `Last-Event-ID` works. */
const EVENT_PREFIX = Buffer.from('{"t":"event"');
const EID_FIELD = Buffer.from('"eid":"');
const DATA = Buffer.from('data: ');
const END = Buffer.from('\n\n');
/** An SSE comment: proxies see traffic, and the client answers it (an empty POST) as a pong. */
const PING = ': ping\n\n';

/**
 * The server's side of one SSE session, shaped like the part of a `ws` WebSocket a `Connection`
 * uses: `send`, `bufferedAmount`, `close`, `terminate`, `ping`, and the `message`, `pong`, `close`
 * and `error` events. Frames go out as SSE messages (one envelope per `data:` line, `id:` the
 * event id for events); frames come in from the session's POSTs ({@link VirtualSocket.receive}).
 *
 * ```
 *   GET <path>/sse ──► open (event: session, data: <token>)
 *     POST <path>/sse/<token>: frames ─► 'message' (and 'pong': the client is alive)
 *     server close(code) ─► event: close, data: {"code","reason"}; response ends ─► 'close'
 *     DELETE <path>/sse/<token>?code= ─► 'close' (the client left)   response gone ─► 'close' 1006
 * ```
 */
export class VirtualSocket extends EventEmitter {
  readonly token: string;
  readonly #response: ServerResponse;
  #closed = false;
  /** The first frame (`hello`) is read for `bin`, which SSE cannot honour. */
  #first = true;

  constructor(response: ServerResponse, token: string) {
    super();
    this.#response = response;
    this.token = token;
    response.on('close', () => this.#ended(CLOSE_CODES.ABNORMAL, ''));
    response.on('error', (error) => this.emit('error', error));
  }

  /** The HTTP response, as ws's TCP socket: the connection corks bursts and waits for `drain` on it. */
  get _socket(): ServerResponse {
    return this.#response;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get bufferedAmount(): number {
    return this.#response.writableLength + (this.#response.socket?.writableLength ?? 0);
  }

  /** Writes one frame as one SSE message. Binary frames never reach here: `bin` is taken out of `hello`. */
  send(frame: Buffer | Uint8Array | string, options?: { binary?: boolean }): void {
    if (this.#closed) return;
    if (options?.binary === true) {
      // Not reachable with a wirecall client (see receive); a peer that forged it loses the session.
      this.close(CLOSE_CODES.UNSUPPORTED_DATA, 'binary frames do not travel over SSE');
      return;
    }
    const bytes =
      typeof frame === 'string' || Buffer.isBuffer(frame)
        ? Buffer.from(frame)
        : Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
    const id = eventIdOf(bytes);
    const head = id === undefined ? DATA : Buffer.from(`id: ${id}\ndata: `);
    this.#response.write(Buffer.concat([head, bytes, END]));
  }

  ping(): void {
    if (!this.#closed) this.#response.write(PING);
  }

  /** Tells the client why, then ends the response. */
  close(code: number = CLOSE_CODES.NORMAL, reason = ''): void {
    if (this.#closed) return;
    if (!this.#response.destroyed) {
      this.#response.end(`event: close\ndata: ${JSON.stringify({ code, reason })}\n\n`);
    }
    this.#ended(code, reason);
  }

  /** Cuts the response without a word (a heartbeat timeout): the client sees the stream end. */
  terminate(): void {
    if (this.#closed) return;
    this.#response.destroy();
    this.#ended(CLOSE_CODES.ABNORMAL, '');
  }

  /**
   * Frames POSTed to the session, newline-delimited, in order. Any POST, even an empty one, shows
   * the client is alive (the `pong` of SSE).
   */
  receive(frames: readonly Buffer[]): void {
    if (this.#closed) return;
    this.emit('pong');
    for (let frame of frames) {
      if (this.#closed) return;
      if (this.#first) {
        this.#first = false;
        frame = withoutBinary(frame);
      }
      this.emit('message', frame, false);
    }
  }

  /** The client left (DELETE) with its close code. */
  left(code: number): void {
    if (this.#closed) return;
    if (!this.#response.destroyed) this.#response.end();
    this.#ended(code, 'client left');
  }

  #ended(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    // As ws: 'close' comes after the call that caused it has returned.
    process.nextTick(() => this.emit('close', code, Buffer.from(reason)));
  }
}

/** The `eid` of an event frame (written by core's `eventFrame`: ids hold no quotes), else undefined. */
function eventIdOf(bytes: Buffer): string | undefined {
  if (
    bytes.length < EVENT_PREFIX.length ||
    bytes.compare(EVENT_PREFIX, 0, EVENT_PREFIX.length, 0, EVENT_PREFIX.length) !== 0
  ) {
    return undefined;
  }
  const start = bytes.indexOf(EID_FIELD);
  if (start === -1) return undefined;
  const from = start + EID_FIELD.length;
  const to = bytes.indexOf(0x22, from);
  if (to === -1) return undefined;
  const id = bytes.toString('utf8', from, to);
  // An id is one SSE line: nothing that would end it.
  return /[\r\n]/.test(id) ? undefined : id;
}

/**
 * The `hello` without `bin`: over SSE every frame is text, so the server must not send bytes raw
 * (they travel as base64 in the value, as for a client without binary frames).
 */
function withoutBinary(frame: Buffer): Buffer {
  if (frame.indexOf('"bin"') === -1) return frame;
  try {
    const hello = JSON.parse(frame.toString()) as Record<string, unknown>;
    if (typeof hello !== 'object' || hello === null || !('bin' in hello)) return frame;
    delete hello.bin;
    return Buffer.from(JSON.stringify(hello));
  } catch {
    return frame; // not JSON: the connection refuses it as it would on a socket
  }
}
