import {
  skipToken,
  useQueryClient,
  type InferDataFromTag,
  type Query,
  type QueryClient,
  type QueryKey,
  type SkipToken,
} from '@tanstack/react-query';
import type { EventMeta, WirecallClient } from '@wirecall/client';
import type { AnyContract, EventName, inferParams, inferPayload, WirecallError } from '@wirecall/core';
import { useEffect } from 'react';
import { canonicalText } from './query-key.js';
import { splitParams, subscribeEvent } from './use-event.js';
import { useLatest } from './use-latest.js';

/**
 * What an event does to the query cache: `update` writes the queries under `queryKey` from the
 * event (without it, the event invalidates them, and TanStack refetches the ones on screen).
 *
 * @example
 * // the auction's new state arrives with every bid: the auction's query shows it at once
 * useEventToQuery('auctions.changed', { id }, {
 *   queryKey: wc.auctions.get.queryKey({ id }),
 *   update: (_auction, changed) => changed,
 * });
 */
export interface EventQueryBinding<TPayload, TKey extends QueryKey> {
  /**
   * The queries the event concerns: a key (typed by `wc.<procedure>.queryKey(input)`, so `update`
   * knows the data), or a function of the event that returns one (undefined: none).
   * Matched by prefix, as TanStack's filters match.
   */
  queryKey: TKey | ((payload: TPayload, meta: EventMeta) => TKey | undefined);
  /**
   * The data of a matching query after the event, from its data before (undefined while it has
   * none). Return undefined to leave it as it is. Without `update`, the event invalidates.
   */
  update?: (
    data: InferDataFromTag<unknown, TKey> | undefined,
    payload: TPayload,
    meta: EventMeta,
  ) => InferDataFromTag<unknown, TKey> | undefined;
  /** Subscribe only while true. @default true */
  enabled?: boolean;
  /**
   * Events were missed (a gap). The queries under a fixed `queryKey` are invalidated first, since
   * what they hold may be stale; this is for anything else to do.
   */
  onGap?: () => void;
  /** The server refused the subscription, or a payload failed the contract. */
  onError?: (error: WirecallError) => void;
}

/** The arguments of `useEventToQuery` after the name: params first for events that declare them. */
export type UseEventToQueryArgs<
  TContract extends AnyContract,
  TName extends EventName<TContract>,
  TKey extends QueryKey,
> =
  inferParams<TContract, TName> extends undefined
    ? [binding: EventQueryBinding<inferPayload<TContract, TName>, TKey>]
    : [
        params: inferParams<TContract, TName> | SkipToken,
        binding: EventQueryBinding<inferPayload<TContract, TName>, TKey>,
      ];

type AnyBinding = EventQueryBinding<unknown, QueryKey>;

/** What one event does to the cache. */
function applyEvent(queryClient: QueryClient, binding: AnyBinding, event: { payload: unknown; meta: EventMeta }): void {
  const { payload, meta } = event;
  const queryKey = typeof binding.queryKey === 'function' ? binding.queryKey(payload, meta) : binding.queryKey;
  if (queryKey === undefined) return;
  const update = binding.update;
  if (update === undefined) {
    void queryClient.invalidateQueries({ queryKey });
    return;
  }
  // A fetch already in flight may have been answered before this event: its data would then
  // overwrite the update with older state. Such a query fetches once more when it settles.
  const fetching = queryClient.getQueryCache().findAll({ queryKey, fetchStatus: 'fetching' });
  queryClient.setQueriesData({ queryKey }, (data: unknown) => update(data, payload, meta));
  for (const query of fetching) refetchWhenSettled(queryClient, query);
}

/** Queries with a fetch to come after the one in flight: one, however many events arrive meanwhile. */
const followUps = new WeakSet<Query>();

function refetchWhenSettled(queryClient: QueryClient, query: Query): void {
  if (followUps.has(query)) return;
  followUps.add(query);
  const settled = (): void => {
    followUps.delete(query);
    void queryClient.invalidateQueries({ queryKey: query.queryKey, exact: true });
  };
  const inFlight = query.promise;
  if (inFlight === undefined) settled();
  else inFlight.then(settled, settled);
}

/**
 * `useEventToQuery`, given the provider's client: subscribes like `useEvent` (same lifetime, params
 * by value) and applies each event to the query cache.
 *
 * Subscribe before the query first fetches, so that no event falls between the fetch and the
 * subscription: call this hook before `useQuery` in the same component (effects run in order), or
 * in a parent of the component that queries. An event that arrives while the query is fetching
 * updates it, and the query fetches once more when that fetch settles (its answer may predate the
 * event).
 */
export function useEventToQueryWith(
  client: WirecallClient<AnyContract> | undefined,
  name: string,
  args: unknown[],
): void {
  const queryClient = useQueryClient();
  const withParams = args.length > 1;
  const { params, rest } = splitParams(args, withParams);
  const binding = rest[0] as AnyBinding;
  const bindingRef = useLatest(binding);
  const paramsRef = useLatest(params);
  const active = client !== undefined && params !== skipToken && binding.enabled !== false;
  const key = active ? canonicalText(params) : undefined;

  useEffect(() => {
    if (key === undefined || client === undefined) return undefined;
    return subscribeEvent(client, {
      name,
      withParams,
      params: paramsRef.current,
      handler: (payload: unknown, meta) => applyEvent(queryClient, bindingRef.current, { payload, meta }),
      onGap: () => {
        const { queryKey, onGap } = bindingRef.current;
        if (typeof queryKey !== 'function') void queryClient.invalidateQueries({ queryKey });
        onGap?.();
      },
      onError: bindingRef.current.onError === undefined ? undefined : (error) => bindingRef.current.onError?.(error),
    });
  }, [client, queryClient, name, key, withParams, bindingRef, paramsRef]);
}
