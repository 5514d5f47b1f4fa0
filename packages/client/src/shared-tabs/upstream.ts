import {
  CLOSE_ABNORMAL,
  CLOSE_CLIENT_RECONNECTING,
  CLOSE_NORMAL,
  CLOSE_PROTOCOL_ERROR,
  parseServerEnvelope,
  type ClientEnvelope,
  type ErrorEnvelope,
  type PongEnvelope,
  type ResultEnvelope,
  type ServerEnvelope,
  type WelcomeEnvelope,
} from '@wirecall/core/internal';
import type { SocketLike } from '../connection/connection-manager.js';
import { CLIENT_DEFAULTS } from '../options.js';
import type { Lane, UpstreamLink } from './lane.js';
import { SharedCalls } from './shared-calls.js';
import { SharedStreams } from './shared-streams.js';

/** The one real WebSocket the hub keeps per server URL and build (the browser's, or `ws` in tests). */
export type UpstreamSocket = SocketLike;

const OPEN = 1;
/** Upstream liveness is the client's default heartbeat: a ping after 10 s of silence, given up after 20 s. */
const HEARTBEAT = CLIENT_DEFAULTS.heartbeat;
/** The worker answers the tabs' pings itself. */
const PONG = JSON.stringify({ t: 'pong' } satisfies PongEnvelope);
const NOT_WIRECALL = 'the server sent a frame that is not wirecall.v1';

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
    const link: UpstreamLink = { send: (envelope) => this.#send(envelope), nextId: () => ++this.#nextId };
    this.#calls = new SharedCalls(link);
    this.#streams = new SharedStreams(link);
    socket.onopen = () => socket.send(hello);
    socket.onmessage = ({ data }) => this.#receive(String(data));
    socket.onclose = ({ code, reason }) => this.#end(code, reason);
    socket.onerror = () => {}; // `close` follows
    this.#heartbeat = setInterval(() => this.#checkAlive(), HEARTBEAT.intervalMs / 2);
  }

  /** A lane said `hello`: it is welcomed now, or when the server's `welcome` arrives. */
  join(lane: Lane): void {
    this.#lanes.add(lane);
    if (this.#welcome === undefined) this.#awaitingWelcome.add(lane);
    else lane.send(this.#welcome);
  }

  /**
   * An envelope from a lane that has said `hello`. Returns false for one the shared socket does not
   * take (a second `hello`): the hub closes the lane as it would for a frame that is not wirecall.v1.
   */
  fromLane(lane: Lane, envelope: ClientEnvelope): boolean {
    switch (envelope.t) {
      case 'ping':
        lane.send(PONG);
        return true;
      case 'call':
        this.#calls.call(lane, envelope);
        return true;
      case 'cancel':
        this.#calls.cancel(lane, envelope.id);
        return true;
      case 'sub':
        this.#streams.subscribe(lane, envelope);
        return true;
      case 'unsub':
        this.#streams.unsubscribe(lane, envelope.id);
        return true;
      case 'credit':
      case 'item':
      case 'end':
        this.#calls.forward(lane, envelope);
        return true;
      case 'msg':
        // No id, no answer: it goes up as it is.
        this.#send(envelope);
        return true;
      case 'psub':
        // Presence is per connection on the server; the shared socket does not carry it (yet).
        lane.send(
          JSON.stringify({
            t: 'error',
            id: envelope.id,
            e: { code: 'BAD_REQUEST', message: 'presence is not available with shareAcrossTabs' },
          } satisfies ErrorEnvelope),
        );
        return true;
      case 'pset':
      case 'pdel':
        return true;
      case 'hello':
        return false;
    }
  }

  /** A lane is gone (its tab closed it, or the tab went away): release everything it held. */
  leave(lane: Lane): void {
    if (!this.#lanes.delete(lane)) return;
    this.#awaitingWelcome.delete(lane);
    this.#calls.leave(lane);
    this.#streams.leave(lane);
    if (this.#lanes.size === 0) this.#close(CLOSE_NORMAL, 'no tab left');
  }

  /** A frame from the server, checked as each tab's client checks it: anything else ends the socket. */
  #receive(text: string): void {
    this.#lastSeenAt = Date.now();
    let envelope: ServerEnvelope;
    try {
      const parsed = parseServerEnvelope(JSON.parse(text));
      if (!parsed.ok) throw new Error(parsed.reason);
      envelope = parsed.envelope;
    } catch {
      this.#close(CLOSE_PROTOCOL_ERROR, NOT_WIRECALL);
      return;
    }
    switch (envelope.t) {
      case 'welcome':
        this.#welcomed(text, envelope);
        return;
      case 'result':
      case 'error':
        this.#answer(text, envelope);
        return;
      case 'subscribed':
        this.#streams.confirmed(envelope);
        return;
      case 'event':
      case 'gap':
        this.#streams.toListeners(text, envelope);
        return;
      case 'item':
      case 'credit': {
        // A streaming call's frames go to its tab, under the tab's id; the call goes on.
        const owner = typeof envelope.id === 'number' ? this.#calls.ownerOf(envelope.id) : undefined;
        if (owner?.lane !== undefined && this.#lanes.has(owner.lane)) {
          owner.lane.send(JSON.stringify({ ...envelope, id: owner.tabId }));
        }
        return;
      }
      case 'pong': // the socket is alive, which #lastSeenAt recorded
      case 'presence': // never asked for: the shared socket carries no presence
        return;
    }
  }

  #welcomed(text: string, welcome: WelcomeEnvelope): void {
    this.#welcome = text;
    if (welcome.mi !== undefined) this.#calls.setWindow(welcome.mi);
    for (const lane of this.#awaitingWelcome) lane.send(text);
    this.#awaitingWelcome.clear();
  }

  /** A `result` or `error`: back to the lane of its call, or to the lanes of a refused `sub`. */
  #answer(text: string, envelope: ResultEnvelope | ErrorEnvelope): void {
    if (typeof envelope.id !== 'number') {
      for (const lane of this.#lanes) lane.send(text); // an error about the connection itself
      return;
    }
    const call = this.#calls.answered(envelope.id, envelope);
    if (call === undefined) {
      if (envelope.t === 'error') this.#streams.refused(envelope.id, envelope);
    } else if (call !== 'retrying' && call.lane !== undefined && this.#lanes.has(call.lane)) {
      call.lane.send(JSON.stringify({ ...envelope, id: call.tabId }));
    }
  }

  #send(envelope: ClientEnvelope): void {
    if (this.#socket.readyState === OPEN) this.#socket.send(JSON.stringify(envelope));
  }

  #checkAlive(): void {
    const silentFor = Date.now() - this.#lastSeenAt;
    if (silentFor >= HEARTBEAT.timeoutMs) this.#close(CLOSE_ABNORMAL, 'heartbeat timed out');
    else if (silentFor >= HEARTBEAT.intervalMs) this.#send({ t: 'ping' });
  }

  #close(code: number, reason: string): void {
    this.#socket.onclose = null;
    // Browsers let a page close only with 1000 or 3000-4999: a dead socket goes as the client's own
    // would (4000, dropped to reconnect), anything else with 1000. The lanes still learn the real code.
    this.#socket.close(code === CLOSE_ABNORMAL ? CLOSE_CLIENT_RECONNECTING : CLOSE_NORMAL, reason);
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
