import cluster, { type Worker } from 'node:cluster';
import type { StreamKey } from '@wirecall/core/internal';
import type { BrokerEvent } from '../broker/broker.js';
import { MemoryBroker, type HistoryOptions } from '../broker/memory-broker.js';
import { MemoryIdempotency } from '../broker/memory-idempotency.js';
import type { Outcome } from '../router/idempotency-cache.js';
import type { PresenceEntry } from '../presence/presence-store.js';
import { isWirecallMessage, type BrokerPush, type BrokerReply, type BrokerRequest } from './ipc-messages.js';

export interface PrimaryOptions {
  /** Recent events kept per stream, for clients that resume on any worker. */
  history?: HistoryOptions;
  /** The lease of an idempotency key while a worker runs its call. @default 10_000 */
  idempotencyLeaseMs?: number;
}

/** The in-machine broker, running in the primary: stop it to release its listeners. */
export interface Primary {
  stop(): void;
}

/**
 * Runs the shared broker of a node:cluster deployment in the primary process: one memory broker
 * (event ids, history), presence, signals and idempotency keys for every worker, each worker's
 * `workerBroker()` asking it over IPC. An event goes only to the workers that follow its stream.
 * Call it before forking; the workers run `createServer(api, { broker: workerBroker() })` on one port.
 */
export function setupPrimary(options: PrimaryOptions = {}): Primary {
  if (!cluster.isPrimary) throw new Error('wirecall: setupPrimary() runs in the node:cluster primary');
  const broker = new MemoryBroker(options.history === undefined ? {} : { history: options.history });
  const idempotency = new MemoryIdempotency(options.idempotencyLeaseMs ?? 10_000);
  /** Which workers follow which stream. */
  const followers = new Map<StreamKey, Set<Worker>>();

  const push = (worker: Worker, message: BrokerPush): void => {
    if (worker.isConnected()) worker.send(message);
  };
  const broadcast = (message: BrokerPush): void => {
    for (const worker of Object.values(cluster.workers ?? {})) if (worker !== undefined) push(worker, message);
  };
  const stopEvents = broker.listen((event: BrokerEvent) => {
    const workers = followers.get(event.key);
    if (workers === undefined) return;
    // Measured once here, not by each worker again: what `stats().broker.received.bytes` counts.
    const message: BrokerPush = { wirecall: 1, push: 'event', event, bytes: JSON.stringify(event.value).length };
    for (const worker of workers) push(worker, message);
  });
  const stopPresence = broker.presence.listen((key, notice) =>
    broadcast({ wirecall: 1, push: 'presence', key, notice }),
  );

  /** Runs one request of `worker`; what it returns is the reply's value. */
  const run = (worker: Worker, { op, args }: BrokerRequest): unknown => {
    const holder = String(worker.id);
    switch (op) {
      case 'hello':
        return broker.lastId('\u0000epoch'); // an id of this broker's epoch: the worker orders ids with it
      case 'publish':
        return broker.publish(args[0] as StreamKey, args[1] as never);
      case 'replay':
        return broker.replay(args[0] as StreamKey, args[1] as string);
      case 'lastId':
        return broker.lastId(args[0] as StreamKey);
      case 'follow': {
        const key = args[0] as StreamKey;
        let workers = followers.get(key);
        if (workers === undefined) followers.set(key, (workers = new Set()));
        workers.add(worker);
        return undefined; // answered before any later event is pushed: the channel keeps order
      }
      case 'unfollow': {
        const key = args[0] as StreamKey;
        followers.get(key)?.delete(worker);
        if (followers.get(key)?.size === 0) followers.delete(key);
        return undefined;
      }
      case 'presence.set':
        return broker.presence.set(args[0] as StreamKey, args[1] as PresenceEntry, args[2] as number);
      case 'presence.refresh':
        return broker.presence.refresh(args[0] as StreamKey, args[1] as string[], args[2] as number);
      case 'presence.remove':
        return broker.presence.remove(args[0] as StreamKey, args[1] as string);
      case 'presence.sweep':
        return broker.presence.sweep(args[0] as StreamKey);
      case 'presence.list':
        return broker.presence.list(args[0] as StreamKey, args[1] as { limit: number; cursor?: string });
      case 'signal':
        broadcast({ wirecall: 1, push: 'signal', message: args[0] as string });
        return undefined;
      case 'idem.claim':
        return idempotency.claim(holder, args[0] as string);
      case 'idem.renew':
        return idempotency.renew(holder, args[0] as string);
      case 'idem.complete':
        return idempotency.complete(holder, args[0] as string, {
          outcome: args[1] as Outcome,
          windowMs: args[2] as number,
        });
      case 'idem.release':
        return idempotency.release(holder, args[0] as string);
    }
  };

  const onMessage = (worker: Worker, message: unknown): void => {
    if (!isWirecallMessage(message) || !('op' in message)) return;
    const request = message as BrokerRequest;
    const reply = (answer: Omit<BrokerReply, 'wirecall' | 'id'>): void => {
      if (worker.isConnected()) worker.send({ wirecall: 1, id: request.id, ...answer } satisfies BrokerReply);
    };
    Promise.resolve()
      .then(() => run(worker, request))
      .then(
        (value) => reply({ ok: true, value }),
        (error: unknown) => reply({ ok: false, error: error instanceof Error ? error.message : String(error) }),
      );
  };
  /** A worker that died follows nothing any more. */
  const onExit = (worker: Worker): void => {
    for (const [key, workers] of followers) {
      workers.delete(worker);
      if (workers.size === 0) followers.delete(key);
    }
  };
  cluster.on('message', onMessage);
  cluster.on('exit', onExit);
  return {
    stop() {
      cluster.off('message', onMessage);
      cluster.off('exit', onExit);
      stopEvents();
      stopPresence();
      void broker.close();
    },
  };
}
