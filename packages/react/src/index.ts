/**
 * @module @wirecall/react: wirecall in React, on TanStack Query. Calls are queries and mutations
 * (`useQuery(wc.users.get.queryOptions({ id }))`), events keep the cache fresh (`useEventToQuery`),
 * and hooks follow events, streams, presence and the connection. See docs/react.md.
 */
export { createWirecallContext, type WirecallContext, type WirecallProviderProps } from './context.js';
export { createWirecallOptions, type ServerCaller, type WirecallSource } from './create-options.js';
export { deserializeData, serializeData } from './hydration.js';
export type {
  CallSettings,
  DecoratedProcedure,
  FiltersWithoutKey,
  KeyPrefixHelpers,
  MutationOptionsIn,
  MutationOptionsOut,
  PartialInput,
  QueryProcedure,
  StreamOptionsIn,
  StreamProcedure,
  StreamSettings,
  WirecallDataKey,
  WirecallMutationOptions,
  WirecallOptions,
  WirecallOptionsResult,
  WirecallQueryOptions,
  WirecallStreamOptions,
} from './options-types.js';
export {
  canonicalInput,
  KEY_PREFIX,
  type QueryKeyArgs,
  type WirecallMutationKey,
  type WirecallQueryKey,
} from './query-key.js';
export type { UseEventArgs, UseEventOptions } from './use-event.js';
export type { EventQueryBinding, UseEventToQueryArgs } from './use-event-to-query.js';
export { useStream, type StreamState, type StreamStatus, type UseStreamResult } from './use-stream.js';
export type { PresenceState, UsePresenceArgs, UsePresenceOptions, UsePresenceResult } from './use-presence.js';
export type { ConnectionState, UseConnectionOptions } from './use-connection.js';
