import type { SocketLike } from './connection-manager.js';

/**
 * What the client does differently on Node's `ws`, kept out of browser bundles: package.json's
 * `imports` maps `#socket-tuning` to node-socket.ts, and to browser-socket.ts (nothing) under the
 * `browser` condition, where the WebSocket batches its own writes and hides HTTP statuses.
 */
export interface SocketTuning {
  /** Called before each frame is sent on `socket`. */
  sending(socket: SocketLike): void;
  /** The close code an `error` event of a socket stands for, when it says more than "network". */
  refusal(event: unknown): number | undefined;
  /**
   * Hands each message's data (a string for text, an ArrayBuffer for binary) to `onData` by a
   * quicker way than `onmessage`, if the socket has one; false when it has none.
   */
  listen(socket: SocketLike, onData: (data: unknown) => void): boolean;
}
