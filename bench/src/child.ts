/**
 * The entry point of every child process: `child.ts server <peer>` runs one peer's server,
 * `child.ts clients <peer>` a group of that peer's clients. The orchestrator (main.ts) drives it
 * with requests over IPC (see ipc.ts). The child exits when the orchestrator disconnects or dies,
 * and by itself after BENCH_CHILD_TIMEOUT_MS whatever happens.
 */
import { CallLoop } from './curves/isolation.js';
import { runBlobs, type BlobsArgs } from './curves/payload-size.js';
import { serveRequests, type Operations } from './ipc.js';
import { arrivesAs } from './peers/payloads.js';
import {
  PEER_NAMES,
  type BenchClient,
  type BenchServer,
  type Payload,
  type Peer,
  type PeerName,
  type ServerSetup,
} from './peers/types.js';
import { runSequential } from './scenarios/a-sequential.js';
import { runPipelined, type PipelinedArgs } from './scenarios/b-pipelined.js';
import { emitTicks, TickReceiver, type EmitArgs, type RoomPlan } from './scenarios/c-fanout.js';
import { measureMemory } from './scenarios/d-idle-memory.js';
import { runStream, type StreamArgs } from './scenarios/f-streams.js';
import { cpuMicros } from './scenarios/types.js';

const PEER_FILES: Record<PeerName, string> = {
  raw: './peers/raw-ws.js',
  socketio: './peers/socketio.js',
  trpc: './peers/trpc.js',
  wirecall: './peers/wirecall.js',
  wirecallHttp: './peers/wirecall-http.js',
};

const [role, peerName] = process.argv.slice(2);
const timeoutMs = Number(process.env.BENCH_CHILD_TIMEOUT_MS ?? 300_000);
setTimeout(() => {
  console.error(`hard timeout: still running after ${timeoutMs} ms, exiting`);
  process.exit(3);
}, timeoutMs).unref();
// The orchestrator is gone or done with us.
process.on('disconnect', () => process.exit(0));

if (!PEER_NAMES.includes(peerName as PeerName)) throw new Error(`unknown peer ${peerName}`);
const { peer } = (await import(PEER_FILES[peerName as PeerName])) as { peer: Peer };
const thisPeer = peerName as PeerName;

function serverOperations(): Operations {
  let server: BenchServer | undefined;
  const started = (): BenchServer => {
    if (server === undefined) throw new Error('the server is not listening');
    return server;
  };
  return {
    listen: async (setup: ServerSetup) => {
      server = await peer.startServer(setup);
      return { url: server.url };
    },
    stats: () => ({
      connections: started().connections(),
      subscribers: started().subscribers(),
      broker: started().brokerReceived?.(),
    }),
    emit: (args: EmitArgs) => emitTicks(started(), args),
    memory: () => measureMemory(),
    cpu: () => cpuMicros(),
    /** User and system CPU time apart, in microseconds (the subscribers curve: how much is the kernel's). */
    cpuUsage: () => process.cpuUsage(),
    close: () => server?.close(),
  };
}

interface ConnectArgs {
  urls: string[];
  count: number;
  /** Index of this process's first client among all clients (to spread them over `urls`). */
  offset: number;
  /** Connections opening at once. */
  concurrency: number;
  /** What `at` is in this process's calls (default `numbers`); every connection of a process has the same. */
  payload?: Payload;
  /** The loopback source address of these connections (the curves' many connections). */
  localAddress?: string;
}

function clientOperations(): Operations {
  /** Each client with its index among all the clients of the run (which says its server and room). */
  const clients: { client: BenchClient; index: number }[] = [];
  const receiver = new TickReceiver();
  let payload: Payload = 'numbers';
  const first = (): BenchClient => {
    if (clients[0] === undefined) throw new Error('no client connected');
    return clients[0].client;
  };
  /** What the calls of this process send, and how their instants arrive. */
  const callContext = () => ({ payload, arrivesAs: arrivesAs(thisPeer, payload) });
  const loop = new CallLoop();
  return {
    connect: async ({ urls, count, offset, concurrency, localAddress, ...args }: ConnectArgs) => {
      payload = args.payload ?? 'numbers';
      const options = { payload, ...(localAddress === undefined ? {} : { localAddress }) };
      let next = 0;
      const opener = async (): Promise<void> => {
        while (next < count) {
          const index = offset + next++;
          clients.push({ client: await peer.connect(urls[index % urls.length]!, options), index });
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, count) }, opener));
      return { connected: clients.length };
    },
    sequential: (args: { calls: number; minMs?: number }) => runSequential(first(), { ...args, ...callContext() }),
    pipelined: (args: Omit<PipelinedArgs, 'payload' | 'arrivesAs'>) =>
      runPipelined(first(), { ...args, ...callContext() }),
    /** bench:cores: the same pipelined calls on every connection of this process at once. */
    pipelinedAll: (args: Omit<PipelinedArgs, 'payload' | 'arrivesAs'>) =>
      Promise.all(clients.map(({ client }) => runPipelined(client, { ...args, ...callContext() }))),
    /** The payload-size curve: calls whose results carry `size` bytes. */
    blobs: (args: Omit<BlobsArgs, 'payload' | 'arrivesAs'>) => runBlobs(first(), { ...args, ...callContext() }),
    /** The isolation curve: sequential calls, each timed, from `startCalls` until `stopCalls`. */
    startCalls: () => loop.start(first(), callContext()),
    stopCalls: () => loop.stop(),
    stream: (args: Omit<StreamArgs, 'arrivesAs'>) =>
      runStream(first(), { ...args, arrivesAs: arrivesAs(thisPeer, payload) }),
    /** Subscribes the clients connected since the last `subscribe`. */
    subscribe: ({ plan }: { plan?: RoomPlan }) => receiver.subscribe(clients.slice(receiver.subscribed), plan),
    expect: (args: { base: number; count: number }) =>
      receiver.expect({ ...args, arrivesAs: arrivesAs(thisPeer, payload) }),
    awaitTicks: (args: { quietMs: number; timeoutMs: number }) => receiver.wait(args),
    close: async () => {
      await loop.stop().catch(() => {});
      await Promise.all(clients.splice(0).map(({ client }) => client.close()));
    },
  };
}

serveRequests(role === 'server' ? serverOperations() : clientOperations());
