import type { SocketLike } from '../connection/connection-manager.js';
import type { Frame, Lane, UpstreamLink } from './lane.js';
import { SharedCalls } from './shared-calls.js';
import { SharedStreams } from './shared-streams.js';

/** The one real WebSocket the hub keeps per server URL and build (the browser's, or `ws` in tests). */
export type UpstreamSocket = SocketLike;

const OPEN = 1;
const PING = '{"t":"ping"}';
/** Upstream liveness, as the client's own heartbeat: ping after 10 s of silence, give up after 20 s. */
const PING_AFTER_MS = 10_000;
const DEAD_AFTER_MS = 20_000;

/**
 * One WebSocket to the server shared by the lanes of every tab. A frame-level multiplexer:
 * - `hello` goes upstream once (the first tab's); every lane gets the server's `welcome`;
 * - calls ({@link SharedCalls}) and subscriptions ({@link SharedStreams}) get ids unique on this
 *   socket, and answers and events are routed back to the lanes they belong to;
 * - the worker answers the lanes' pings and runs its own heartbeat to the server;
 * - when the socket dies, every lane closes with its close code, and the tabs reconnect as usual.
 */
export class Upstream {
  readonly #socket: UpstreamSocket;
  readonly #lanes = new Set<Lane>();
  /** Lanes that sent `hello` before `welcome` arrived. */
  readonly #awaitingWelcome = new Set<Lane>();
  #welcome: string | undefined;
  #nextId = 0;
  readonly #calls: SharedCalls;
  readonly #streams: SharedStreams;
  #lastSeenAt = Date.now();
  readonly #heartbeat: ReturnType<typeof setInterval>;
  readonly #onEnd: () => void;

  constructor(socket: UpstreamSocket, hello: string, onEnd: () => void) {
    this.#socket = socket;
    this.#onEnd = onEnd;
    const link: UpstreamLink = { send: (text) => this.#send(text), nextId: () => ++this.#nextId };
    this.#calls = new SharedCalls(link);
    this.#streams = new SharedStreams(link);
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
        this.#calls.call(lane, frame);
        return true;
      case 'cancel':
        this.#calls.cancel(lane, frame.id);
        return true;
      case 'sub':
        this.#streams.subscribe(lane, frame);
        return true;
      case 'unsub':
        this.#streams.unsubscribe(lane, frame.id);
        return true;
      case 'credit':
      case 'item':
      case 'end':
        this.#calls.forward(lane, frame);
        return true;
      case 'msg':
        // No id, no answer: it goes up as it is.
        this.#send(JSON.stringify(frame));
        return true;
      case 'psub':
        // Presence is per connection on the server; the shared socket does not carry it (yet).
        lane.send(
          JSON.stringify({
            t: 'error',
            id: frame.id,
            e: { code: 'BAD_REQUEST', message: 'presence is not available with shareAcrossTabs' },
          }),
        );
        return true;
      case 'pset':
      case 'pdel':
        return true;
      default:
        return false;
    }
  }

  /** A lane is gone (its tab closed it, or the tab went away): release everything it held. */
  leave(lane: Lane): void {
    if (!this.#lanes.delete(lane)) return;
    this.#awaitingWelcome.delete(lane);
    this.#calls.leave(lane);
    this.#streams.leave(lane);
    if (this.#lanes.size === 0) this.#close(1000, 'no tab left');
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
        this.#streams.confirmed(frame);
        return;
      case 'event':
      case 'gap':
        this.#streams.toListeners(text, frame);
        return;
      case 'item':
      case 'credit': {
        // A streaming call's frames go to its tab, under the tab's id; the call goes on.
        const owner = typeof frame.id === 'number' ? this.#calls.ownerOf(frame.id) : undefined;
        if (owner?.lane !== undefined && this.#lanes.has(owner.lane)) {
          owner.lane.send(JSON.stringify({ ...frame, id: owner.tabId }));
        }
        return;
      }
      default:
        return; // pong: the socket is alive, which #lastSeenAt recorded
    }
  }

  #welcomed(text: string, frame: Frame): void {
    this.#welcome = text;
    if (typeof frame.mi === 'number') this.#calls.setWindow(frame.mi);
    for (const lane of this.#awaitingWelcome) lane.send(text);
    this.#awaitingWelcome.clear();
  }

  /** A `result` or `error`: back to the lane of its call, or to the lanes of a refused `sub`. */
  #answer(text: string, frame: Frame): void {
    if (typeof frame.id !== 'number') {
      for (const lane of this.#lanes) lane.send(text); // an error about the connection itself
      return;
    }
    const call = this.#calls.answered(frame.id, frame);
    if (call === undefined) {
      this.#streams.refused(frame.id, frame);
    } else if (call !== 'retrying' && call.lane !== undefined && this.#lanes.has(call.lane)) {
      call.lane.send(JSON.stringify({ ...frame, id: call.tabId }));
    }
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
    this.#calls.close();
    this.#onEnd();
    const lanes = [...this.#lanes];
    this.#lanes.clear();
    for (const lane of lanes) lane.close(code, reason);
  }
}
