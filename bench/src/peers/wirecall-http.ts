/**
 * wirecall over HTTP + Server-Sent Events: the same server as the `wirecall` peer (it answers HTTP
 * on its port by default), and its client with `transport: 'http'`, as an app behind a proxy that
 * refuses WebSocket upgrades runs it: calls and frames as POSTs, events over one SSE stream.
 */
import type { Peer } from './types.js';
import { connectOver, peer as overWebSocket } from './wirecall.js';

export const peer: Peer = {
  startServer: overWebSocket.startServer,
  connect: (url, options) => connectOver('http', url, options),
};
