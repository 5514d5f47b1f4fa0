/**
 * tRPC 11 over its WebSocket adapter: `applyWSSHandler` on a `ws` server, `createWSClient` +
 * `wsLink` on the client. Inputs are validated with zod as tRPC users write them; the fan-out is
 * a v11 async-generator subscription reading an EventEmitter (the pattern of tRPC's docs).
 *
 * Scenario F: small items only, from an async-generator subscription. tRPC has no flow control
 * for it (its adapter sends each item as the generator yields it, whatever the socket holds) and
 * no binary type, so 64 KiB slices are not run: they would queue in the server's memory as JSON.
 */
import { EventEmitter, on, once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { initTRPC } from '@trpc/server';
import { applyWSSHandler } from '@trpc/server/adapters/ws';
import { createTRPCClient, createWSClient, wsLink } from '@trpc/client';
import WebSocket, { WebSocketServer } from 'ws';
import { z } from 'zod';
import { streamItem } from './stream-items.js';
import type { BenchClient, BenchServer, Peer, ServerSetup, Tick } from './types.js';

const t = initTRPC.create();
const ticks = new EventEmitter();
// One listener per subscriber; 200 subscribers are expected, not a leak.
ticks.setMaxListeners(0);
let subscribers = 0;

const appRouter = t.router({
  add: t.procedure.input(z.object({ a: z.number(), b: z.number() })).query(({ input }) => input.a + input.b),
  onTick: t.procedure.subscription(async function* ({ signal }) {
    // Listening starts here, synchronously, so counting the subscriber afterwards loses nothing.
    const stream = on(ticks, 'tick', { signal });
    subscribers++;
    try {
      for await (const [tick] of stream) yield tick as Tick;
    } finally {
      subscribers--;
    }
  }),
  items: t.procedure
    .input(z.object({ count: z.number().int().nonnegative() }))
    // An async generator, as tRPC's docs write subscriptions; its items are made in memory.
    // eslint-disable-next-line @typescript-eslint/require-await -- see above
    .subscription(async function* ({ input }) {
      for (let seq = 0; seq < input.count; seq++) yield streamItem(seq);
    }),
});

type AppRouter = typeof appRouter;

async function startServer({ host }: ServerSetup): Promise<BenchServer> {
  const wss = new WebSocketServer({ host, port: 0 });
  applyWSSHandler({ wss, router: appRouter });
  await once(wss, 'listening');
  const { port } = wss.address() as AddressInfo;
  return {
    url: `ws://${host}:${port}`,
    connections: () => wss.clients.size,
    subscribers: () => subscribers,
    emitTick: (tick) => void ticks.emit('tick', tick),
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      }),
  };
}

async function connect(url: string): Promise<BenchClient> {
  let opened!: () => void;
  const open = new Promise<void>((resolve) => (opened = resolve));
  const wsClient = createWSClient({
    url,
    // Node 20 has no global WebSocket.
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    onOpen: () => opened(),
  });
  const client = createTRPCClient<AppRouter>({ links: [wsLink({ client: wsClient })] });
  await open;
  return {
    add: (input) => client.add.query(input),
    onTick: (listener) => void client.onTick.subscribe(undefined, { onData: listener }),
    stream: ({ kind, count }, onItem) =>
      kind === 'items'
        ? new Promise<void>((resolve, reject) => {
            client.items.subscribe({ count }, { onData: onItem, onComplete: resolve, onError: reject });
          })
        : Promise.reject(new Error('the tRPC peer streams small items only (no flow control, no binary type)')),
    close: () => wsClient.close(),
  };
}

export const peer: Peer = { startServer, connect };
