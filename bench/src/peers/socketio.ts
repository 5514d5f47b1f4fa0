/**
 * Socket.IO 4 over the WebSocket transport only (no long-polling upgrade dance): `emitWithAck`
 * for calls, `io.emit` for the fan-out. Socket.IO validates nothing; neither does this server. Its
 * parser is JSON: a `Date` goes out as its ISO string and arrives as that string.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { io as connectSocket } from 'socket.io-client';
import { textOfSize } from './payloads.js';
import type {
  AddInput,
  AddResult,
  BenchClient,
  BenchServer,
  BlobInput,
  BlobResult,
  ConnectOptions,
  Peer,
  ServerSetup,
  Tick,
} from './types.js';

interface ServerToClient {
  tick: (tick: Tick) => void;
}

interface ClientToServer {
  add: (input: AddInput, ack: (result: AddResult) => void) => void;
  blob: (input: BlobInput, ack: (result: BlobResult) => void) => void;
}

async function startServer({ host }: ServerSetup): Promise<BenchServer> {
  const httpServer = createServer();
  const io = new Server<ClientToServer, ServerToClient>(httpServer, { transports: ['websocket'] });
  io.on('connection', (socket) => {
    socket.on('add', ({ a, b, at }, ack) => ack({ sum: a + b, at }));
    socket.on('blob', ({ size, at }, ack) => ack({ at, text: textOfSize(size) }));
  });
  httpServer.listen(0, host);
  await once(httpServer, 'listening');
  const { port } = httpServer.address() as AddressInfo;
  return {
    url: `ws://${host}:${port}`,
    connections: () => io.engine.clientsCount,
    subscribers: () => io.of('/').sockets.size,
    emitTick: (tick) => void io.emit('tick', tick),
    close: () => io.close(),
  };
}

async function connect(url: string, { localAddress }: ConnectOptions = {}): Promise<BenchClient> {
  // engine.io-client hands `localAddress` on to `ws` in Node.
  const socket = connectSocket(url, {
    transports: ['websocket'],
    ...(localAddress === undefined ? {} : { localAddress }),
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  return {
    add: (input) => socket.emitWithAck('add', input),
    blob: (input) => socket.emitWithAck('blob', input),
    onTick: (listener) => void socket.on('tick', listener),
    close: () => {
      socket.disconnect();
      return Promise.resolve();
    },
  };
}

export const peer: Peer = { startServer, connect };
