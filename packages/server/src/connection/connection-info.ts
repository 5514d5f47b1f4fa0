import type { IncomingMessage } from 'node:http';

/**
 * The public face of one connection, given to handlers, hooks and `canSubscribe`. `close()` ends it
 * with a close code of the caller's choice: for example `CLOSE_CODES.UNAUTHORIZED` (4401) when its
 * credentials expired, which the client treats as an auth refusal.
 */
export interface ConnectionInfo {
  /** Unique within this server process. */
  readonly id: string;
  /** The peer's IP address as the socket saw it (behind a proxy, the proxy's). */
  readonly remoteAddress: string | undefined;
  /** The HTTP upgrade request that opened the connection. */
  readonly request: IncomingMessage;
  close(code?: number, reason?: string): void;
}
