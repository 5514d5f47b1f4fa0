import type { QueryKey } from '@tanstack/react-query';
import type { WirecallClient } from '@wirecall/client';
import type { AnyContract, EventName, inferPresence, inferPresenceInput, PresenceEventName } from '@wirecall/core';
import { createContext, createElement, useContext, useMemo, type ReactNode } from 'react';
import { createWirecallOptions, type ServerCaller, type WirecallSource } from './create-options.js';
import type { WirecallOptions } from './options-types.js';
import { useConnectionWith, type ConnectionState, type UseConnectionOptions } from './use-connection.js';
import { useEventToQueryWith, type UseEventToQueryArgs } from './use-event-to-query.js';
import { useEventWith, type UseEventArgs } from './use-event.js';
import { usePresenceWith, type UsePresenceArgs, type UsePresenceResult } from './use-presence.js';

/** The provider's props: a client in the browser, or a server-side caller while rendering on the server. */
export type WirecallProviderProps<TContract extends AnyContract> = { children?: ReactNode } & (
  | {
      /** The app's client (`createClient(api, ...)`), made once, outside any component. */
      client: WirecallClient<TContract>;
      caller?: undefined;
    }
  | {
      /**
       * On the server: `server.createCaller(ctx)`. Queries run in process (for `useSuspenseQuery`
       * while streaming HTML); hooks of the socket (events, streams, presence, connection) do nothing
       * there, as effects never run on the server. No WebSocket is opened.
       */
      caller: ServerCaller<TContract>;
      client?: undefined;
    }
);

interface ContextValue {
  options: unknown;
  client: WirecallClient<AnyContract> | undefined;
}

/** What {@link createWirecallContext} returns: the provider and the contract's typed hooks. */
export interface WirecallContext<TContract extends AnyContract> {
  /** Makes the client (or, on the server, the caller) available to the hooks below it. */
  WirecallProvider: (props: WirecallProviderProps<TContract>) => ReactNode;
  /** The contract's option factories for TanStack Query: `useQuery(useWirecall().users.get.queryOptions({ id }))`. */
  useWirecall: () => WirecallOptions<TContract>;
  /** The client itself (for uploads, `client.send`, `reconnect()`); throws on the server, which has none. */
  useWirecallClient: () => WirecallClient<TContract>;
  /**
   * Calls `handler` with every event of the stream `name` (and params, for events that declare
   * them) while the component is mounted. The params are compared by value; the handler can change
   * every render without resubscribing. See {@link useEventWith} for the lifecycle.
   *
   * @example
   * useEvent('message', { room }, (message) => setLast(message), { onGap: () => refetch() });
   */
  useEvent: <TName extends EventName<TContract>>(name: TName, ...args: UseEventArgs<TContract, TName>) => void;
  /**
   * Applies every event of a stream to the query cache: `update` writes the data of the queries
   * under `queryKey`; without it the event invalidates them. A gap invalidates them too.
   *
   * @example
   * useEventToQuery('message', { room }, {
   *   queryKey: wc.history.queryKey({ room }),
   *   update: (messages, message) => messages && [...messages, message],
   * });
   */
  useEventToQuery: <TName extends EventName<TContract>, TKey extends QueryKey>(
    name: TName,
    ...args: UseEventToQueryArgs<TContract, TName, TKey>
  ) => void;
  /**
   * Who is in the stream `name` (an event that declares `presence`): its members, kept current;
   * with `join`, this client is one of them while the component is mounted.
   *
   * @example
   * const room = usePresence('message', { params: { room }, join: { name } });
   * room.members.map((member) => member.data.name);
   */
  usePresence: <TName extends PresenceEventName<TContract>>(
    name: TName,
    ...args: UsePresenceArgs<TContract, TName>
  ) => UsePresenceResult<inferPresence<TContract, TName>, inferPresenceInput<TContract, TName>>;
  /**
   * The connection's state, attempt, next retry and round-trip time, re-rendering on every change:
   * for "reconnecting in 3 s…" banners.
   */
  useConnection: (options?: UseConnectionOptions) => ConnectionState;
}

/**
 * Creates the provider and the typed hooks of one contract, once per app (like tRPC's
 * `createTRPCContext`). Queries and mutations are TanStack Query's own hooks, given the options
 * that `useWirecall()` makes; the app's `QueryClientProvider` goes around the `WirecallProvider`.
 *
 * @example
 * // wirecall.ts
 * export const { WirecallProvider, useWirecall, useEvent, useEventToQuery, usePresence, useConnection } =
 *   createWirecallContext<typeof api>();
 *
 * // main.tsx
 * const client = createClient(api, { url, streams, presence });
 * const queryClient = new QueryClient();
 * root.render(
 *   <QueryClientProvider client={queryClient}>
 *     <WirecallProvider client={client}><App /></WirecallProvider>
 *   </QueryClientProvider>,
 * );
 *
 * // a component
 * const wc = useWirecall();
 * const user = useQuery(wc.users.get.queryOptions({ id }));
 */
export function createWirecallContext<TContract extends AnyContract>(): WirecallContext<TContract> {
  const Context = createContext<ContextValue | null>(null);
  Context.displayName = 'WirecallContext';

  function WirecallProvider(props: WirecallProviderProps<TContract>): ReactNode {
    const { client, caller } = props;
    const value = useMemo<ContextValue>(() => {
      // The props' union says which one is there; destructured, TypeScript no longer knows.
      const source = (client === undefined ? { caller } : { client }) as WirecallSource<TContract>;
      return { options: createWirecallOptions(source), client: client as WirecallClient<AnyContract> | undefined };
    }, [client, caller]);
    return createElement(Context.Provider, { value }, props.children);
  }

  function useValue(hook: string): ContextValue {
    const value = useContext(Context);
    if (value === null) throw new Error(`wirecall: ${hook}() must be used inside this context's <WirecallProvider>`);
    return value;
  }

  return {
    WirecallProvider,
    useWirecall: () => useValue('useWirecall').options as WirecallOptions<TContract>,
    useWirecallClient: () => {
      const { client } = useValue('useWirecallClient');
      if (client === undefined) throw new Error('wirecall: useWirecallClient() has no client on the server');
      return client as unknown as WirecallClient<TContract>;
    },
    useEvent: (name, ...args) => useEventWith(useValue('useEvent').client, name, args),
    useEventToQuery: (name, ...args) => useEventToQueryWith(useValue('useEventToQuery').client, name, args),
    usePresence: (name, ...args) => usePresenceWith(useValue('usePresence').client, name, args[0] as never) as never,
    useConnection: (options) => useConnectionWith(useValue('useConnection').client, options),
  };
}
