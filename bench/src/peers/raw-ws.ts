/**
 * Raw `ws` with hand-rolled correlation ids: the ceiling for Node. A call is `{ id, a, b }`, its
 * answer `{ id, result }`; an event is `{ seq, at }`. No validation, no reconnect, no envelopes.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import type { AddInput, BenchClient, BenchServer, Peer, ServerSetup, Tick } from './types.js';

interface CallFrame extends AddInput {
  id: number;
}

interface ResultFrame {
  id: number;
  result: number;
}

async function startServer({ host }: ServerSetup): Promise<BenchServer> {
  const wss = new WebSocketServer({ host, port: 0 });
  wss.on('connection', (socket) => {
    socket.on('message', (data) => {
      const { id, a, b } = JSON.parse((data as Buffer).toString()) as CallFrame;
      socket.send(JSON.stringify({ id, result: a + b }));
    });
  });
  await once(wss, 'listening');
  const { port } = wss.address() as AddressInfo;
  return {
    url: `ws://${host}:${port}`,
    connections: () => wss.clients.size,
    subscribers: () => wss.clients.size,
    emitTick(tick) {
      const frame = JSON.stringify(tick);
      for (const client of wss.clients) if (client.readyState === WebSocket.OPEN) client.send(frame);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      }),
  };
}

async function connect(url: string): Promise<BenchClient> {
  const socket = new WebSocket(url);
  const pending = new Map<number, (result: number) => void>();
  const tickListeners: ((tick: Tick) => void)[] = [];
  let nextId = 0;
  socket.on('message', (data) => {
    const message = JSON.parse((data as Buffer).toString()) as ResultFrame | Tick;
    if ('id' in message) {
      const resolve = pending.get(message.id);
      pending.delete(message.id);
      resolve?.(message.result);
    } else {
      for (const listener of tickListeners) listener(message);
    }
  });
  await once(socket, 'open');
  return {
    add: ({ a, b }) =>
      new Promise<number>((resolve) => {
        const id = ++nextId;
        pending.set(id, resolve);
        socket.send(JSON.stringify({ id, a, b }));
      }),
    onTick: (listener) => void tickListeners.push(listener),
    close: async () => {
      socket.close();
      if (socket.readyState !== WebSocket.CLOSED) await once(socket, 'close');
    },
  };
}

export const peer: Peer = { startServer, connect };
