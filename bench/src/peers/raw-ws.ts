/**
 * Raw `ws` with hand-rolled correlation ids: the ceiling for Node. A call is `{ id, a, b, at }`, its
 * answer `{ id, result: { sum, at } }`; an event is `{ seq, at }`. No validation, no reconnect, no
 * envelopes. A `Date` goes out as `JSON.stringify` makes it (an ISO string) and arrives as that
 * string: the receiver does `JSON.parse` and nothing more, as a raw ws app would.
 *
 * Scenario F: `{ stream, count }` asks for a stream; the server sends each item as its own frame
 * (JSON text, or a binary frame for a slice) as fast as the socket drains, then `{ done: count }`.
 * TCP is its flow control: no window, no credits.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { textOfSize } from './payloads.js';
import { streamItem, streamSlice } from './stream-items.js';
import type {
  AddInput,
  AddResult,
  BenchClient,
  BenchServer,
  BlobInput,
  BlobResult,
  ConnectOptions,
  Payload,
  Peer,
  ServerSetup,
  StreamItem,
  StreamKind,
  Tick,
} from './types.js';

interface CallFrame extends AddInput {
  id: number;
}

interface BlobFrame extends BlobInput {
  id: number;
}

interface ResultFrame {
  id: number;
  result: AddResult | BlobResult;
}

interface StreamFrame {
  stream: StreamKind;
  count: number;
}

interface DoneFrame {
  done: number;
}

/**
 * A stream waits for the socket once this much is queued in user space: the same threshold as
 * wirecall's streams, so both keep the kernel's buffer full and neither queues more.
 */
const HIGH_WATER_BYTES = 256 * 1024;

/** Sends `count` items, waiting for the socket to drain whenever its queue passes the threshold. */
async function sendStream(socket: WebSocket, { stream, count }: StreamFrame, payload: Payload): Promise<void> {
  for (let seq = 0; seq < count; seq++) {
    if (socket.readyState !== WebSocket.OPEN) return;
    const data = stream === 'items' ? JSON.stringify(streamItem(seq, payload)) : streamSlice(seq);
    // The callback of a send runs once its frame is written: everything queued before it is too.
    if (socket.bufferedAmount < HIGH_WATER_BYTES) socket.send(data);
    else await new Promise((resolve) => socket.send(data, resolve));
  }
  socket.send(JSON.stringify({ done: count }));
}

async function startServer({ host, payload = 'numbers' }: ServerSetup): Promise<BenchServer> {
  const wss = new WebSocketServer({ host, port: 0 });
  wss.on('connection', (socket) => {
    socket.on('message', (data) => {
      const frame = JSON.parse((data as Buffer).toString()) as CallFrame | BlobFrame | StreamFrame;
      if ('stream' in frame) void sendStream(socket, frame, payload);
      else if ('size' in frame)
        socket.send(JSON.stringify({ id: frame.id, result: { at: frame.at, text: textOfSize(frame.size) } }));
      else socket.send(JSON.stringify({ id: frame.id, result: { sum: frame.a + frame.b, at: frame.at } }));
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

/** The stream in progress, if any: its frames are told from events by arriving while it runs. */
interface ActiveStream {
  onItem: (item: StreamItem | Uint8Array) => void;
  done: () => void;
}

async function connect(url: string, { localAddress }: ConnectOptions = {}): Promise<BenchClient> {
  const socket = new WebSocket(url, localAddress === undefined ? {} : { localAddress });
  const pending = new Map<number, (result: AddResult | BlobResult) => void>();
  const tickListeners: ((tick: Tick) => void)[] = [];
  let active: ActiveStream | undefined;
  let nextId = 0;
  socket.on('message', (data, isBinary) => {
    if (isBinary) {
      active?.onItem(data as Buffer);
      return;
    }
    const message = JSON.parse((data as Buffer).toString()) as ResultFrame | Tick | StreamItem | DoneFrame;
    if ('id' in message) {
      const resolve = pending.get(message.id);
      pending.delete(message.id);
      resolve?.(message.result);
    } else if (active === undefined) {
      for (const listener of tickListeners) listener(message as Tick);
    } else if ('done' in message) {
      const { done } = active;
      active = undefined;
      done();
    } else {
      active.onItem(message as StreamItem);
    }
  });
  await once(socket, 'open');
  /** Registers call `id`'s answer; the caller sends its frame. */
  const answer = <T extends AddResult | BlobResult>(id: number) =>
    new Promise<T>((resolve) => pending.set(id, resolve as (result: AddResult | BlobResult) => void));
  return {
    add: ({ a, b, at }) => {
      const id = ++nextId;
      const result = answer<AddResult>(id);
      socket.send(JSON.stringify({ id, a, b, at }));
      return result;
    },
    blob: ({ size, at }) => {
      const id = ++nextId;
      const result = answer<BlobResult>(id);
      socket.send(JSON.stringify({ id, size, at }));
      return result;
    },
    onTick: (listener) => void tickListeners.push(listener),
    stream: ({ kind, count }, onItem) =>
      new Promise<void>((resolve) => {
        active = { onItem, done: resolve };
        socket.send(JSON.stringify({ stream: kind, count }));
      }),
    close: async () => {
      socket.close();
      if (socket.readyState !== WebSocket.CLOSED) await once(socket, 'close');
    },
  };
}

export const peer: Peer = { startServer, connect };
