import type { ClientState, StateChange, WirecallClient } from '@wirecall/client';
import type { AnyContract, WirecallError } from '@wirecall/core';
import { useEffect, useSyncExternalStore } from 'react';

/** The client's connection as a component shows it ("reconnecting in 3 s…" banners, a latency badge). */
export interface ConnectionState {
  /** `connecting`, `open`, `reconnecting` or `closed` (for good). */
  readonly state: ClientState;
  /** Consecutive failed attempts (0 once open). */
  readonly attempt: number;
  /** While `reconnecting`: the wait before the next attempt, in ms. */
  readonly delayMs: number | undefined;
  /** While `reconnecting`: when the next attempt starts (`Date.now()` time), for a countdown. */
  readonly retryAt: number | undefined;
  /** The close code that ended the previous socket. */
  readonly closeCode: number | undefined;
  /** Why the connection went down, or closed for good. */
  readonly error: WirecallError | undefined;
  /** The last round-trip time measured (heartbeat or ping), in ms. */
  readonly rttMs: number | undefined;
}

/** What `useConnection` takes. */
export interface UseConnectionOptions {
  /**
   * Measure the round-trip time this often while open (one ping frame each), besides once on each
   * open. Without it, `rttMs` is the one measured on opening and whatever the client measured since
   * by the time the state changes. @default undefined
   */
  rttIntervalMs?: number;
}

/** Before any socket: what the server renders, and a client whose first connect is under way. */
const CONNECTING: ConnectionState = {
  state: 'connecting',
  attempt: 0,
  delayMs: undefined,
  retryAt: undefined,
  closeCode: undefined,
  error: undefined,
  rttMs: undefined,
};

/**
 * A client's connection state for React, one per client: it listens to `onStateChange` while any
 * component watches, and keeps the snapshot `useSyncExternalStore` reads.
 */
class ConnectionStore {
  readonly #client: WirecallClient<AnyContract>;
  #state: ConnectionState;
  readonly #listeners = new Set<() => void>();
  #off: (() => void) | undefined;

  constructor(client: WirecallClient<AnyContract>) {
    this.#client = client;
    this.#state = { ...CONNECTING, state: client.state };
  }

  readonly subscribe = (listener: () => void): (() => void) => {
    if (this.#listeners.size === 0) {
      // What happened while nobody watched: the client's state now.
      if (this.#state.state !== this.#client.state) this.#set({ ...this.#state, state: this.#client.state });
      this.#off = this.#client.onStateChange((change) => this.#changed(change));
    }
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) {
        this.#off?.();
        this.#off = undefined;
      }
    };
  };

  readonly getSnapshot = (): ConnectionState => this.#state;

  measured(rttMs: number): void {
    if (this.#state.rttMs !== rttMs) this.#set({ ...this.#state, rttMs });
  }

  #changed(change: StateChange): void {
    this.#set({
      state: change.state,
      attempt: change.attempt,
      delayMs: change.delayMs,
      retryAt: change.delayMs === undefined ? undefined : Date.now() + change.delayMs,
      closeCode: change.closeCode,
      error: change.error,
      rttMs: change.rttMs ?? this.#state.rttMs,
    });
  }

  #set(state: ConnectionState): void {
    this.#state = state;
    for (const listener of this.#listeners) listener();
  }
}

const stores = new WeakMap<object, ConnectionStore>();

function storeOf(client: WirecallClient<AnyContract>): ConnectionStore {
  let store = stores.get(client);
  if (store === undefined) stores.set(client, (store = new ConnectionStore(client)));
  return store;
}

const noStore = {
  subscribe: () => () => {},
  getSnapshot: () => CONNECTING,
};

/**
 * `useConnection`, given the provider's client. On the server (no client) it is `connecting`; in
 * the browser it follows every transition the client reports.
 */
export function useConnectionWith(
  client: WirecallClient<AnyContract> | undefined,
  options: UseConnectionOptions | undefined,
): ConnectionState {
  const store = client === undefined ? noStore : storeOf(client);
  const snapshot = useSyncExternalStore(store.subscribe, store.getSnapshot, () => CONNECTING);
  const intervalMs = options?.rttIntervalMs;
  const open = snapshot.state === 'open';

  useEffect(() => {
    if (!open || client === undefined) return undefined;
    const target = storeOf(client);
    const measure = (): void => {
      // A ping that fails (the connection dropped meanwhile) measures nothing; the state says why.
      client.ping().then(
        (rttMs) => target.measured(rttMs),
        () => {},
      );
    };
    measure();
    if (intervalMs === undefined || intervalMs <= 0) return undefined;
    const timer = setInterval(measure, intervalMs);
    return () => clearInterval(timer);
  }, [open, client, intervalMs]);

  return snapshot;
}
