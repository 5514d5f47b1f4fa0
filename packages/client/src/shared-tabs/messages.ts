/**
 * What tabs and the shared worker's hub say to each other over a MessagePort: control messages
 * around the protocol, not wirecall.v1 envelopes. Each tab may open several virtual sockets (`sid`,
 * per port); the frames inside (`data`) are plain wirecall.v1 text.
 */
export type TabMessage =
  | { op: 'open'; sid: number; url: string }
  | { op: 'send'; sid: number; data: string }
  | { op: 'close'; sid: number }
  /** The tab still exists (sent on a timer, since a port says nothing when its tab dies). */
  | { op: 'alive' }
  /** The page is being hidden (`pagehide`): close this port's sockets; a restored page reopens. */
  | { op: 'bye' };

export type HubMessage =
  | { op: 'open'; sid: number }
  | { op: 'message'; sid: number; data: string }
  /** The virtual socket closed: the upstream's close code (any a WebSocket reports), or the hub's. */
  | { op: 'close'; sid: number; code: number; reason: string };

/** The part of a MessagePort both sides use: browsers' and Node's `worker_threads` ports fit. */
export interface PortLike {
  postMessage(message: unknown): void;
  /**
   * Set by wirecall to a `({ data }) => void` listener, and back to null when the tab has no virtual
   * socket; typed loosely so every kind of port fits.
   */
  onmessage: unknown;
  start?(): void;
  close?(): void;
}

/** How often a tab tells the hub it is alive. Timers of hidden tabs may run only once a minute. */
export const ALIVE_INTERVAL_MS = 20_000;
