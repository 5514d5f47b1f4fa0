/**
 * wirecall as its README shows it: one zod contract, `createServer` / `createClient`, validation on
 * at both ends (the default), values through the superjson-compatible codec.
 *
 * Limits raised for the benchmark, as a throughput-oriented deployment would (the README says so):
 * - `limits.rateLimit`: the default (1,000 messages/s, bursts of 2,000 per connection) would refuse
 *   most of scenarios A and B. It is raised, not turned off, so the token bucket still runs per message.
 * - `maxConnections.perIp`: the default (100) would refuse scenarios C and D, whose clients all
 *   come from 127.0.0.1.
 * `limits.maxInFlightCalls` keeps its default (128), above scenario B's 64 calls in flight.
 *
 * Scenario F's streams are streaming procedures (async generators on the server), so the client
 * passes `streams`, as any app whose contract streams must; plain calls and events do not use it.
 */
import { createClient, type SocketConstructor } from '@wirecall/client';
import { binaryFrames } from '@wirecall/client/binary';
import { httpTransport } from '@wirecall/client/http';
import { streams } from '@wirecall/client/streams';
import { defineContract } from '@wirecall/core';
import { createServer } from '@wirecall/server';
import WebSocket from 'ws';
import { z } from 'zod';
import { textOfSize } from './payloads.js';
import { streamItem, streamSlice } from './stream-items.js';
import type {
  AddInput,
  AddResult,
  BenchClient,
  BenchServer,
  BlobInput,
  BlobResult,
  BrokerSetup,
  ConnectOptions,
  Payload,
  Peer,
  ServerSetup,
  StreamItem,
  Tick,
} from './types.js';

// The benchmark measures what users get: the built packages, not the workspace sources.
for (const name of ['@wirecall/core', '@wirecall/server', '@wirecall/client', '@wirecall/client/streams']) {
  const resolved = import.meta.resolve(name);
  if (!resolved.includes('/dist/')) {
    throw new Error(`${name} resolves to ${resolved}, not its dist: run \`npm run build\`, without source conditions`);
  }
}

const count = z.object({ count: z.number().int().nonnegative() });

/**
 * The benchmark's contract, with `at` a number; {@link datedApi} is the same with `at` a Date
 * (`z.date()`, the way an app declares an instant): the same names, so the frames differ only by `at`.
 */
export const benchApi = defineContract({
  procedures: {
    add: {
      input: z.object({ a: z.number(), b: z.number(), at: z.number() }),
      output: z.object({ sum: z.number(), at: z.number() }),
    },
    blob: {
      input: z.object({ size: z.number().int().nonnegative(), at: z.number() }),
      output: z.object({ at: z.number(), text: z.string() }),
    },
    items: { input: count, stream: z.object({ seq: z.number(), text: z.string(), at: z.number() }) },
    slices: { input: count, stream: z.instanceof(Uint8Array) },
  },
  events: {
    tick: { payload: z.object({ seq: z.number(), at: z.number() }) },
    // Scenario E: one stream per room, so nodes can follow only the rooms of their clients.
    roomTick: { payload: z.object({ seq: z.number(), at: z.number() }), params: z.object({ room: z.string() }) },
  },
});

const datedApi = defineContract({
  procedures: {
    add: {
      input: z.object({ a: z.number(), b: z.number(), at: z.date() }),
      output: z.object({ sum: z.number(), at: z.date() }),
    },
    blob: {
      input: z.object({ size: z.number().int().nonnegative(), at: z.date() }),
      output: z.object({ at: z.date(), text: z.string() }),
    },
    items: { input: count, stream: z.object({ seq: z.number(), text: z.string(), at: z.date() }) },
    slices: { input: count, stream: z.instanceof(Uint8Array) },
  },
  events: {
    tick: { payload: z.object({ seq: z.number(), at: z.date() }) },
    roomTick: { payload: z.object({ seq: z.number(), at: z.date() }), params: z.object({ room: z.string() }) },
  },
});

/**
 * The contract of a payload. Typed as the numbers one: the code below only moves `at` from the
 * harness to the library and back (the harness made it for this payload), and both contracts have
 * the same names and shapes otherwise.
 */
const contractOf = (payload: Payload): typeof benchApi =>
  payload === 'date' ? (datedApi as unknown as typeof benchApi) : benchApi;

type Wire<T> = T extends { at: unknown } ? Omit<T, 'at'> & { at: number } : never;

/** Only scenario E loads a broker (and its client library), as only a multi-node deployment would. */
async function startBroker(setup: BrokerSetup | undefined) {
  switch (setup?.kind) {
    case undefined:
      return undefined;
    case 'redis':
      return (await import('@wirecall/server/redis')).redisBroker({ url: setup.url, prefix: setup.prefix });
    case 'redis-cluster':
      return (await import('@wirecall/server/redis')).redisBroker({
        cluster: { nodes: setup.nodes },
        prefix: setup.prefix,
      });
    case 'node-cluster':
      return (await import('@wirecall/server/node-cluster')).workerBroker();
    case 'nats':
      return (await import('@wirecall/server/nats')).natsBroker({ servers: setup.servers, prefix: setup.prefix });
  }
}

async function startServer({ host, broker: brokerSetup, payload = 'numbers' }: ServerSetup): Promise<BenchServer> {
  const broker = await startBroker(brokerSetup);
  await broker?.ready();
  const server = createServer(contractOf(payload), {
    handlers: {
      add: ({ input }) => ({ sum: input.a + input.b, at: input.at }),
      blob: ({ input }) => ({ at: input.at, text: textOfSize(input.size) }),
      // Async generators, as users write them: a real producer awaits (a file, a model); these
      // make their items in memory, so the stream's own cost is what is measured.
      // eslint-disable-next-line @typescript-eslint/require-await -- see above
      items: async function* ({ input }) {
        for (let seq = 0; seq < input.count; seq++) yield streamItem(seq, payload) as Wire<StreamItem>;
      },
      // eslint-disable-next-line @typescript-eslint/require-await -- see above
      slices: async function* ({ input }) {
        for (let seq = 0; seq < input.count; seq++) yield streamSlice(seq);
      },
    },
    limits: { rateLimit: { messagesPerSecond: 10_000_000, burst: 10_000_000 } },
    // The subscribers curve holds 10,000 connections at its last point.
    maxConnections: { total: 20_000, perIp: 10_000 },
    ...(broker === undefined ? {} : { broker }),
  });
  const { url } = await server.listen({ host, port: 0 });
  return {
    url,
    connections: () => server.stats().connections,
    subscribers: () => server.stats().subscriptions,
    emitTick: (tick) => server.emit('tick', tick as Wire<Tick>),
    emitRoomTick: (room, tick) => server.emit('roomTick', tick as Wire<Tick>, { params: { room } }),
    brokerReceived: () => server.stats().broker.received,
    close: async () => {
      await server.close({ graceMs: 1_000 });
      await broker?.close();
    },
  };
}

/** `ws` bound to a loopback source address (the curves' many connections). */
function boundSocket(localAddress: string): SocketConstructor {
  // ws types its handlers' events more narrowly than wirecall's SocketLike; the objects are the same.
  return class BoundSocket extends WebSocket {
    constructor(url: string, protocols: string | string[]) {
      super(url, protocols, { localAddress });
    }
  } as unknown as SocketConstructor;
}

/** How a client reaches the server: a WebSocket (with binary frames), or HTTP + SSE only. */
export type Transport = 'websocket' | 'http';

/** A client the way the README shows it, over `transport`. */
export async function connectOver(
  transport: Transport,
  url: string,
  { payload = 'numbers', localAddress }: ConnectOptions = {},
): Promise<BenchClient> {
  const client = createClient(contractOf(payload), {
    url,
    streams,
    ...(transport === 'http' ? { transport: 'http', http: httpTransport() } : { binary: binaryFrames() }),
    ...(localAddress === undefined ? {} : { WebSocket: boundSocket(localAddress) }),
  });
  await new Promise<void>((resolve, reject) => {
    const stop = client.onStateChange(({ state, error }) => {
      if (state === 'open') resolve();
      else if (state === 'closed') reject(error ?? new Error('closed before it opened'));
      else return;
      stop();
    });
  });
  // The harness made `at` for this client's payload; the contract's type says number (see contractOf).
  const calls = client.call as unknown as {
    add(input: AddInput): Promise<AddResult>;
    blob(input: BlobInput): Promise<BlobResult>;
  };
  return {
    add: (input) => calls.add(input),
    blob: (input) => calls.blob(input),
    onTick: (listener) => void client.on('tick', listener),
    onRoomTick: (room, listener) => void client.on('roomTick', { room }, listener),
    stream: async ({ kind, count, window }, onItem) => {
      const stream =
        kind === 'items' ? client.call.items({ count }, { window }) : client.call.slices({ count }, { window });
      for await (const item of stream) onItem(item);
    },
    close: () => client.close(),
  };
}

export const peer: Peer = { startServer, connect: (url, options) => connectOver('websocket', url, options) };
