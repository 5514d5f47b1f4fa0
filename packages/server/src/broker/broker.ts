import type { StreamKey, WireValue } from '@wirecall/core/internal';
import type { PresenceStore, SignalBus } from '../presence/presence-store.js';
import type { SharedIdempotency } from '../router/shared-idempotency.js';

/** One event as the broker stores and delivers it: its stream, its id, its encoded payload. */
export interface BrokerEvent {
  key: StreamKey;
  id: string;
  value: WireValue;
}

/**
 * What a node's subscription to the broker receives: every event of the streams it follows (every
 * stream, for a broker without {@link Broker.follow}), each once, in id order per stream.
 */
export type BrokerListener = (event: BrokerEvent) => void;

/** Events of `key` were lost to this node; the stream goes on after `resumeFrom` (when known). */
export type BrokerGapListener = (key: StreamKey, resumeFrom: string | undefined) => void;

/** Result of asking for the events of a stream after a given id. */
export interface ReplayResult {
  /** The events after the given id, oldest first. */
  events: BrokerEvent[];
  /** True when events after the given id were trimmed from history and cannot be replayed. */
  gap: boolean;
  /**
   * With a gap: the position just before the first replayed event (or the stream's head when none
   * is replayed), from which the client resumes next time. Without it, a client whose stale id
   * points into lost history would be told about the same gap on every reconnect.
   */
  resumeFrom?: string;
}

/** Event messages a node received from its broker, counted since it started. */
export interface BrokerTraffic {
  readonly events: number;
  readonly bytes: number;
}

/** A broker's connection state, as `onStatus` reports it. */
export interface BrokerStatus {
  connected: boolean;
  /** What went wrong, when something did. */
  error?: Error;
}

/**
 * Carries events between the nodes of a deployment and keeps their recent history. The server owns
 * the protocol; a broker only assigns ids, stores, and fans out to nodes.
 */
export interface Broker {
  /** Appends an event to its stream, assigning the next id, and delivers it to every node. */
  publish(key: StreamKey, value: WireValue): Promise<string>;
  /** Registers this node's listener. Returns a function that removes it. */
  listen(listener: BrokerListener): () => void;
  /**
   * Interest routing: from now on, deliver the events of `key` to this node. Resolves once every
   * event published afterwards will reach the listener (events before are in history), and rejects
   * when the broker cannot subscribe now (it keeps following, and subscribes when it is back). The
   * server calls it when the first connection of this node subscribes to a stream, and
   * {@link Broker.unfollow} when the last one leaves. A broker without it delivers every stream to
   * every node.
   */
  follow?(key: StreamKey): Promise<void>;
  /** This node has no subscriber of `key` any more: stop delivering its events here. */
  unfollow?(key: StreamKey): void;
  /** What this node received from the broker: event messages and their bytes (for `stats()`). */
  readonly received?: BrokerTraffic;
  /** Events of `key` after `afterId`, for a client that resumes a subscription. */
  replay(key: StreamKey, afterId: string): Promise<ReplayResult>;
  /**
   * The newest id of a stream, so a fresh subscriber can later resume from it; for a stream without
   * events, an id meaning "its beginning".
   */
  lastId(key: StreamKey): Promise<string | undefined>;
  /**
   * Orders two ids of one stream (negative: `a` is older). Lets a node drop an event a client
   * already has, when live delivery lags behind a replay from history.
   */
  compareIds(a: string, b: string): number;
  /** Whether events can flow right now (a networked broker may be disconnected). @default true */
  readonly connected?: boolean;
  /** Reports connection changes and errors (the server logs them and shows them in `stats()`). */
  onStatus?(listener: (status: BrokerStatus) => void): () => void;
  /**
   * Reports that this node missed events of a stream which history no longer holds (a broker outage
   * longer than the history): the server sends its subscribers a `gap` from `resumeFrom` on.
   */
  onGap?(listener: BrokerGapListener): () => void;
  /** Who is in which stream, for every node (needed by events that declare `presence`). */
  readonly presence?: PresenceStore;
  /**
   * Messages between nodes (needed for pushes to one connection, `disconnectUser` and
   * `connectionsOf` across nodes; without it they reach this node only).
   */
  readonly signals?: SignalBus;
  /**
   * Idempotency keys shared by every node, so a retried call runs once wherever it lands; without
   * it, each node remembers its own (a retry on another node runs the call again).
   */
  readonly idempotency?: SharedIdempotency;
  /** Releases connections and timers. */
  close(): Promise<void>;
}
