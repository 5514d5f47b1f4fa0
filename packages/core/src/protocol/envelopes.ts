import type { ErrorShape } from '../errors/error-shape.js';
import type { SuperJsonMeta } from '../codec/meta-guard.js';

/**
 * What goes over the socket. Every frame is one JSON text holding one envelope; `t` names its type.
 * The full reference, with examples and sequences, is docs/protocol.md.
 *
 * A value (call input, result, event payload, params) travels as superjson's two parts: `v` holds
 * the JSON part and `m` the type annotations, present only when the value is not plain JSON.
 * An absent `v` means `undefined`.
 */
export interface WireValue {
  v?: unknown;
  m?: SuperJsonMeta;
}

/** A correlation id chosen by the client: a safe non-negative integer or a short string. */
export type RequestId = number | string;

/** Stream key: event name plus canonical params, the unit of subscription, ordering and history. */
export type StreamKey = string;

// Client -> server

/** First frame of every connection: contract fingerprint, and connection params as the value. */
export interface HelloEnvelope extends WireValue {
  t: 'hello';
  fp: string;
  /** The client reads binary frames (bytes as raw bytes); without it the server sends only text. */
  bin?: true;
  /**
   * The client's id, the same across its reconnects (random, kept secret): an anonymous client is
   * one presence member by it, so coming back within the grace period is not a leave and a join.
   */
  cid?: string;
}
/** Run procedure `p`. `tm` is the caller's remaining time budget in ms (the deadline). */
export interface CallEnvelope extends WireValue {
  t: 'call';
  id: RequestId;
  p: string;
  tm?: number;
  /** Idempotency key: a retry of the same logical call carries the same key. */
  ik?: string;
  /** For a streaming procedure: how many items the caller takes before it grants more (`credit`). */
  cr?: number;
  /** For a resumable stream reopened after a drop: the id of the last item the caller got. */
  after?: string;
}
/** The caller of streaming call `id` takes `n` more items. */
export interface CreditEnvelope {
  t: 'credit';
  id: RequestId;
  n: number;
}
/** One item of a stream (the caller's input stream, or the server's answer); the value is the item. */
export interface ItemEnvelope extends WireValue {
  t: 'item';
  id: RequestId;
  /** The item's id, in a resumable stream: where the caller resumes from after a drop. */
  iid?: string;
}
/** Message `n` from the client, without an answer; the value is its payload. */
export interface MessageEnvelope extends WireValue {
  t: 'msg';
  n: string;
}
/** The caller's input stream of call `id` has no more items. */
export interface EndEnvelope {
  t: 'end';
  id: RequestId;
}
/** The caller gave up on call `id` (abort or timeout); the handler's signal aborts. */
export interface CancelEnvelope {
  t: 'cancel';
  id: RequestId;
}
/** Subscribe to event `e` with params as the value; `after` resumes after that event id. */
export interface SubscribeEnvelope extends WireValue {
  t: 'sub';
  id: RequestId;
  e: string;
  after?: string;
}
/** End subscription `id`. */
export interface UnsubscribeEnvelope {
  t: 'unsub';
  id: RequestId;
}
/**
 * Observe the presence of event `e`'s stream (params as the value): who is there, and who joins and
 * leaves. Answered by a `presence` frame with `op: "sync"` (or an `error`); ended by `unsub`.
 */
export interface PresenceSubscribeEnvelope extends WireValue {
  t: 'psub';
  id: RequestId;
  e: string;
}
/**
 * Join the presence observed by `psub` `id`, or update this member's data (the value). No answer
 * unless refused: then an `error` with this `id` and `op: "pset"`.
 */
export interface PresenceSetEnvelope extends WireValue {
  t: 'pset';
  id: RequestId;
}
/** Leave the presence observed by `psub` `id` (observing goes on). */
export interface PresenceLeaveEnvelope {
  t: 'pdel';
  id: RequestId;
}
/** Liveness probe; the server answers `pong`. */
export interface PingEnvelope {
  t: 'ping';
}

export type ClientEnvelope =
  | HelloEnvelope
  | CallEnvelope
  | CancelEnvelope
  | SubscribeEnvelope
  | UnsubscribeEnvelope
  | PingEnvelope
  | CreditEnvelope
  | ItemEnvelope
  | EndEnvelope
  | MessageEnvelope
  | PresenceSubscribeEnvelope
  | PresenceSetEnvelope
  | PresenceLeaveEnvelope;

// Server -> client

/** Answer to `hello`: the server's fingerprint and the heartbeat interval it expects. */
export interface WelcomeEnvelope {
  t: 'welcome';
  fp: string;
  /** The server's heartbeat interval (ms), so both ends agree on timing; 0: the server sends no heartbeats. */
  hb: number;
  /** Most calls the server runs at once for this connection; the client keeps the rest queued. */
  mi?: number;
  /** Largest frame (bytes) the server accepts; the client refuses bigger calls before sending. */
  mp?: number;
  /** Most streaming calls the server runs at once for this connection; the client queues the rest. */
  ms?: number;
  /** The server sends bytes in binary frames on this connection (the client asked with `hello.bin`). */
  bin?: true;
}
/** Successful result of call `id`; the value is the procedure's output. */
export interface ResultEnvelope extends WireValue {
  t: 'result';
  id: RequestId;
}
/** Failure of call or subscription `id`, or of a frame that carried no usable id. */
export interface ErrorEnvelope {
  t: 'error';
  id?: RequestId;
  e: ErrorShape;
  /** The client message (`msg`) this error is about: it was invalid, refused, or its handler failed. */
  n?: string;
  /** `"pset"`: joining (or updating) the presence of `psub` `id` was refused; observing goes on. */
  op?: 'pset';
}
/**
 * Subscription `id` is active; its events arrive tagged with stream key `k`. `last` is the stream's
 * newest event id at that moment (`<epoch>:0` for a stream without events yet), so a client that
 * drops before its first event can still resume from the right place; absent on a resumed one.
 */
export interface SubscribedEnvelope {
  t: 'subscribed';
  id: RequestId;
  k: StreamKey;
  last?: string;
}
/**
 * One event of stream `k`, with id `eid` (increasing per stream); the value is the payload. An
 * event pushed to this connection alone has no `eid`: no history holds it, and it moves no resume
 * position.
 */
export interface EventEnvelope extends WireValue {
  t: 'event';
  k: StreamKey;
  eid?: string;
}
/**
 * Events of stream `k` after the client's `after` id could not be replayed (history too short, or
 * lost with a restarted server). `last` is where the client stands now: it resumes from there.
 */
export interface GapEnvelope {
  t: 'gap';
  k: StreamKey;
  last?: string;
}
/** One member of a stream's presence: its key, its connections, its data (`d`, a value). */
export interface PresenceMemberWire {
  key: string;
  /** Connections (tabs, devices) this member is present with. */
  n: number;
  d: WireValue;
}
/**
 * The presence of stream `k`. `op: "sync"` answers `psub` `id` with the member count `c`, the first
 * members (`ms`, capped; `more` when there are others) and `me`, the key this connection joins as.
 * Then one frame per change: `join` and `update` (member `key` with data `d`), `leave` (`key`);
 * each carries the new count `c`.
 */
export interface PresenceEnvelope {
  t: 'presence';
  k: StreamKey;
  op: 'sync' | 'join' | 'update' | 'leave';
  c: number;
  id?: RequestId;
  me?: string;
  ms?: PresenceMemberWire[];
  more?: true;
  key?: string;
  d?: WireValue;
}
/** Answer to `ping`. */
export interface PongEnvelope {
  t: 'pong';
}

export type ServerEnvelope =
  | WelcomeEnvelope
  | ResultEnvelope
  | ErrorEnvelope
  | SubscribedEnvelope
  | EventEnvelope
  | GapEnvelope
  | PongEnvelope
  | ItemEnvelope
  | CreditEnvelope
  | PresenceEnvelope;

/** The protocol spoken by this version; offered and required as the WebSocket subprotocol. */
export const PROTOCOL = 'wirecall.v1';
