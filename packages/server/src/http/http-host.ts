import type { IncomingMessage } from 'node:http';
import type { ConnectionHost } from '../connection/connection-host.js';
import type { ConnectionSlot } from '../connection/connection-slots.js';
import type { VirtualSocket } from './sse-socket.js';

/** What a virtual socket becomes a connection with: the same fields an upgraded socket brings. */
export interface AcceptArgs {
  request: IncomingMessage;
  auth: unknown;
  slot: ConnectionSlot;
}

/**
 * What the HTTP transport needs of its server: everything a connection needs, and the checks an
 * upgrade makes (origin, capacity, `authenticate`), so HTTP requests pass the very same ones.
 */
export interface HttpHost extends ConnectionHost {
  originAllowed(origin: string | undefined): boolean;
  /** A place under `maxConnections` for a new SSE session, or undefined when full. */
  reserveSlot(address: string): ConnectionSlot | undefined;
  /** The server's `authenticate` on this request (undefined without one); throws a refusal. */
  authenticate(request: IncomingMessage): unknown;
  /** Makes a connection of a virtual socket, as for an upgraded WebSocket. */
  accept(socket: VirtualSocket, args: AcceptArgs): void;
  /** Whether the app restricted origins (then CORS headers are sent to the allowed ones). */
  readonly restrictsOrigins: boolean;
}
