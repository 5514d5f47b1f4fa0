import { stableStringify } from '@wirecall/core';
import type { SocketLike } from '../connection/connection-manager.js';

/** The one real WebSocket the hub keeps per server URL (the browser's, or `ws` in tests). */
export type UpstreamSocket = SocketLike;

/** A tab's virtual socket, as the upstream sees it: somewhere to send frames and a way to end it. */
export interface Lane {
  send(frame: string): void;
  close(code: number, reason: string): void;
}

/** One stream the tabs listen to: one upstream subscription, however many tabs share it. */
interface Stream {
  localKey: string;
  /** Id of the upstream `sub`. */
  subId: number;
  /** The server's key, once `subscribed` arrived. */
  key: string | undefined;
  /** The last event id the stream delivered (or `subscribed.last`): where a joining tab stands. */
  last: string | undefined;
  /** Each subscribed lane and the id its tab gave its `sub`. */
  lanes: Map<Lane, number>;
}

interface Frame {
  t?: unknown;
  id?: unknown;
  [field: string]: unknown;
}

const OPEN = 1;
const PING = '{"t":"ping"}';
/** Upstream liveness, as the client's own heartbeat: ping after 10 s of silence, give up after 20 s. */
const PING_AFTER_MS = 10_000;
const DEAD_AFTER_MS = 20_000;

/**
 * One WebSocket to the server shared by the lanes of every tab. A frame-level multiplexer:
 * - `hello` goes upstream once (the first tab's); every lane gets the server's `welcome`;
 * - call and subscription ids are rewritten to ids unique on this socket, and answers routed back;
 * - a stream is subscribed upstream once and its events go to every lane that listens to it;
 * - at most `welcome.mi` calls are in flight upstream; the rest wait here, in order;
 * - when the socket dies, every lane closes with its close code, and the tabs reconnect as usual.
 */
export class Upstream {
  readonly #socket: UpstreamSocket;
  readonly #lanes = new Set<Lane>();
  /** Lanes that sent `hello` before `welcome` arrived. */
  readonly #awaitingWelcome = new Set<Lane>();
  #welcome: string | undefined;
  #nextId = 0;
  readonly #calls = new Map<number, { lane: Lane; id: unknown }>();
  /** Per lane: its tab's call ids to upstream ids, for `cancel`. */
  readonly #callIds = new Map<Lane, Map<unknown, number>>();
  readonly #streams = new Map<string, Stream>();
  readonly #streamsBySubId = new Map<number, Stream>();
  readonly #streamsByKey = new Map<string, Stream>();
  /** Per lane: its tab's sub ids to streams, for `unsub`. */
  readonly #subsOf = new Map<Lane, Map<unknown, Stream>>();
  #maxInFlight = Infinity;
  #inFlight = 0;
  readonly #queued: { id: number; frame: string }[] = [];
  #lastSeenAt = Date.now();
  readonly #heartbeat: ReturnType<typeof setInterval>;
  readonly #onEnd: () => void;

  constructor(socket: UpstreamSocket, hello: string, onEnd: () => void) {
    this.#socket = socket;
    this.#onEnd = onEnd;
    socket.onopen = () => socket.send(hello);
    socket.onmessage = ({ data }) => this.#receive(String(data));
    socket.onclose = ({ code, reason }) => this.#end(code, reason);
    socket.onerror = () => {}; // `close` follows
    this.#heartbeat = setInterval(() => this.#checkAlive(), PING_AFTER_MS / 2);
  }

  /** A lane said `hello`: it is welcomed now, or when the server's `welcome` arrives. */
  join(lane: Lane): void {
    this.#lanes.add(lane);
    if (this.#welcome === undefined) this.#awaitingWelcome.add(lane);
    else lane.send(this.#welcome);
  }

  /** A frame from a lane that has said `hello`. Returns false for a frame that is not wirecall.v1. */
  fromLane(lane: Lane, frame: Frame): boolean {
    switch (frame.t) {
      case 'ping':
        lane.send('{"t":"pong"}');
        return true;
      case 'call':
        this.#call(lane, frame);
        return true;
      case 'cancel':
        this.#cancel(lane, frame.id);
        return true;
      case 'sub':
        this.#subscribe(lane, frame);
        return true;
      case 'unsub':
        this.#unsubscribe(lane, frame.id);
        return true;
      default:
        return false;
    }
  }

  /** A lane is gone (its tab closed it, or the tab died): release everything it held. */
  leave(lane: Lane): void {
    if (!this.#lanes.delete(lane)) return;
    this.#awaitingWelcome.delete(lane);
    for (const id of this.#callIds.get(lane)?.values() ?? []) this.#cancelUpstream(id);
    this.#callIds.delete(lane);
    for (const stream of new Set(this.#subsOf.get(lane)?.values())) this.#release(stream, lane);
    this.#subsOf.delete(lane);
    if (this.#lanes.size === 0) this.#close(1000, 'no tab left');
  }

  #call(lane: Lane, frame: Frame): void {
    const id = ++this.#nextId;
    this.#calls.set(id, { lane, id: frame.id });
    let ids = this.#callIds.get(lane);
    if (ids === undefined) this.#callIds.set(lane, (ids = new Map<unknown, number>()));
    ids.set(frame.id, id);
    frame.id = id;
    const text = JSON.stringify(frame);
    if (this.#inFlight < this.#maxInFlight) this.#sendCall(text);
    else this.#queued.push({ id, frame: text });
  }

  #sendCall(text: string): void {
    this.#inFlight++;
    this.#send(text);
  }

  #cancel(lane: Lane, tabId: unknown): void {
    const id = this.#callIds.get(lane)?.get(tabId);
    if (id !== undefined) this.#cancelUpstream(id);
  }

  /** Cancels a call upstream, or drops it from the queue if it never left. */
  #cancelUpstream(id: number): void {
    const call = this.#calls.get(id);
    if (call === undefined) return;
    const queuedAt = this.#queued.findIndex((entry) => entry.id === id);
    if (queuedAt >= 0) {
      this.#queued.splice(queuedAt, 1);
      this.#forgetCall(id);
    } else {
      this.#send(JSON.stringify({ t: 'cancel', id }));
    }
  }

  #forgetCall(id: number): { lane: Lane; id: unknown } | undefined {
    const call = this.#calls.get(id);
    if (call === undefined) return undefined;
    this.#calls.delete(id);
    this.#callIds.get(call.lane)?.delete(call.id);
    return call;
  }

  #subscribe(lane: Lane, frame: Frame): void {
    // The stream's identity is its event and params, in canonical form, as the server keys it.
    const localKey = `${String(frame.e)} ${stableStringify([frame.v, frame.m])}`;
    let stream = this.#streams.get(localKey);
    if (stream === undefined) {
      const subId = ++this.#nextId;
      stream = { localKey, subId, key: undefined, last: undefined, lanes: new Map() };
      this.#streams.set(localKey, stream);
      this.#streamsBySubId.set(subId, stream);
      this.#send(JSON.stringify({ ...frame, id: subId }));
    } else if (stream.key !== undefined) {
      lane.send(subscribedFrame(frame.id, stream));
    }
    stream.lanes.set(lane, frame.id as number);
    let subs = this.#subsOf.get(lane);
    if (subs === undefined) this.#subsOf.set(lane, (subs = new Map<unknown, Stream>()));
    subs.set(frame.id, stream);
  }

  #unsubscribe(lane: Lane, tabId: unknown): void {
    const subs = this.#subsOf.get(lane);
    const stream = subs?.get(tabId);
    if (stream === undefined) return;
    subs!.delete(tabId);
    this.#release(stream, lane);
  }

  /** A lane stops listening to a stream; the last one out unsubscribes upstream. */
  #release(stream: Stream, lane: Lane): void {
    stream.lanes.delete(lane);
    if (stream.lanes.size > 0) return;
    this.#streams.delete(stream.localKey);
    this.#streamsBySubId.delete(stream.subId);
    if (stream.key !== undefined) this.#streamsByKey.delete(stream.key);
    this.#send(JSON.stringify({ t: 'unsub', id: stream.subId }));
  }

  #receive(text: string): void {
    this.#lastSeenAt = Date.now();
    let frame: Frame;
    try {
      frame = JSON.parse(text) as Frame;
    } catch {
      this.#close(1002, 'the server sent a frame that is not wirecall.v1');
      return;
    }
    switch (frame.t) {
      case 'welcome':
        this.#welcomed(text, frame);
        return;
      case 'result':
      case 'error':
        this.#answer(text, frame);
        return;
      case 'subscribed':
        this.#confirmed(frame);
        return;
      case 'event':
      case 'gap':
        this.#toListeners(text, frame);
        return;
      default:
        return; // pong: the socket is alive, which #lastSeenAt recorded
    }
  }

  #welcomed(text: string, frame: Frame): void {
    this.#welcome = text;
    if (typeof frame.mi === 'number') this.#maxInFlight = frame.mi;
    for (const lane of this.#awaitingWelcome) lane.send(text);
    this.#awaitingWelcome.clear();
  }

  /** A `result` or `error`: back to the lane of its call, or to the lanes of a refused `sub`. */
  #answer(text: string, frame: Frame): void {
    if (typeof frame.id !== 'number') {
      for (const lane of this.#lanes) lane.send(text); // an error about the connection itself
      return;
    }
    const call = this.#forgetCall(frame.id);
    if (call !== undefined) {
      this.#inFlight--;
      const next = this.#queued.shift();
      if (next !== undefined) this.#sendCall(next.frame);
      if (this.#lanes.has(call.lane)) call.lane.send(JSON.stringify({ ...frame, id: call.id }));
      return;
    }
    const stream = this.#streamsBySubId.get(frame.id);
    if (stream === undefined) return;
    this.#streams.delete(stream.localKey);
    this.#streamsBySubId.delete(stream.subId);
    for (const [lane, tabId] of stream.lanes) {
      this.#subsOf.get(lane)?.delete(tabId);
      lane.send(JSON.stringify({ ...frame, id: tabId }));
    }
  }

  #confirmed(frame: Frame): void {
    const stream = typeof frame.id === 'number' ? this.#streamsBySubId.get(frame.id) : undefined;
    if (stream === undefined || typeof frame.k !== 'string') return;
    stream.key = frame.k;
    stream.last = typeof frame.last === 'string' ? frame.last : undefined;
    this.#streamsByKey.set(frame.k, stream);
    for (const [lane, tabId] of stream.lanes) lane.send(subscribedFrame(tabId, stream));
  }

  /** `event` and `gap` carry the stream key, not an id: the same text goes to every listening lane. */
  #toListeners(text: string, frame: Frame): void {
    const stream = typeof frame.k === 'string' ? this.#streamsByKey.get(frame.k) : undefined;
    if (stream === undefined) return;
    const last = frame.t === 'event' ? frame.eid : frame.last;
    if (typeof last === 'string') stream.last = last;
    for (const lane of stream.lanes.keys()) lane.send(text);
  }

  #send(text: string): void {
    if (this.#socket.readyState === OPEN) this.#socket.send(text);
  }

  #checkAlive(): void {
    const silentFor = Date.now() - this.#lastSeenAt;
    if (silentFor >= DEAD_AFTER_MS) this.#close(1006, 'heartbeat timed out');
    else if (silentFor >= PING_AFTER_MS) this.#send(PING);
  }

  #close(code: number, reason: string): void {
    this.#socket.onclose = null;
    // Browsers let a page close only with 1000 or 3000-4999; the lanes still learn the real code.
    this.#socket.close(1000, reason);
    this.#end(code, reason);
  }

  /** The socket is gone: every lane closes with its code, so each tab reconnects as it would alone. */
  #end(code: number, reason: string): void {
    clearInterval(this.#heartbeat);
    this.#onEnd();
    const lanes = [...this.#lanes];
    this.#lanes.clear();
    for (const lane of lanes) lane.close(code, reason);
  }
}

function subscribedFrame(tabId: unknown, stream: Stream): string {
  return JSON.stringify({ t: 'subscribed', id: tabId, k: stream.key, last: stream.last });
}
