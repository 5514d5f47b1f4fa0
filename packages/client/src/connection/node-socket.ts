import { CLOSE_FORBIDDEN, CLOSE_PROTOCOL_ERROR, CLOSE_UNAUTHORIZED } from '@wirecall/core/internal';
import type { SocketLike } from './connection-manager.js';
import type { SocketTuning } from './socket-tuning.js';

/**
 * The close code an HTTP refusal of the upgrade stands for. Only Node's `ws` reports the status
 * ("Unexpected server response: 401"); browsers hide it, so there a refused upgrade looks like a
 * network failure (1006) and is retried with backoff up to `maxAttempts`.
 */
function refusalOf(event: unknown): number | undefined {
  const message = (event as { message?: unknown } | null)?.message;
  const status = typeof message === 'string' ? /Unexpected server response: (\d{3})/.exec(message)?.[1] : undefined;
  switch (status) {
    case '401':
      return CLOSE_UNAUTHORIZED;
    case '403':
      return CLOSE_FORBIDDEN;
    case '400':
      return CLOSE_PROTOCOL_ERROR;
    default:
      return undefined; // 503, 429 and the rest: capacity or network, worth retrying
  }
}

/** The TCP socket under Node's `ws`; browsers have none (their WebSocket batches on its own). */
interface CorkableSocket {
  _socket?: { cork(): void; uncork(): void; destroyed: boolean };
  /** Sends since the last microtask checkpoint: 0, 1, or more (then corked until it). */
  wirecallSends?: number;
}

/**
 * Frames a corked burst holds before writing them: in slices, the server starts on the first calls
 * while the rest are still being sent (holding all of them would make the two processes take turns).
 */
const CORK_FLUSH_EVERY = 16;

/**
 * Holds the TCP writes of Node's `ws` during a burst of sends, so calls made together leave in one
 * write system call; each stays its own WebSocket message. A lone send goes out at once.
 */
function corkUntilMicrotask(socket: SocketLike): void {
  const corkable = socket as unknown as CorkableSocket;
  const tcp = corkable._socket;
  if (tcp === undefined) return;
  const sent = corkable.wirecallSends ?? 0;
  corkable.wirecallSends = sent + 1;
  if (sent !== 0) {
    if (sent === 1 && !tcp.destroyed) tcp.cork();
    else if (sent % CORK_FLUSH_EVERY === 0 && !tcp.destroyed) {
      tcp.uncork();
      tcp.cork();
    }
    return;
  }
  queueMicrotask(() => {
    const corked = (corkable.wirecallSends ?? 0) > 1;
    corkable.wirecallSends = 0;
    if (corked && !tcp.destroyed) tcp.uncork();
  });
}

/** The part of a `ws` WebSocket that is an EventEmitter. */
interface EmittingSocket {
  _socket?: unknown;
  on(event: 'message', listener: (data: { toString(): string }, isBinary: boolean) => void): void;
}

/**
 * `ws`'s own 'message' event instead of `onmessage`: `onmessage` wraps every message in a
 * `MessageEvent` through ws's EventTarget shim. Text arrives as a Buffer, binary as the
 * ArrayBuffer `binaryType` asks for. Only a `ws` socket (it has `_socket`); others use `onmessage`.
 */
function listenToMessages(socket: SocketLike, onData: (data: unknown) => void): boolean {
  const emitting = socket as unknown as EmittingSocket;
  if (!('_socket' in emitting) || typeof emitting.on !== 'function') return false;
  emitting.on('message', (data, isBinary) => onData(isBinary ? data : data.toString()));
  return true;
}

/** Node's tuning of `ws` sockets: corked bursts, HTTP refusals of the upgrade read from errors, messages by 'message'. */
export const socketTuning: SocketTuning | undefined = {
  sending: corkUntilMicrotask,
  refusal: refusalOf,
  listen: listenToMessages,
};
