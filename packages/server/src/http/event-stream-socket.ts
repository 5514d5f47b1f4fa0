import { CLOSE_CODES } from '@wirecall/core/internal';
import { VirtualSocket } from './sse-socket.js';

/** Enough of a frame's start to read its type (`{"t":"error"` is the longest one looked for). */
const TYPE_PREFIX_LENGTH = 12;

/**
 * The server's side of a plain event stream (`GET <path>/events/<event>`, for an `EventSource` or
 * `curl`): a session whose client the server plays itself (it sends the `hello` and the `sub`), so
 * nothing comes in, and whose frames go out as plain SSE:
 *
 * - `event` frames as SSE messages, `id:` their event id (so a browser's automatic reconnect sends
 *   `Last-Event-ID`, which resumes the stream), `data:` the frame;
 * - `gap` frames as `event: gap`;
 * - an `error` (the subscription was refused) as `event: error`, then the stream ends;
 * - everything else (`welcome`, `subscribed`, `pong`) not at all.
 *
 * With no POSTs to answer pings, the stream's own writes stand for the client's liveness: a ping is
 * a comment, answered at once; a client that went away is seen when a write fails (the response's
 * `close`), as for any HTTP response.
 */
export class EventStreamSocket extends VirtualSocket {
  override send(frame: Buffer | Uint8Array | string, options?: { binary?: boolean }): void {
    const bytes = typeof frame === 'string' ? undefined : Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
    // Events (most frames, ready-made Buffers) are told by their first bytes, not decoded.
    const text = (): string => (bytes === undefined ? (frame as string) : bytes.toString());
    const head =
      bytes === undefined
        ? (frame as string).slice(0, TYPE_PREFIX_LENGTH)
        : bytes.toString('utf8', 0, TYPE_PREFIX_LENGTH);
    if (head.startsWith('{"t":"event"')) {
      super.send(frame, options);
    } else if (head.startsWith('{"t":"gap"')) {
      this.#write(`event: gap\ndata: ${text()}\n\n`);
    } else if (head.startsWith('{"t":"error"')) {
      this.#write(`event: error\ndata: ${text()}\n\n`);
      this.close(CLOSE_CODES.NORMAL, 'subscription refused');
    }
  }

  override ping(): void {
    super.ping();
    if (!this.closed) this.emit('pong');
  }

  #write(text: string): void {
    if (!this.closed) this._socket.write(text);
  }
}
