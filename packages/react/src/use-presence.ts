import { skipToken, type SkipToken } from '@tanstack/react-query';
import { isWirecallError, type WirecallClient } from '@wirecall/client';
import type { Presence, PresenceMember } from '@wirecall/client/presence';
import type { AnyContract, inferParams, inferPresenceInput, PresenceEventName, WirecallError } from '@wirecall/core';
import { useCallback, useEffect, useState, useSyncExternalStore } from 'react';
import { canonicalText } from './query-key.js';
import { useLatest } from './use-latest.js';

/** What `usePresence` takes: the stream's params (for events that declare them), and this client's data. */
export type UsePresenceOptions<TContract extends AnyContract, TName extends PresenceEventName<TContract>> = {
  /**
   * Join with this data while the component is mounted (leave on unmount); a change by value
   * updates it, `undefined` leaves. Without it the component only observes.
   */
  join?: inferPresenceInput<TContract, TName>;
  /** Observe only while true. @default true */
  enabled?: boolean;
  /** Observing or joining was refused (`FORBIDDEN`, `BAD_REQUEST`), or member data failed the contract. */
  onError?: (error: WirecallError) => void;
} & (inferParams<TContract, TName> extends undefined
  ? { params?: undefined }
  : {
      /** The stream's params (`{ room }`), or `skipToken` to wait. */
      params: inferParams<TContract, TName> | SkipToken;
    });

/** The arguments after the name: the options are required when they carry params. */
export type UsePresenceArgs<TContract extends AnyContract, TName extends PresenceEventName<TContract>> =
  inferParams<TContract, TName> extends undefined
    ? [options?: UsePresenceOptions<TContract, TName>]
    : [options: UsePresenceOptions<TContract, TName>];

/** Who is in a stream, as the component sees it. */
export interface PresenceState<TData> {
  /** The members the client knows (up to the server's `maxMembers`, then whoever joins). */
  readonly members: readonly PresenceMember<TData>[];
  /** How many members there are, exactly. */
  readonly count: number;
  /** This client's own member key, once the first sync arrived (undefined before). */
  readonly me: string | undefined;
  /** Whether this client has joined. */
  readonly joined: boolean;
  /** The last refusal (observing or joining), or null. */
  readonly error: WirecallError | null;
}

/** `usePresence`'s result: the state, and joining or leaving by hand. */
export type UsePresenceResult<TData, TJoin> = PresenceState<TData> & {
  /** Joins (or updates this client's data), as the `join` option does. */
  join(data: TJoin): void;
  /** Leaves; observing goes on. */
  leave(): void;
};

type AnyPresence = Presence<unknown, unknown>;
type AnyState = PresenceState<unknown>;

const NOBODY: AnyState = { members: [], count: 0, me: undefined, joined: false, error: null };

function stateOf(room: AnyPresence, error: WirecallError | null): AnyState {
  return { members: [...room.members.values()], count: room.count, me: room.me, joined: room.joined, error };
}

/**
 * One stream's presence, shared by every component of the app that uses it: `client.presence`
 * gives one `Presence` per stream, and closing it would end it for all, so the lease counts its
 * users and closes it when the last one is gone. It closes a microtask later, so StrictMode's
 * unmount and mount again (synchronous) keep the same presence, with no leave and join in between.
 */
class PresenceLease {
  readonly room: AnyPresence;
  refs = 0;
  /** The join data (canonical text) this client is in the room with, and the hook that joined. */
  joinedText: string | undefined;
  joinedBy: object | undefined;
  #state: AnyState = NOBODY;
  #error: WirecallError | null = null;
  readonly #listeners = new Set<() => void>();
  readonly #errorListeners = new Set<(error: WirecallError) => void>();

  constructor(open: (onError: (error: WirecallError) => void) => AnyPresence) {
    this.room = open((error) => {
      this.#error = error;
      this.changed();
      for (const listener of this.#errorListeners) listener(error);
    });
    this.#state = stateOf(this.room, null);
    this.room.subscribe(() => this.changed());
  }

  readonly subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  readonly getSnapshot = (): AnyState => this.#state;

  onError(listener: (error: WirecallError) => void): () => void {
    this.#errorListeners.add(listener);
    return () => this.#errorListeners.delete(listener);
  }

  changed(): void {
    this.#state = stateOf(this.room, this.#error);
    for (const listener of this.#listeners) listener();
  }
}

const leases = new WeakMap<object, Map<string, PresenceLease>>();

interface LeaseRequest {
  client: WirecallClient<AnyContract>;
  name: string;
  withParams: boolean;
  params: unknown;
}

type AnyPresenceCall = (name: string, ...args: unknown[]) => AnyPresence;

/** Takes a share of the stream's presence; the returned function gives it back. */
function acquire({ client, name, withParams, params }: LeaseRequest): [PresenceLease, () => void] {
  let byKey = leases.get(client);
  if (byKey === undefined) leases.set(client, (byKey = new Map<string, PresenceLease>()));
  const key = `${name} ${canonicalText(params)}`;
  let lease = byKey.get(key);
  if (lease === undefined) {
    const open = client.presence.bind(client) as AnyPresenceCall;
    lease = new PresenceLease((onError) => (withParams ? open(name, params, { onError }) : open(name, { onError })));
    byKey.set(key, lease);
  }
  const held = lease;
  held.refs++;
  let released = false;
  return [
    held,
    () => {
      if (released) return;
      released = true;
      held.refs--;
      queueMicrotask(() => {
        if (held.refs > 0 || byKey.get(key) !== held) return;
        byKey.delete(key);
        held.room.close();
      });
    },
  ];
}

/**
 * `usePresence`, given the provider's client: observes the stream's members while the component
 * is mounted (one observation per stream for the whole app), joins with `join` when given.
 */
export function usePresenceWith(
  client: WirecallClient<AnyContract> | undefined,
  name: string,
  options: UsePresenceOptions<AnyContract, string> | undefined,
): UsePresenceResult<unknown, unknown> {
  const withParams = options !== undefined && 'params' in options;
  const params = options?.params;
  const active = client !== undefined && params !== skipToken && options?.enabled !== false;
  const key = active ? canonicalText(params) : undefined;
  const optionsRef = useLatest(options);
  const paramsRef = useLatest(params);
  const [lease, setLease] = useState<PresenceLease | undefined>(undefined);
  // This hook's identity, to tell whether it is the one that joined.
  const [self] = useState(() => ({}));

  useEffect(() => {
    if (key === undefined || client === undefined) return undefined;
    let acquired: [PresenceLease, () => void];
    try {
      acquired = acquire({ client, name, withParams, params: paramsRef.current });
    } catch (error) {
      // Params that fail the contract (BAD_REQUEST), thrown by `client.presence`.
      const onError = optionsRef.current?.onError;
      if (onError === undefined || !isWirecallError(error)) throw error;
      onError(error);
      return undefined;
    }
    const [held, release] = acquired;
    const offError = held.onError((error) => optionsRef.current?.onError?.(error));
    setLease(held);
    return () => {
      offError();
      release();
      setLease((current) => (current === held ? undefined : current));
    };
  }, [client, name, key, withParams, optionsRef, paramsRef]);

  const join = options?.join;
  const joinText = join === undefined ? undefined : canonicalText(join);
  useEffect(() => {
    if (lease === undefined) return;
    if (joinText === undefined) {
      if (lease.joinedBy === self && lease.joinedText !== undefined) {
        lease.room.leave();
        lease.joinedText = undefined;
        lease.changed();
      }
      return;
    }
    if (lease.joinedText === joinText) return;
    lease.room.join(optionsRef.current?.join);
    lease.joinedText = joinText;
    lease.joinedBy = self;
    lease.changed();
  }, [lease, joinText, self, optionsRef]);

  const subscribe = useCallback(
    (listener: () => void) => (lease === undefined ? () => {} : lease.subscribe(listener)),
    [lease],
  );
  const getSnapshot = useCallback(() => lease?.getSnapshot() ?? NOBODY, [lease]);
  const state = useSyncExternalStore(subscribe, getSnapshot, () => NOBODY);

  const joinNow = useCallback(
    (data: unknown) => {
      if (lease === undefined) return;
      lease.room.join(data);
      lease.joinedText = canonicalText(data);
      lease.joinedBy = self;
      lease.changed();
    },
    [lease, self],
  );
  const leave = useCallback(() => {
    if (lease === undefined) return;
    lease.room.leave();
    lease.joinedText = undefined;
    lease.changed();
  }, [lease]);
  return { ...state, join: joinNow, leave };
}
