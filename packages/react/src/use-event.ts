import { skipToken, type SkipToken } from '@tanstack/react-query';
import { isWirecallError, type EventHandler, type EventMeta, type WirecallClient } from '@wirecall/client';
import type { AnyContract, EventName, inferParams, WirecallError } from '@wirecall/core';
import { useEffect } from 'react';
import { canonicalText } from './query-key.js';
import { useLatest } from './use-latest.js';

/** What `useEvent` takes after the handler. */
export interface UseEventOptions {
  /** Subscribe only while true. @default true */
  enabled?: boolean;
  /**
   * Events were missed and could not be replayed (the server's history did not reach back far
   * enough, or it restarted): refetch what the stream describes.
   */
  onGap?: () => void;
  /**
   * The server refused the subscription, a payload failed the contract, or the params were
   * invalid. Without it, invalid params throw (to the nearest error boundary).
   */
  onError?: (error: WirecallError) => void;
}

/**
 * The arguments of `useEvent` after the name, as `client.on` takes them: params first for events
 * that declare them (`skipToken` to hold the subscription until there are some).
 */
export type UseEventArgs<TContract extends AnyContract, TName extends EventName<TContract>> =
  inferParams<TContract, TName> extends undefined
    ? [handler: EventHandler<TContract, TName>, options?: UseEventOptions]
    : [
        params: inferParams<TContract, TName> | SkipToken,
        handler: EventHandler<TContract, TName>,
        options?: UseEventOptions,
      ];

/** One subscription as `subscribeEvent` makes it. */
export interface EventSubscription {
  name: string;
  /** Whether the event declares params (then `params` is passed to `client.on`). */
  withParams: boolean;
  params: unknown;
  handler: (payload: never, meta: EventMeta) => void;
  onGap: () => void;
  /** Where refusals go; undefined: an invalid subscription throws. */
  onError: ((error: WirecallError) => void) | undefined;
}

type AnyOn = (name: string, ...args: unknown[]) => () => void;

/** `client.on(...)` for a subscription whose shape is known only at run time; returns the unsubscribe. */
export function subscribeEvent(client: WirecallClient<AnyContract>, subscription: EventSubscription): () => void {
  const { name, withParams, params, handler, onGap, onError } = subscription;
  const options = { onGap, onError: (error: WirecallError) => onError?.(error) };
  try {
    const on = client.on.bind(client) as AnyOn;
    return withParams ? on(name, params, handler, options) : on(name, handler, options);
  } catch (error) {
    // Params that fail the contract (BAD_REQUEST) or an unknown event (NOT_FOUND), thrown by `on`.
    if (onError === undefined || !isWirecallError(error)) throw error;
    onError(error);
    return () => {};
  }
}

/** The params of an event hook's arguments and what follows them. */
export function splitParams(args: readonly unknown[], withParams: boolean): { params: unknown; rest: unknown[] } {
  return withParams ? { params: args[0], rest: args.slice(1) } : { params: undefined, rest: [...args] };
}

/**
 * `useEvent`, given the provider's client. The subscription lives as long as the component with the
 * same name and params (compared by value, so a new params object each render changes nothing):
 *
 * ```
 *  mount ──► client.on ──► events ──► handler (the latest one passed: a ref, no resubscribe)
 *  params change (by value) ──► off, client.on with the new params
 *  unmount, enabled: false, params skipToken ──► off
 * ```
 *
 * Under StrictMode the effect runs twice on mount: subscribe, unsubscribe, subscribe. The client
 * keeps one subscription per stream, so the server sees a `sub`, an `unsub` and a `sub`, and the
 * handler is registered once.
 */
export function useEventWith(client: WirecallClient<AnyContract> | undefined, name: string, args: unknown[]): void {
  const withParams = typeof args[0] !== 'function';
  const { params, rest } = splitParams(args, withParams);
  const [handler, options] = rest as [(payload: never, meta: EventMeta) => void, UseEventOptions | undefined];
  const handlerRef = useLatest(handler);
  const optionsRef = useLatest(options);
  const paramsRef = useLatest(params);
  const active = client !== undefined && params !== skipToken && options?.enabled !== false;
  const key = active ? canonicalText(params) : undefined;

  useEffect(() => {
    if (key === undefined || client === undefined) return undefined;
    return subscribeEvent(client, {
      name,
      withParams,
      params: paramsRef.current,
      handler: (payload, meta) => handlerRef.current(payload, meta),
      onGap: () => optionsRef.current?.onGap?.(),
      onError: optionsRef.current?.onError === undefined ? undefined : (error) => optionsRef.current?.onError?.(error),
    });
    // The refs hold the latest handler, options and params (params equal to `key`'s by value).
  }, [client, name, key, withParams, handlerRef, optionsRef, paramsRef]);
}
