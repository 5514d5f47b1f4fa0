import {
  stableStringify,
  type ErrorEnvelope,
  type EventEnvelope,
  type GapEnvelope,
  type RequestId,
  type SubscribeEnvelope,
  type SubscribedEnvelope,
} from '@wirecall/core/internal';
import type { Lane, UpstreamLink } from './lane.js';

/** Events a stream keeps for tabs that resume a moment after another tab resubscribed it. */
const RECENT_EVENTS = 512;

/** One stream the tabs listen to: one upstream subscription, however many tabs share it. */
interface SharedStream {
  localKey: string;
  /** Id of the upstream `sub`. */
  subId: number;
  /** The `after` the upstream `sub` carried: tabs resuming from it need everything since. */
  after: string | undefined;
  /** The server's key, once `subscribed` arrived. */
  key: string | undefined;
  /** The newest event id the stream delivered (or `subscribed.last`): where a joining tab stands. */
  last: string | undefined;
  /** Each subscribed lane, the id its tab gave its `sub`, and the `after` it asked for. */
  lanes: Map<Lane, { tabId: RequestId; after: string | undefined }>;
  /** The latest events, oldest first; `complete` while they reach back to the subscribe. */
  recent: { eid: string; text: string }[];
  complete: boolean;
}

/**
 * The subscriptions of every tab on the shared socket: each stream (event + params) subscribed once
 * and refcounted, its events sent as is to every lane that listens. A tab that resumes a stream
 * another tab already holds gets what it missed from the stream's recent events, or a gap.
 */
export class SharedStreams {
  readonly #link: UpstreamLink;
  readonly #byLocalKey = new Map<string, SharedStream>();
  readonly #bySubId = new Map<number, SharedStream>();
  /** Params that differ only in what the server's schema strips or defaults share one key. */
  readonly #byKey = new Map<string, Set<SharedStream>>();
  /** Per lane: its tab's sub ids to streams, for `unsub` and for leaving. */
  readonly #subsOf = new Map<Lane, Map<RequestId, SharedStream>>();

  constructor(link: UpstreamLink) {
    this.#link = link;
  }

  subscribe(lane: Lane, envelope: SubscribeEnvelope): void {
    // The stream's identity: its event and params in canonical form.
    const localKey = `${envelope.e} ${stableStringify([envelope.v, envelope.m])}`;
    let stream = this.#byLocalKey.get(localKey);
    if (stream === undefined) {
      const subId = this.#link.nextId();
      stream = {
        localKey,
        subId,
        after: envelope.after,
        key: undefined,
        last: undefined,
        lanes: new Map(),
        recent: [],
        complete: true,
      };
      this.#byLocalKey.set(localKey, stream);
      this.#bySubId.set(subId, stream);
      this.#link.send({ ...envelope, id: subId });
    }
    stream.lanes.set(lane, { tabId: envelope.id, after: envelope.after });
    if (stream.key !== undefined) this.#welcome(stream, lane);
    let subs = this.#subsOf.get(lane);
    if (subs === undefined) this.#subsOf.set(lane, (subs = new Map<RequestId, SharedStream>()));
    subs.set(envelope.id, stream);
  }

  unsubscribe(lane: Lane, tabId: RequestId): void {
    const subs = this.#subsOf.get(lane);
    const stream = subs?.get(tabId);
    if (stream === undefined) return;
    subs!.delete(tabId);
    this.#release(stream, lane);
  }

  leave(lane: Lane): void {
    for (const stream of new Set(this.#subsOf.get(lane)?.values())) this.#release(stream, lane);
    this.#subsOf.delete(lane);
  }

  /** `subscribed` for an upstream sub: answer every lane that waits for it. */
  confirmed(envelope: SubscribedEnvelope): void {
    const stream = typeof envelope.id === 'number' ? this.#bySubId.get(envelope.id) : undefined;
    if (stream === undefined) return;
    stream.key = envelope.k;
    stream.last = envelope.last;
    let streams = this.#byKey.get(envelope.k);
    if (streams === undefined) this.#byKey.set(envelope.k, (streams = new Set()));
    streams.add(stream);
    for (const lane of stream.lanes.keys()) this.#welcome(stream, lane);
  }

  /** An `error` for an upstream sub: every lane that asked for it is refused. Returns false for another id. */
  refused(id: number, envelope: ErrorEnvelope): boolean {
    const stream = this.#bySubId.get(id);
    if (stream === undefined) return false;
    this.#forget(stream);
    for (const [lane, { tabId }] of stream.lanes) {
      this.#subsOf.get(lane)?.delete(tabId);
      lane.send(JSON.stringify({ ...envelope, id: tabId } satisfies ErrorEnvelope));
    }
    return true;
  }

  /** `event` and `gap` carry the stream key, not an id: the same text goes to every listening lane. */
  toListeners(text: string, envelope: EventEnvelope | GapEnvelope): void {
    const streams = this.#byKey.get(envelope.k);
    if (streams === undefined) return;
    const lanes = new Set<Lane>();
    for (const stream of streams) {
      if (envelope.t === 'event' && envelope.eid !== undefined) {
        stream.last = envelope.eid;
        stream.recent.push({ eid: envelope.eid, text });
        if (stream.recent.length > RECENT_EVENTS) {
          stream.recent.shift();
          stream.complete = false;
        }
      } else if (envelope.t === 'gap' && envelope.last !== undefined) {
        stream.last = envelope.last;
      }
      for (const lane of stream.lanes.keys()) lanes.add(lane);
    }
    for (const lane of lanes) lane.send(text);
  }

  /**
   * Tells a lane it is subscribed, resuming it where it asked: from the recent events when they
   * reach back to its `after`, with a gap when they do not.
   */
  #welcome(stream: SharedStream, lane: Lane): void {
    const { tabId, after } = stream.lanes.get(lane)!;
    const key = stream.key!;
    let missed: { text: string }[] = [];
    let gap = false;
    if (after !== undefined && after !== stream.last) {
      const seen = stream.recent.findIndex((event) => event.eid === after);
      if (seen >= 0) missed = stream.recent.slice(seen + 1);
      else if (after === stream.after && stream.complete) missed = stream.recent;
      else gap = true;
    }
    const last = missed.length > 0 || gap ? stream.last : (stream.last ?? after);
    lane.send(JSON.stringify({ t: 'subscribed', id: tabId, k: key, last } satisfies SubscribedEnvelope));
    if (gap) lane.send(JSON.stringify({ t: 'gap', k: key, last: stream.last } satisfies GapEnvelope));
    for (const event of missed) lane.send(event.text);
  }

  /** A lane stops listening to a stream; the last one out unsubscribes upstream. */
  #release(stream: SharedStream, lane: Lane): void {
    stream.lanes.delete(lane);
    if (stream.lanes.size > 0) return;
    this.#forget(stream);
    this.#link.send({ t: 'unsub', id: stream.subId });
  }

  #forget(stream: SharedStream): void {
    this.#byLocalKey.delete(stream.localKey);
    this.#bySubId.delete(stream.subId);
    if (stream.key === undefined) return;
    const streams = this.#byKey.get(stream.key);
    streams?.delete(stream);
    if (streams?.size === 0) this.#byKey.delete(stream.key);
  }
}
