/**
 * tRPC 11 over its WebSocket adapter: `applyWSSHandler` on a `ws` server, `createWSClient` +
 * `wsLink` on the client. Inputs are validated with zod as tRPC users write them; the fan-out is
 * a v11 async-generator subscription reading an EventEmitter (the pattern of tRPC's docs). Values
 * travel with the superjson transformer on both ends, as tRPC's docs set it up for Dates, for both
 * payloads: it is configured once per app, not per value.
 *
 * Calls: `add` and `blob` take `at` as a number, `addDated` and `blobDated` as a Date (`z.date()`);
 * a client uses the pair of its payload. Outputs are not validated (tRPC users rarely declare them).
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
import superjson from 'superjson';
import WebSocket, { WebSocketServer } from 'ws';
import { z } from 'zod';
import { textOfSize } from './payloads.js';
import { streamItem } from './stream-items.js';
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
  Tick,
} from './types.js';

const t = initTRPC.create({ transformer: superjson });
const ticks = new EventEmitter();
// One listener per subscriber; 200 subscribers are expected, not a leak.
ticks.setMaxListeners(0);
let subscribers = 0;
/** The server's payload (what `at` is in its stream items); set by startServer. */
let serverPayload: Payload = 'numbers';

const size = z.number().int().nonnegative();

const appRouter = t.router({
  add: t.procedure
    .input(z.object({ a: z.number(), b: z.number(), at: z.number() }))
    .query(({ input }) => ({ sum: input.a + input.b, at: input.at })),
  addDated: t.procedure
    .input(z.object({ a: z.number(), b: z.number(), at: z.date() }))
    .query(({ input }) => ({ sum: input.a + input.b, at: input.at })),
  blob: t.procedure
    .input(z.object({ size, at: z.number() }))
    .query(({ input }) => ({ at: input.at, text: textOfSize(input.size) })),
  blobDated: t.procedure
    .input(z.object({ size, at: z.date() }))
    .query(({ input }) => ({ at: input.at, text: textOfSize(input.size) })),
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
      for (let seq = 0; seq < input.count; seq++) yield streamItem(seq, serverPayload);
    }),
});

type AppRouter = typeof appRouter;

async function startServer({ host, payload = 'numbers' }: ServerSetup): Promise<BenchServer> {
  serverPayload = payload;
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

/** `ws` bound to a loopback source address (the curves' many connections). */
function boundSocket(localAddress: string): typeof WebSocket {
  return class BoundSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { localAddress });
    }
  } as typeof WebSocket;
}

async function connect(url: string, { payload = 'numbers', localAddress }: ConnectOptions = {}): Promise<BenchClient> {
  let opened!: () => void;
  const open = new Promise<void>((resolve) => (opened = resolve));
  const wsClient = createWSClient({
    url,
    // Node 20 has no global WebSocket.
    WebSocket: (localAddress === undefined
      ? WebSocket
      : boundSocket(localAddress)) as unknown as typeof globalThis.WebSocket,
    onOpen: () => opened(),
  });
  const client = createTRPCClient<AppRouter>({ links: [wsLink({ client: wsClient, transformer: superjson })] });
  await open;
  // The procedures of this client's payload; the inputs are what the harness made for it.
  const add = (payload === 'date' ? client.addDated.query : client.add.query) as (
    input: AddInput,
  ) => Promise<AddResult>;
  const blob = (payload === 'date' ? client.blobDated.query : client.blob.query) as (
    input: BlobInput,
  ) => Promise<BlobResult>;
  return {
    add: (input) => add(input),
    blob: (input) => blob(input),
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
