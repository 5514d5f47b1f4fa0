/**
 * What every peer provides to the benchmark: a server and a client, each written the way that
 * library's users write it (see the peer files), behind the smallest common surface the scenarios
 * need. The surface itself adds nothing per call or per event beyond a function call.
 */

/** The peers, in the order they run in each repetition (and appear in tables). */
export const PEER_NAMES = ['raw', 'socketio', 'trpc', 'wirecall'] as const;
export type PeerName = (typeof PEER_NAMES)[number];

export const PEER_LABELS: Record<PeerName, string> = {
  raw: 'raw ws',
  socketio: 'Socket.IO',
  trpc: 'tRPC',
  wirecall: 'wirecall',
};

/** The input of `add`, the same for every peer. */
export interface AddInput {
  a: number;
  b: number;
}

/** The event every peer fans out: `at` is epoch milliseconds (a number), so all peers carry the same JSON. */
export interface Tick {
  seq: number;
  at: number;
}

/** A small item of scenario F's streams: about 50 bytes of JSON (see stream-items.ts). */
export interface StreamItem {
  seq: number;
  text: string;
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
  add(input: AddInput): Promise<number>;
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
  connect(url: string): Promise<BenchClient>;
}
