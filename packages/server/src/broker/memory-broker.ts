import type { StreamKey, WireValue } from '@wirecall/core/internal';
import { MemoryPresence, MemorySignals } from '../presence/memory-presence.js';
import type { Broker, BrokerEvent, BrokerListener, ReplayResult } from './broker.js';
import { SERVER_DEFAULTS } from '../options.js';

/** How much recent history a broker keeps per stream, for clients that resume after a drop. */
export interface HistoryOptions {
  /** Events kept per stream. @default 1_000 */
  maxEvents?: number;
  /** Events older than this are dropped. @default 300_000 (5 minutes) */
  maxAgeMs?: number;
}

interface StoredEvent extends BrokerEvent {
  seq: number;
  at: number;
}

interface Stream {
  seq: number;
  events: StoredEvent[];
  /** Index of the oldest kept event; trimming moves it instead of shifting the array. */
  head: number;
}

export interface MemoryBrokerOptions {
  history?: HistoryOptions;
  /** Clock, injectable for tests. @default Date.now */
  now?: () => number;
}

/**
 * The default broker: one process, no setup. Ids are `<epoch>:<seq>`; the epoch changes with every
 * broker instance, so a client resuming with an id from a previous process (whose history died with
 * it) is told about the gap instead of being matched against unrelated sequence numbers.
 */
export class MemoryBroker implements Broker {
  readonly #streams = new Map<StreamKey, Stream>();
  readonly #listeners = new Set<BrokerListener>();
  readonly #epoch = `${Date.now().toString(36)}${Math.floor(Math.random() * 36 ** 4).toString(36)}`;
  readonly #maxEvents: number;
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  readonly presence: MemoryPresence;
  readonly signals = new MemorySignals();

  constructor(options: MemoryBrokerOptions = {}) {
    this.#maxEvents = options.history?.maxEvents ?? SERVER_DEFAULTS.history.maxEvents;
    this.#maxAgeMs = options.history?.maxAgeMs ?? SERVER_DEFAULTS.history.maxAgeMs;
    this.#now = options.now ?? Date.now;
    this.presence = new MemoryPresence(this.#now);
  }

  publish(key: StreamKey, value: WireValue): Promise<string> {
    let stream = this.#streams.get(key);
    if (stream === undefined) {
      stream = { seq: 0, events: [], head: 0 };
      this.#streams.set(key, stream);
    }
    const seq = ++stream.seq;
    const event: StoredEvent = { key, id: `${this.#epoch}:${seq}`, value, seq, at: this.#now() };
    if (this.#maxEvents > 0) {
      stream.events.push(event);
      this.#trim(stream);
    }
    // One failing listener must not keep the event from the others; the emitter hears of it.
    let failure: unknown;
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        failure ??= error;
      }
    }
    if (failure === undefined) return Promise.resolve(event.id);
    return Promise.reject(
      failure instanceof Error ? failure : new Error('a broker listener threw', { cause: failure }),
    );
  }

  listen(listener: BrokerListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  replay(key: StreamKey, afterId: string): Promise<ReplayResult> {
    const stream = this.#streams.get(key);
    const after = this.#parseId(afterId);
    if (stream) this.#trim(stream);
    const kept = stream ? this.#kept(stream) : [];
    const oldest = kept[0]?.seq ?? (stream?.seq ?? 0) + 1;
    // An id from another epoch (a previous process) or from the future cannot be located.
    if (after === undefined || after > (stream?.seq ?? 0)) {
      return Promise.resolve({ events: kept, gap: true, resumeFrom: `${this.#epoch}:${oldest - 1}` });
    }
    const events = kept.filter((event) => event.seq > after);
    const gap = after < oldest - 1;
    return Promise.resolve(gap ? { events, gap, resumeFrom: `${this.#epoch}:${oldest - 1}` } : { events, gap });
  }

  lastId(key: StreamKey): Promise<string | undefined> {
    const stream = this.#streams.get(key);
    // A stream without events still has a position (its beginning): a client that drops before the
    // first event resumes from there and misses nothing.
    return Promise.resolve(`${this.#epoch}:${stream?.seq ?? 0}`);
  }

  /** Sequence order within this broker's epoch; ids of other epochs are older than any of ours. */
  compareIds(a: string, b: string): number {
    const left = this.#parseId(a) ?? -1;
    const right = this.#parseId(b) ?? -1;
    return left - right;
  }

  close(): Promise<void> {
    this.#listeners.clear();
    this.#streams.clear();
    this.presence.clear();
    this.signals.clear();
    return Promise.resolve();
  }

  #parseId(id: string): number | undefined {
    const separator = id.lastIndexOf(':');
    if (id.slice(0, separator) !== this.#epoch) return undefined;
    const seq = Number(id.slice(separator + 1));
    return Number.isSafeInteger(seq) && seq >= 0 ? seq : undefined;
  }

  #kept(stream: Stream): StoredEvent[] {
    return stream.events.slice(stream.head);
  }

  #trim(stream: Stream): void {
    const cutoff = this.#now() - this.#maxAgeMs;
    const { events } = stream;
    while (stream.head < events.length) {
      const oldest = events[stream.head];
      if (oldest === undefined || (events.length - stream.head <= this.#maxEvents && oldest.at >= cutoff)) break;
      stream.head++;
    }
    // Compact once the dead prefix dominates, so trimming stays O(1) amortised.
    if (stream.head > 64 && stream.head * 2 > events.length) {
      stream.events = events.slice(stream.head);
      stream.head = 0;
    }
  }
}

/** The in-memory broker, for one process. */
export function memoryBroker(options: MemoryBrokerOptions = {}): Broker {
  return new MemoryBroker(options);
}
