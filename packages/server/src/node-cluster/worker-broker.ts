import cluster from 'node:cluster';
import type { StreamKey, WireValue } from '@wirecall/core/internal';
import type { Broker, BrokerListener, BrokerTraffic, ReplayResult } from '../broker/broker.js';
import type { Outcome } from '../router/idempotency-cache.js';
import type { Claim, SharedIdempotency } from '../router/shared-idempotency.js';
import type {
  PresenceEntry,
  PresenceListener,
  PresencePage,
  PresenceStore,
  SignalBus,
} from '../presence/presence-store.js';
import { isWirecallMessage, type BrokerOp, type BrokerPush, type BrokerReply } from './ipc-messages.js';

export interface WorkerBrokerOptions {
  /** How often a retry checks on a call another worker runs. @default 50 */
  idempotencyPollMs?: number;
  /** The lease of an idempotency key: match the primary's `idempotencyLeaseMs`. @default 10_000 */
  idempotencyLeaseMs?: number;
}

/**
 * The broker of a node:cluster worker: every operation runs in the primary's shared broker (see
 * `setupPrimary`), asked over IPC; the primary pushes the events of the streams this worker
 * follows, presence notices and signals. Several server processes on one port then share events,
 * history, presence, pushes and idempotency keys without Redis.
 */
export class WorkerBroker implements Broker {
  readonly #listeners = new Set<BrokerListener>();
  readonly #presenceListeners = new Set<PresenceListener>();
  readonly #signalListeners = new Set<(message: string) => void>();
  readonly #pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  readonly #onMessage: (message: unknown) => void;
  readonly #ready: Promise<string>;
  #nextId = 0;
  #epoch = '';
  #receivedEvents = 0;
  #receivedBytes = 0;
  readonly presence: PresenceStore;
  readonly signals: SignalBus;
  readonly idempotency: SharedIdempotency;

  constructor(options: WorkerBrokerOptions = {}) {
    if (!cluster.isWorker || process.send === undefined) {
      throw new Error('wirecall: workerBroker() runs in a node:cluster worker (see setupPrimary)');
    }
    this.#onMessage = (message) => this.#receive(message);
    process.on('message', this.#onMessage);
    this.#ready = this.#ask<string>('hello').then((id) => (this.#epoch = id.slice(0, id.lastIndexOf(':'))));
    this.#ready.catch(() => {}); // reported by the operations that wait for it
    const ask = <T>(op: BrokerOp, ...args: unknown[]): Promise<T> => this.#ask<T>(op, ...args);
    this.presence = {
      set: (key: StreamKey, entry: PresenceEntry, leaseMs: number) => ask('presence.set', key, entry, leaseMs),
      refresh: (key: StreamKey, conns: readonly string[], leaseMs: number) =>
        ask('presence.refresh', key, conns, leaseMs),
      remove: (key: StreamKey, conn: string) => ask('presence.remove', key, conn),
      sweep: (key: StreamKey) => ask('presence.sweep', key),
      list: (key: StreamKey, page: { limit: number; cursor?: string | undefined }) =>
        ask<PresencePage>('presence.list', key, page),
      listen: (listener: PresenceListener) => this.#add(this.#presenceListeners, listener),
    };
    this.signals = {
      send: (message: string) => ask('signal', message),
      listen: (listener: (message: string) => void) => this.#add(this.#signalListeners, listener),
    };
    this.idempotency = {
      leaseMs: options.idempotencyLeaseMs ?? 10_000,
      pollMs: options.idempotencyPollMs ?? 50,
      claim: (key: string) => ask<Claim>('idem.claim', key),
      renew: (key: string) => ask('idem.renew', key),
      complete: (key: string, outcome: Outcome, windowMs: number) => ask('idem.complete', key, outcome, windowMs),
      release: (key: string) => ask('idem.release', key),
    };
  }

  /** Resolves once the primary answered: its broker is there. */
  async ready(): Promise<void> {
    await this.#ready;
  }

  get received(): BrokerTraffic {
    return { events: this.#receivedEvents, bytes: this.#receivedBytes };
  }

  publish(key: StreamKey, value: WireValue): Promise<string> {
    return this.#ask('publish', key, value);
  }

  listen(listener: BrokerListener): () => void {
    return this.#add(this.#listeners, listener);
  }

  async follow(key: StreamKey): Promise<void> {
    await this.#ask('follow', key);
  }

  unfollow(key: StreamKey): void {
    this.#ask('unfollow', key).catch(() => {}); // the primary is gone: it pushes nothing anyway
  }

  replay(key: StreamKey, afterId: string): Promise<ReplayResult> {
    return this.#ask('replay', key, afterId);
  }

  lastId(key: StreamKey): Promise<string | undefined> {
    return this.#ask('lastId', key);
  }

  /** The primary's memory broker's order: sequence within its epoch; other epochs' ids are older. */
  compareIds(a: string, b: string): number {
    return (this.#sequenceOf(a) ?? -1) - (this.#sequenceOf(b) ?? -1);
  }

  close(): Promise<void> {
    process.off('message', this.#onMessage);
    this.#listeners.clear();
    this.#presenceListeners.clear();
    this.#signalListeners.clear();
    for (const { reject } of this.#pending.values()) reject(new Error('the worker broker was closed'));
    this.#pending.clear();
    return Promise.resolve();
  }

  #sequenceOf(id: string): number | undefined {
    const separator = id.lastIndexOf(':');
    if (this.#epoch === '' || id.slice(0, separator) !== this.#epoch) return undefined;
    const sequence = Number(id.slice(separator + 1));
    return Number.isSafeInteger(sequence) ? sequence : undefined;
  }

  #ask<T>(op: BrokerOp, ...args: unknown[]): Promise<T> {
    return new Promise((resolve, reject) => {
      const id = ++this.#nextId;
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      process.send!({ wirecall: 1, id, op, args }, undefined, {}, (error: Error | null) => {
        if (error === null) return;
        this.#pending.delete(id);
        reject(error);
      });
    });
  }

  #receive(message: unknown): void {
    if (!isWirecallMessage(message)) return;
    if ('push' in message) return this.#pushed(message as BrokerPush);
    const reply = message as BrokerReply;
    const pending = this.#pending.get(reply.id);
    this.#pending.delete(reply.id);
    if (reply.ok) pending?.resolve(reply.value);
    else pending?.reject(new Error(reply.error ?? 'the primary failed'));
  }

  #pushed(message: BrokerPush): void {
    switch (message.push) {
      case 'event':
        this.#receivedEvents++;
        this.#receivedBytes += message.bytes;
        for (const listener of this.#listeners) listener(message.event);
        return;
      case 'presence':
        for (const listener of this.#presenceListeners) listener(message.key, message.notice);
        return;
      case 'signal':
        for (const listener of this.#signalListeners) listener(message.message);
    }
  }

  #add<T>(set: Set<T>, item: T): () => void {
    set.add(item);
    return () => set.delete(item);
  }
}

/**
 * The broker of a node:cluster worker; the primary runs `setupPrimary()`.
 *
 * @example
 * import cluster from 'node:cluster';
 * import { availableParallelism } from 'node:os';
 * import { setupPrimary, workerBroker } from '@wirecall/server/node-cluster';
 * if (cluster.isPrimary) {
 *   setupPrimary({ history: { maxEvents: 1_000 } });
 *   for (let i = 0; i < availableParallelism(); i++) cluster.fork();
 * } else {
 *   await createServer(api, { handlers, broker: workerBroker() }).listen({ port: 3000 });
 * }
 */
export function workerBroker(options: WorkerBrokerOptions = {}): WorkerBroker {
  return new WorkerBroker(options);
}
