/**
 * What every peer provides to the benchmark: a server and a client, each written the way that
 * library's users write it (see the peer files), behind the smallest common surface the scenarios
 * need. The surface itself adds nothing per call or per event beyond a function call.
 */

/** The peers, in the order they run in each repetition (and appear in tables). */
export const PEER_NAMES = ['raw', 'socketio', 'trpc', 'wirecall', 'wirecallHttp'] as const;
export type PeerName = (typeof PEER_NAMES)[number];
/** The peers over a WebSocket: every scenario's and curve's, where HTTP + SSE adds nothing to learn. */
export const WEBSOCKET_PEERS: readonly PeerName[] = ['raw', 'socketio', 'trpc', 'wirecall'];

/** Each peer's colour in the charts. */
export const PEER_COLORS: Record<PeerName, string> = {
  raw: '#111827',
  socketio: '#9ca3af',
  trpc: '#3b82f6',
  wirecall: '#f97316',
  wirecallHttp: '#fdba74',
};

export const PEER_LABELS: Record<PeerName, string> = {
  raw: 'raw ws',
  socketio: 'Socket.IO',
  trpc: 'tRPC',
  wirecall: 'wirecall',
  wirecallHttp: 'wirecall HTTP+SSE',
};

/**
 * What `at` carries in calls, results, events and stream items: a `Date` (the `date` payload, the
 * way users send instants), or the same instant as epoch milliseconds (the `numbers` payload).
 */
export type Payload = 'date' | 'numbers';
export const PAYLOADS: readonly Payload[] = ['date', 'numbers'];
export const PAYLOAD_LABELS: Record<Payload, string> = { date: 'Date', numbers: 'numbers' };

/**
 * An instant as it travels: what the app hands over (`Date` or `number`), and what a receiver gets
 * back. Peers that carry types (tRPC with superjson, wirecall) hand back a `Date`; raw ws and
 * Socket.IO hand back the ISO string that `JSON.stringify` made of it, as their users get it.
 */
export type Instant = Date | number | string;

/** The input of `add`, the same for every peer. */
export interface AddInput {
  a: number;
  b: number;
  at: Instant;
}

/** What `add` answers: the sum, and the input's `at` sent back. */
export interface AddResult {
  sum: number;
  at: Instant;
}

/** The input of `blob` (the payload-size curve): answer `size` bytes of text, and `at` back. */
export interface BlobInput {
  size: number;
  at: Instant;
}

export interface BlobResult {
  at: Instant;
  text: string;
}

/** The event every peer fans out: `at` is the emitter's now (a Date, or epoch milliseconds). */
export interface Tick {
  seq: number;
  at: Instant;
}

/** A small item of scenario F's streams: about 50 bytes of JSON (~75 with a Date; see stream-items.ts). */
export interface StreamItem {
  seq: number;
  text: string;
  at: Instant;
}

/** Scenario F's two kinds of stream: small JSON items, or 64 KiB binary slices (`Uint8Array`). */
export type StreamKind = 'items' | 'slices';

export interface StreamRequest {
  kind: StreamKind;
  count: number;
  /** Items the consumer lets the server send ahead; only wirecall's streams have one. */
  window: number;
}

/** Scenario E (wirecall only): the broker the nodes share events through. */
export type BrokerSetup =
  | { kind: 'redis'; url: string; prefix: string }
  | { kind: 'redis-cluster'; nodes: { host: string; port: number }[]; prefix: string }
  | { kind: 'nats'; servers: string; prefix: string }
  /** bench:cores: a node:cluster worker, the broker in the primary (`setupPrimary`). */
  | { kind: 'node-cluster' };

/** The brokers scenario E runs on. */
export type BrokerKind = Exclude<BrokerSetup['kind'], 'node-cluster'>;

/** Event messages (and their bytes) a node received from its broker since it started. */
export interface BrokerReceived {
  events: number;
  bytes: number;
}

/** How a scenario asks for a server. */
export interface ServerSetup {
  /** Always 127.0.0.1: the load stays on this machine. */
  host: string;
  /** Scenario E only (wirecall): share events between nodes through this broker. */
  broker?: BrokerSetup;
  /** What `at` is in the server's events and stream items (default `numbers`). */
  payload?: Payload;
}

/** How a scenario asks for a client. */
export interface ConnectOptions {
  /** What `at` is in the calls' inputs (`add`'s schema on the typed peers; default `numbers`). */
  payload?: Payload;
  /** The loopback source address (127.0.0.2, ...): the curves open up to 10,000 connections. */
  localAddress?: string;
}

export interface BenchServer {
  /** Where clients connect. */
  readonly url: string;
  /** Open connections, as the server counts them. */
  connections(): number;
  /** Connections that will receive `tick` events. */
  subscribers(): number;
  /** Sends one event to every subscriber; a promise when the library's emit is asynchronous. */
  emitTick(tick: Tick): void | Promise<unknown>;
  /** Scenario E: sends one event to the subscribers of one room (an event with params `{ room }`). */
  emitRoomTick?(room: string, tick: Tick): void | Promise<unknown>;
  /** Scenario E: what the node received from its broker so far (interest routing: only followed streams). */
  brokerReceived?(): BrokerReceived;
  close(): Promise<void>;
}

export interface BenchClient {
  add(input: AddInput): Promise<AddResult>;
  /** The payload-size curve: a call whose result carries `size` bytes of text. */
  blob(input: BlobInput): Promise<BlobResult>;
  /** Starts listening to `tick`; the server's `subscribers()` tells when the subscription is live. */
  onTick(listener: (tick: Tick) => void): void;
  /** Scenario E: starts listening to one room's events (counted by the server's `subscribers()` too). */
  onRoomTick?(room: string, listener: (tick: Tick) => void): void;
  /**
   * Scenario F: asks the server for `request.count` items and hands each to `onItem` as it
   * arrives; resolves once the server has ended the stream. Absent for a peer without streams.
   */
  stream?(request: StreamRequest, onItem: (item: StreamItem | Uint8Array) => void): Promise<void>;
  close(): Promise<void>;
}

export interface Peer {
  startServer(setup: ServerSetup): Promise<BenchServer>;
  /** Resolves once the connection is open and usable. */
  connect(url: string, options?: ConnectOptions): Promise<BenchClient>;
}
