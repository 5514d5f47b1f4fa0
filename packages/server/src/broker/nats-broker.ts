import type { StreamKey, WireValue } from '@wirecall/core/internal';
import {
  DeliverPolicy,
  jetstream,
  JetStreamApiError,
  jetstreamManager,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type StreamConfig,
  StorageType,
} from '@nats-io/jetstream';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { SERVER_DEFAULTS } from '../options.js';
import type { Broker, BrokerEvent, BrokerListener, BrokerStatus, BrokerTraffic, ReplayResult } from './broker.js';
import type { HistoryOptions } from './memory-broker.js';
import { NatsIdempotency } from './nats-idempotency.js';
import { NatsPresence } from './nats-presence.js';
import { NatsSignals } from './nats-signals.js';
import type { SharedIdempotencyOptions } from './redis-idempotency.js';

export interface NatsBrokerOptions {
  /** NATS servers to connect to; ignored when `connection` is given. @default process.env.NATS_URL ?? '127.0.0.1:4222' */
  servers?: string | string[];
  /** An existing NATS connection (with JetStream enabled on its server); never closed by the broker. */
  connection?: NatsConnection;
  /** Names the JetStream stream (`WIRECALL_<PREFIX>`) and the subjects (`<prefix>.s.…`). @default 'wirecall' */
  prefix?: string;
  /** Recent events kept per stream: JetStream's messages per subject, and their age. */
  history?: HistoryOptions;
  /** Where JetStream keeps the history. @default 'file' */
  storage?: 'file' | 'memory';
  /** Copies of the JetStream stream in a NATS cluster. @default 1 */
  replicas?: number;
  /**
   * Idempotency keys shared by the nodes (a retried call runs once, on any node), in a KV bucket
   * that keeps answers for `windowMs` (match the server's `idempotency.windowMs`). @default { windowMs: 60_000 }
   */
  idempotency?: SharedIdempotencyOptions & { windowMs?: number };
}

/** Events replayed at most per resume; older ones count as a gap. */
const MAX_REPLAY = 10_000;
/** How long a replay waits for the next stored event before it takes what it has. */
const REPLAY_IDLE_MS = 2_000;
/** Publishes retried when another node published to the same stream between our read and write. */
const MAX_PUBLISH_ATTEMPTS = 10;
/** Last subject sequences remembered per node, to publish without reading them first. */
const MAX_REMEMBERED_STREAMS = 10_000;
/** The header naming the previous event of the stream (its sequence; 0 for none). */
const PREVIOUS = 'Wirecall-Previous';
/** JetStream's API error for a failed `expect` on the last subject sequence. */
const WRONG_LAST_SEQUENCE = 10071;
/** JetStream's API error for "stream not found". */
const STREAM_NOT_FOUND = 10059;
/** JetStream's API error for "no message found". */
const NO_MESSAGE = 10037;

/** A followed stream and its consumer now (each follow its own record, so a late one sees it was replaced). */
interface Following {
  messages: ConsumerMessages | undefined;
}

/** How long a follow waits before making a consumer again after one ended or failed. */
const RESUME_MS = 1_000;

/** An event as a consumer delivered it, with the sequence of the one before it in its stream. */
interface Delivered extends BrokerEvent {
  previous: number;
}

/**
 * A broker for many server nodes on NATS JetStream. One JetStream stream holds every event, one
 * subject per wirecall stream (`<prefix>.s.<key, base64url>`), its history bounded per subject
 * (`max_msgs_per_subject`) and by age. An event's id is its JetStream sequence. Each event carries
 * the sequence of the previous one of its stream, checked at publish time (JetStream's
 * expected-last-subject-sequence), so a replay knows exactly when history lost some.
 *
 * A node follows a stream with an ordered consumer filtered to its subject, created when its first
 * connection subscribes and stopped when the last leaves: it receives nothing of the others.
 */
export class NatsBroker implements Broker {
  readonly #options: NatsBrokerOptions;
  readonly #prefix: string;
  readonly #streamName: string;
  readonly #maxEvents: number;
  readonly #maxAgeMs: number;
  readonly #listeners = new Set<BrokerListener>();
  readonly #statusListeners = new Set<(status: BrokerStatus) => void>();
  /** The streams this node follows, each with its current consumer. */
  readonly #followed = new Map<StreamKey, Following>();
  /** Last sequence delivered per followed stream: a repeat is dropped. */
  readonly #lastSeen = new Map<StreamKey, number>();
  /** Per stream, this node's last queued publish: its publishes of one stream go one at a time. */
  readonly #publishing = new Map<StreamKey, Promise<void>>();
  /** Last sequence this node published or read per stream: where its next publish expects to follow. */
  readonly #lastPublished = new Map<StreamKey, number>();
  readonly #ready: Promise<{ nc: NatsConnection; js: JetStreamClient; jsm: JetStreamManager }>;
  #connection: NatsConnection | undefined;
  /** Messages between the nodes of the prefix (pushes to one connection, `disconnectUser`). */
  readonly signals: NatsSignals;
  /** Idempotency keys of the prefix: a retried call runs once, whichever node it lands on. */
  readonly idempotency: NatsIdempotency;
  /** Who is in which stream, for every node of the prefix (see nats-presence.ts). */
  readonly presence: NatsPresence;
  #closed = false;
  #connected = false;
  #receivedEvents = 0;
  #receivedBytes = 0;

  constructor(options: NatsBrokerOptions = {}) {
    this.#options = options;
    this.#prefix = options.prefix ?? 'wirecall';
    if (!/^[A-Za-z0-9_-]+$/.test(this.#prefix)) {
      throw new TypeError('wirecall: a NATS prefix takes letters, digits, - and _ only');
    }
    this.#streamName = `WIRECALL_${this.#prefix.toUpperCase().replace(/-/g, '_')}`;
    this.#maxEvents = Math.max(1, options.history?.maxEvents ?? SERVER_DEFAULTS.history.maxEvents);
    this.#maxAgeMs = options.history?.maxAgeMs ?? SERVER_DEFAULTS.history.maxAgeMs;
    const connecting = this.#connect();
    connecting.catch(() => {}); // reported through #ready
    this.signals = new NatsSignals(connecting, `${this.#prefix}.signals`);
    this.presence = new NatsPresence(
      connecting,
      connecting.then((nc) => jetstream(nc)),
      {
        bucket: `${this.#streamName}_PRESENCE`,
        subject: `${this.#prefix}.presence`,
      },
    );
    this.idempotency = new NatsIdempotency(
      connecting.then((nc) => jetstream(nc)),
      `${this.#streamName}_IDEM`,
      { ...options.idempotency, windowMs: options.idempotency?.windowMs ?? SERVER_DEFAULTS.idempotency.windowMs },
    );
    this.#ready = this.#start(connecting);
    this.#ready.catch((error: unknown) => this.#report({ connected: false, error: error as Error }));
  }

  /** Resolves once the connection is up and the JetStream stream exists (created or updated). */
  async ready(): Promise<void> {
    await this.#ready;
  }

  get connected(): boolean {
    return this.#connected;
  }

  get received(): BrokerTraffic {
    return { events: this.#receivedEvents, bytes: this.#receivedBytes };
  }

  compareIds(a: string, b: string): number {
    const left = sequenceOf(a);
    const right = sequenceOf(b);
    if (left === undefined || right === undefined) return left === right ? 0 : left === undefined ? -1 : 1;
    return left - right;
  }

  /**
   * Publishes after this node's earlier publishes of the same stream: each expects the sequence the
   * one before it got, so concurrent emits of one stream keep their order instead of racing each
   * other's expectation (other nodes' publishes are met by the expectation, and retried).
   */
  publish(key: StreamKey, value: WireValue): Promise<string> {
    const queued = (this.#publishing.get(key) ?? Promise.resolve()).then(() => this.#publishNow(key, value));
    const settled = queued.then(
      () => {},
      () => {},
    );
    this.#publishing.set(key, settled);
    void settled.then(() => {
      if (this.#publishing.get(key) === settled) this.#publishing.delete(key);
    });
    return queued;
  }

  async #publishNow(key: StreamKey, value: WireValue): Promise<string> {
    const { js } = await this.#ready;
    // While disconnected the NATS client would hold the publish until it reconnects: the emitter
    // learns at once instead that the event was not published.
    if (!this.#connected) throw new Error('NATS is unreachable: the event was not published');
    const subject = this.#subject(key);
    const data = JSON.stringify(value);
    for (let attempt = 1; ; attempt++) {
      const previous = this.#lastPublished.get(key) ?? (await this.#lastSequence(key));
      const h = headers();
      h.set(PREVIOUS, String(previous));
      try {
        const ack = await js.publish(subject, data, { headers: h, expect: { lastSubjectSequence: previous } });
        this.#remember(key, ack.seq);
        return String(ack.seq);
      } catch (error) {
        // Another node published to this stream since: read where it stands, and go after it.
        this.#lastPublished.delete(key);
        if (!(error instanceof JetStreamApiError && error.code === WRONG_LAST_SEQUENCE)) throw error;
        if (attempt >= MAX_PUBLISH_ATTEMPTS) throw error;
      }
    }
  }

  listen(listener: BrokerListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  onStatus(listener: (status: BrokerStatus) => void): () => void {
    this.#statusListeners.add(listener);
    return () => this.#statusListeners.delete(listener);
  }

  /**
   * Starts an ordered consumer of the stream's subject from just after its last event: what is
   * published from then on reaches this node, what was before is in history.
   */
  /**
   * Follows the stream with an ordered consumer from just after its last event. Resolves once that
   * consumer exists (rejects when it cannot be made now); a consumer that ends or fails, or could
   * not be made, is made again from the last event delivered, for as long as the stream is followed.
   */
  async follow(key: StreamKey): Promise<void> {
    const following: Following = { messages: undefined };
    this.#followed.set(key, following);
    let messages: ConsumerMessages | undefined;
    try {
      messages = await this.#open(key, following, true);
    } catch (error) {
      void this.#resume(key, following);
      throw error;
    }
    if (messages !== undefined) void this.#drain(key, following, messages);
  }

  unfollow(key: StreamKey): void {
    const following = this.#followed.get(key);
    this.#followed.delete(key);
    this.#lastSeen.delete(key);
    following?.messages?.stop();
  }

  async replay(key: StreamKey, afterId: string): Promise<ReplayResult> {
    const after = sequenceOf(afterId);
    const last = await this.#lastSequence(key);
    // Nothing after it (or an id from elsewhere and a stream without events).
    // An id past the stream's end was not issued by this stream as it is now (it was made again):
    // the client is told, and resumes from where the stream stands.
    if (after !== undefined && after > last) return { events: [], gap: true, resumeFrom: String(last) };
    // Nothing after it (or an id from elsewhere and a stream without events).
    if (last <= (after ?? 0)) return { events: [], gap: after === undefined && last !== 0 };
    const delivered = await this.#read(key, (after ?? 0) + 1, last);
    const events = delivered.slice(0, MAX_REPLAY).map(({ key: k, id, value }) => ({ key: k, id, value }));
    // A gap: the first kept event does not follow `after` (history lost the ones between), the
    // id is not ours, or more than a replay's worth is missing.
    const first = delivered[0];
    const gap =
      after === undefined || (first !== undefined && first.previous !== after) || delivered.length > MAX_REPLAY;
    if (!gap) return { events, gap };
    // Resuming from just before the first event kept goes on without another gap.
    return { events, gap, resumeFrom: String(first?.previous ?? last) };
  }

  async lastId(key: StreamKey): Promise<string> {
    return String(await this.#lastSequence(key));
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
    this.#statusListeners.clear();
    this.signals.close();
    this.presence.close();
    for (const following of this.#followed.values()) following.messages?.stop();
    this.#followed.clear();
    if (this.#options.connection === undefined) await this.#connection?.close();
  }

  async #connect(): Promise<NatsConnection> {
    const nc =
      this.#options.connection ??
      (await connect({
        servers: this.#options.servers ?? process.env.NATS_URL ?? '127.0.0.1:4222',
        // NATS down at boot: keep trying, as after any later drop, instead of failing for good.
        waitOnFirstConnect: true,
      }));
    this.#connection = nc;
    return nc;
  }

  async #start(
    connecting: Promise<NatsConnection>,
  ): Promise<{ nc: NatsConnection; js: JetStreamClient; jsm: JetStreamManager }> {
    const nc = await connecting;
    const jsm = await jetstreamManager(nc);
    const config: Partial<StreamConfig> = {
      subjects: [`${this.#prefix}.s.>`],
      max_msgs_per_subject: this.#maxEvents,
      max_age: this.#maxAgeMs * 1_000_000, // nanoseconds
      // The duplicate window may not exceed the age limit.
      duplicate_window: Math.min(120_000, this.#maxAgeMs) * 1_000_000,
      storage: this.#options.storage === 'memory' ? StorageType.Memory : StorageType.File,
      num_replicas: this.#options.replicas ?? 1,
    };
    try {
      await jsm.streams.update(this.#streamName, config);
    } catch (error) {
      if (!(error instanceof JetStreamApiError && error.code === STREAM_NOT_FOUND)) throw error;
      await jsm.streams.add({ name: this.#streamName, ...config });
    }
    await this.signals.start();
    await this.presence.start();
    this.#connected = true;
    this.#report({ connected: true });
    void this.#watch(nc);
    return { nc, js: jetstream(nc), jsm };
  }

  /** Reports the connection's ups and downs (the client reconnects by itself). */
  async #watch(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') this.#connected = false;
      else if (status.type === 'reconnect') this.#connected = true;
      else continue;
      this.#report({ connected: this.#connected });
    }
  }

  /** The subject of a stream: its key in base64url, a valid single subject token whatever the key holds. */
  #subject(key: StreamKey): string {
    return `${this.#prefix}.s.${Buffer.from(key).toString('base64url')}`;
  }

  /** The stream's last sequence (0 when it has no events), remembered for the next publish. */
  async #lastSequence(key: StreamKey): Promise<number> {
    const { jsm } = await this.#ready;
    try {
      const stored = await jsm.streams.getMessage(this.#streamName, { last_by_subj: this.#subject(key) });
      const sequence = stored?.seq ?? 0;
      this.#remember(key, sequence);
      return sequence;
    } catch (error) {
      if (error instanceof JetStreamApiError && error.code === NO_MESSAGE) return 0;
      throw error;
    }
  }

  #remember(key: StreamKey, sequence: number): void {
    this.#lastPublished.delete(key);
    this.#lastPublished.set(key, sequence);
    if (this.#lastPublished.size > MAX_REMEMBERED_STREAMS) {
      const oldest = this.#lastPublished.keys().next().value;
      if (oldest !== undefined) this.#lastPublished.delete(oldest);
    }
  }

  /** The stream's events from sequence `from` through `to`, read with an ordered consumer. */
  async #read(key: StreamKey, from: number, to: number): Promise<Delivered[]> {
    const { js } = await this.#ready;
    const consumer = await js.consumers.get(this.#streamName, {
      filter_subjects: this.#subject(key),
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: from,
    });
    const events: Delivered[] = [];
    const messages = await consumer.consume({ max_messages: 1_000 });
    // Events that expired between reading `to` and reading them would leave the loop waiting for
    // new ones: a read that hears nothing for a while is over.
    let idle = setTimeout(() => messages.stop(), REPLAY_IDLE_MS);
    try {
      for await (const message of messages) {
        clearTimeout(idle);
        idle = setTimeout(() => messages.stop(), REPLAY_IDLE_MS);
        events.push(this.#toEvent(key, message));
        // Up to the last one at the start, or past a replay's worth (then it is a gap anyway).
        if (message.seq >= to || events.length > MAX_REPLAY) break;
        if (message.info.pending === 0) break;
      }
    } finally {
      clearTimeout(idle);
      messages.stop();
    }
    return events;
  }

  /**
   * Makes an ordered consumer of the stream: the first time from just after the stream's last event,
   * later from just after the last event this node delivered. Undefined once no longer followed.
   */
  async #open(key: StreamKey, following: Following, first: boolean): Promise<ConsumerMessages | undefined> {
    const { js } = await this.#ready;
    const delivered = first ? undefined : this.#lastSeen.get(key);
    const from = (delivered ?? (await this.#lastSequence(key))) + 1;
    if (this.#closed || this.#followed.get(key) !== following) return undefined;
    if (delivered === undefined) this.#lastSeen.set(key, from - 1);
    const consumer = await js.consumers.get(this.#streamName, {
      filter_subjects: this.#subject(key),
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: from,
    });
    const messages = await consumer.consume();
    if (this.#followed.get(key) !== following) {
      messages.stop(); // unfollowed meanwhile
      return undefined;
    }
    following.messages = messages;
    return messages;
  }

  /** Delivers a consumer's events until it ends, then makes another while the stream is followed. */
  async #drain(key: StreamKey, following: Following, messages: ConsumerMessages): Promise<void> {
    try {
      for await (const message of messages) {
        if (this.#followed.get(key) !== following) break;
        this.#receivedEvents++;
        this.#receivedBytes += message.data.length;
        this.#deliver(this.#toEvent(key, message));
      }
    } catch (error) {
      this.#report({ connected: this.#connected, error: error as Error });
    }
    await this.#resume(key, following);
  }

  /** Makes the stream's consumer again (after a pause, and again until it works) while it is followed. */
  async #resume(key: StreamKey, following: Following): Promise<void> {
    while (this.#followed.get(key) === following && !this.#closed) {
      await new Promise((resolve) => setTimeout(resolve, RESUME_MS).unref());
      try {
        const messages = await this.#open(key, following, false);
        if (messages !== undefined) void this.#drain(key, following, messages);
        return;
      } catch (error) {
        this.#report({ connected: this.#connected, error: error as Error });
      }
    }
  }

  /** Hands an event to this node's listeners once: a sequence at or below the last delivered is a repeat. */
  #deliver(event: Delivered): void {
    const last = this.#lastSeen.get(event.key);
    const sequence = Number(event.id);
    if (last !== undefined && sequence <= last) return;
    this.#lastSeen.set(event.key, sequence);
    for (const listener of this.#listeners) listener({ key: event.key, id: event.id, value: event.value });
  }

  #toEvent(key: StreamKey, message: JsMsg): Delivered {
    return {
      key,
      id: String(message.seq),
      value: message.json<WireValue>(),
      previous: Number(message.headers?.get(PREVIOUS) ?? 0),
    };
  }

  #report(status: BrokerStatus): void {
    for (const listener of this.#statusListeners) listener(status);
  }
}

/** A JetStream sequence from an id, or undefined for an id that is not one. */
function sequenceOf(id: string): number | undefined {
  if (!/^\d{1,15}$/.test(id)) return undefined;
  return Number(id);
}

/**
 * The NATS JetStream broker, for several server nodes sharing events and history.
 *
 * @example
 * import { natsBroker } from '@wirecall/server/nats';
 * const server = createServer(api, { handlers, broker: natsBroker({ servers: process.env.NATS_URL }) });
 */
export function natsBroker(options: NatsBrokerOptions = {}): NatsBroker {
  return new NatsBroker(options);
}
