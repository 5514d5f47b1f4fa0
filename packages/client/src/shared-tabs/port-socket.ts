import type { SocketConstructor, SocketLike } from '../connection/connection-manager.js';
import { ALIVE_INTERVAL_MS, type HubMessage, type PortLike, type TabMessage } from './messages.js';

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 3;

/**
 * A WebSocket class whose sockets are virtual: each one is a lane through `port` to the shared
 * worker's hub, which multiplexes every tab onto one real WebSocket. The connection manager drives
 * it exactly like a WebSocket (open, hello, frames, close codes), so reconnecting, resuming and
 * retrying work the same with or without sharing.
 */
export function portSocketClass(port: PortLike): SocketConstructor {
  const sockets = new Map<number, PortSocket>();
  let nextSid = 0;
  const post = (message: TabMessage): void => port.postMessage(message);

  port.onmessage = ({ data }: { data: unknown }) => {
    const message = data as HubMessage;
    sockets.get(message.sid)?.receive(message);
  };
  port.start?.();
  const alive = setInterval(() => post({ op: 'alive' }), ALIVE_INTERVAL_MS);
  (alive as { unref?: () => void }).unref?.(); // in Node (tests), never keeps the process up
  globalThis.addEventListener?.('pagehide', () => post({ op: 'bye' }));

  class PortSocket implements SocketLike {
    binaryType = 'arraybuffer';
    readyState = CONNECTING;
    onopen: SocketLike['onopen'] = null;
    onmessage: SocketLike['onmessage'] = null;
    onclose: SocketLike['onclose'] = null;
    onerror: SocketLike['onerror'] = null;
    readonly #sid = ++nextSid;

    constructor(url: string) {
      sockets.set(this.#sid, this);
      post({ op: 'open', sid: this.#sid, url });
    }

    send(data: string): void {
      if (this.readyState === OPEN) post({ op: 'send', sid: this.#sid, data });
    }

    close(code = 1000, reason = ''): void {
      if (this.readyState === CLOSED) return;
      post({ op: 'close', sid: this.#sid });
      this.receive({ op: 'close', sid: this.#sid, code, reason });
    }

    receive(message: HubMessage): void {
      switch (message.op) {
        case 'open':
          this.readyState = OPEN;
          this.onopen?.({});
          return;
        case 'message':
          this.onmessage?.({ data: message.data });
          return;
        case 'close':
          sockets.delete(this.#sid);
          this.readyState = CLOSED;
          this.onclose?.({ code: message.code, reason: message.reason });
      }
    }
  }
  return PortSocket;
}
