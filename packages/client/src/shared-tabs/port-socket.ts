import { CLOSE_NORMAL } from '@wirecall/core/internal';
import type { SocketConstructor, SocketLike } from '../connection/connection-manager.js';
import { ALIVE_INTERVAL_MS, type HubMessage, type PortLike, type TabMessage } from './messages.js';

// WebSocket's readyState values.
const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 3;

/** The page, where there is one (`pagehide`); elsewhere these are missing. */
interface PageEvents {
  addEventListener?(type: string, listener: () => void): void;
  removeEventListener?(type: string, listener: () => void): void;
}

/**
 * A WebSocket class whose sockets are virtual: each one is a lane through `port` to the shared
 * worker's hub, which multiplexes every tab onto one real WebSocket. The connection manager drives
 * it exactly like a WebSocket (open, hello, frames, close codes), so reconnecting, resuming and
 * retrying work the same with or without sharing.
 *
 * The tab listens to the port and the page, and tells the hub it is alive, only while it has a
 * virtual socket: when the last one closes (at the latest in `client.close()`), nothing of it stays
 * scheduled or listening. The next socket (a reconnect) starts them again.
 */
export function portSocketClass(port: PortLike): SocketConstructor {
  const sockets = new Map<number, PortSocket>();
  let nextSid = 0;
  let alive: ReturnType<typeof setInterval> | undefined;
  const page = globalThis as PageEvents;
  const post = (message: TabMessage): void => port.postMessage(message);
  const onPageHide = (): void => post({ op: 'bye' });
  const onMessage = ({ data }: { data: unknown }): void => {
    const message = data as HubMessage;
    sockets.get(message.sid)?.receive(message);
  };

  /** The first virtual socket opens. */
  const watch = (): void => {
    port.onmessage = onMessage;
    port.start?.();
    alive = setInterval(() => post({ op: 'alive' }), ALIVE_INTERVAL_MS);
    (alive as { unref?: () => void }).unref?.(); // in Node (tests), never keeps the process up
    page.addEventListener?.('pagehide', onPageHide);
  };

  /** The last one closed: a tab without sockets holds nothing in the hub, so it has nothing to say. */
  const unwatch = (): void => {
    clearInterval(alive);
    alive = undefined;
    page.removeEventListener?.('pagehide', onPageHide);
    port.onmessage = null;
  };

  class PortSocket implements SocketLike {
    binaryType = 'arraybuffer';
    readyState = CONNECTING;
    onopen: SocketLike['onopen'] = null;
    onmessage: SocketLike['onmessage'] = null;
    onclose: SocketLike['onclose'] = null;
    onerror: SocketLike['onerror'] = null;
    readonly #sid = ++nextSid;

    constructor(url: string) {
      if (sockets.size === 0) watch();
      sockets.set(this.#sid, this);
      post({ op: 'open', sid: this.#sid, url });
    }

    send(data: string): void {
      if (this.readyState === OPEN) post({ op: 'send', sid: this.#sid, data });
    }

    close(code: number = CLOSE_NORMAL, reason = ''): void {
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
          if (sockets.size === 0) unwatch();
          this.onclose?.({ code: message.code, reason: message.reason });
      }
    }
  }
  return PortSocket;
}
