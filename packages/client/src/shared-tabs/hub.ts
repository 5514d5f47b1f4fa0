import {
  CLOSE_GOING_AWAY,
  CLOSE_PROTOCOL_ERROR,
  parseClientEnvelope,
  type ClientEnvelope,
} from '@wirecall/core/internal';
import { ALIVE_INTERVAL_MS, type HubMessage, type PortLike, type TabMessage } from './messages.js';
import type { Lane } from './lane.js';
import { Upstream, type UpstreamSocket } from './upstream.js';

/**
 * A port whose tab has said nothing for this long is taken as gone (crashed, killed, or frozen by
 * the browser): what its lanes hold is released. A frozen tab that wakes up reconnects.
 */
const PORT_SILENT_LIMIT_MS = ALIVE_INTERVAL_MS * 9;

/** One tab's port and its virtual sockets. */
interface TabPort {
  port: PortLike;
  lanes: Map<number, TabLane>;
  lastHeardAt: number;
}

/** A virtual socket of one tab: which upstream it joined, once it has said `hello`. */
interface TabLane extends Lane {
  url: string;
  upstream: Upstream | undefined;
}

/**
 * The shared worker's core: tabs connect their ports, open virtual sockets on them, and the hub
 * runs them all over one {@link Upstream} per server URL and contract fingerprint (one per build of
 * the app). Lives as long as any tab of the origin.
 */
export class TabHub {
  readonly #openSocket: (url: string) => UpstreamSocket;
  readonly #upstreams = new Map<string, Upstream>();
  readonly #ports = new Set<TabPort>();
  readonly #sweep: ReturnType<typeof setInterval>;
  readonly #silentLimitMs: number;

  constructor(openSocket: (url: string) => UpstreamSocket, { silentLimitMs = PORT_SILENT_LIMIT_MS } = {}) {
    this.#openSocket = openSocket;
    this.#silentLimitMs = silentLimitMs;
    this.#sweep = setInterval(() => this.#dropSilentPorts(), Math.min(ALIVE_INTERVAL_MS, silentLimitMs / 3));
  }

  /** Closes every port and upstream (the worker itself never needs this; tests in Node do). */
  close(): void {
    clearInterval(this.#sweep);
    for (const tab of [...this.#ports]) this.#forgetPort(tab);
  }

  /** A tab connected (the worker's `connect` event). */
  connect(port: PortLike): void {
    const tab: TabPort = { port, lanes: new Map(), lastHeardAt: Date.now() };
    this.#ports.add(tab);
    port.onmessage = ({ data }: { data: unknown }) => this.#fromTab(tab, data as TabMessage);
    port.start?.();
  }

  #fromTab(tab: TabPort, message: TabMessage): void {
    tab.lastHeardAt = Date.now();
    this.#ports.add(tab); // back from silence, if it had gone quiet
    switch (message.op) {
      case 'open':
        this.#open(tab, message.sid, message.url);
        return;
      case 'send': {
        const lane = tab.lanes.get(message.sid);
        if (lane !== undefined) this.#frame(lane, message.data);
        return;
      }
      case 'close':
        this.#closeLane(tab, message.sid);
        return;
      case 'bye':
        // The page is hidden, perhaps for good, perhaps into the back/forward cache.
        this.#releaseLanes(tab, 'the page was hidden');
        return;
      case 'alive':
        return;
    }
  }

  #open(tab: TabPort, sid: number, url: string): void {
    const post = (message: HubMessage): void => tab.port.postMessage(message);
    const lane: TabLane = {
      url,
      upstream: undefined,
      send: (data) => post({ op: 'message', sid, data }),
      close: (code, reason) => {
        tab.lanes.delete(sid);
        post({ op: 'close', sid, code, reason });
      },
    };
    tab.lanes.set(sid, lane);
    post({ op: 'open', sid });
  }

  /**
   * One frame from a tab's client, checked as the server checks it: `hello` joins (or opens) the
   * upstream, the rest goes through it.
   */
  #frame(lane: TabLane, data: string): void {
    let envelope: ClientEnvelope | undefined;
    try {
      const parsed = parseClientEnvelope(JSON.parse(data));
      envelope = parsed.ok ? parsed.envelope : undefined;
    } catch {
      envelope = undefined;
    }
    if (envelope?.t === 'hello' && lane.upstream === undefined) {
      // Tabs of another build (another contract fingerprint) get a socket of their own, so the
      // server judges each build's contract, and the tabs of one build share theirs.
      // The worker relays text frames only: its socket asks for no binary frames (`bin` dropped),
      // and the welcome it relays says so, so no tab sends one.
      const { bin: _bin, ...textOnly } = envelope;
      lane.upstream = this.#upstreamFor(`${lane.url} ${envelope.fp}`, JSON.stringify(textOnly));
      lane.upstream.join(lane);
      return;
    }
    if (envelope === undefined || lane.upstream === undefined || !lane.upstream.fromLane(lane, envelope)) {
      lane.upstream?.leave(lane);
      lane.close(CLOSE_PROTOCOL_ERROR, 'the client sent a frame that is not wirecall.v1');
    }
  }

  #upstreamFor(key: string, hello: string): Upstream {
    let upstream = this.#upstreams.get(key);
    if (upstream === undefined) {
      const url = key.slice(0, key.lastIndexOf(' '));
      const created = new Upstream(this.#openSocket(url), hello, () => {
        if (this.#upstreams.get(key) === created) this.#upstreams.delete(key);
      });
      this.#upstreams.set(key, created);
      upstream = created;
    }
    return upstream;
  }

  #closeLane(tab: TabPort, sid: number): void {
    const lane = tab.lanes.get(sid);
    if (lane === undefined) return;
    tab.lanes.delete(sid);
    lane.upstream?.leave(lane);
  }

  #forgetPort(tab: TabPort): void {
    this.#ports.delete(tab);
    for (const sid of [...tab.lanes.keys()]) this.#closeLane(tab, sid);
    tab.port.close?.();
  }

  /**
   * Releases what a tab's lanes hold and closes them with `GOING_AWAY` (1001), keeping its port: a
   * page that comes back (from the back/forward cache, or a frozen tab that wakes up) reconnects at
   * once.
   */
  #releaseLanes(tab: TabPort, reason: string): void {
    for (const lane of [...tab.lanes.values()]) {
      lane.upstream?.leave(lane);
      lane.close(CLOSE_GOING_AWAY, reason);
    }
  }

  #dropSilentPorts(): void {
    const now = Date.now();
    for (const tab of this.#ports) {
      if (now - tab.lastHeardAt <= this.#silentLimitMs) continue;
      this.#ports.delete(tab); // its next message adds it back
      this.#releaseLanes(tab, 'the page was silent too long');
    }
  }
}
