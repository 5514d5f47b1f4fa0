import type {
  DataTag,
  DefinedInitialDataOptions,
  DistributiveOmit,
  QueryFilters,
  SkipToken,
  UndefinedInitialDataOptions,
  UnusedSkipTokenOptions,
  UseMutationOptions,
} from '@tanstack/react-query';
import type { CallOptions, CallStream } from '@wirecall/client';
import type {
  AnyContract,
  inferCallError,
  inferInput,
  inferOutput,
  inferStreamItem,
  isStreamProcedure,
  ProcedureName,
  SchemaLike,
} from '@wirecall/core';
import type { WirecallMutationKey, WirecallQueryKey } from './query-key.js';

/**
 * The types of `wc.<group>.<procedure>.queryOptions(...)` and the other option factories: TanStack
 * Query's own option types, with the key, the function and the error filled in from the contract.
 * Shaped after tRPC's `@trpc/tanstack-react-query` (`queryOptions`, `mutationOptions`, `queryKey`,
 * `queryFilter`), so that `useQuery(wc.users.get.queryOptions({ id }))` is all a component writes.
 */

/** What a call made by a query or a mutation may set; the signal comes from TanStack Query. */
export type CallSettings = Pick<CallOptions, 'timeoutMs' | 'whenOffline'>;

/** What a stream started by `useStream` may set; its signal is the hook's. */
export type StreamSettings = Pick<CallOptions, 'timeoutMs' | 'whenOffline' | 'window'>;

/** Facts about the procedure an options object calls. */
export interface WirecallOptionsResult {
  wirecall: {
    /** The procedure's wire name: `users.get`. */
    path: string;
  };
}

/** A key that tells TanStack the type of its query's data and error (`getQueryData` and friends). */
export type WirecallDataKey<TData, TError> = DataTag<WirecallQueryKey, TData, TError>;

/** The options TanStack computes itself, which `queryOptions` therefore does not take. */
type ReservedQueryOptions = 'queryKey' | 'queryFn' | 'queryHash' | 'queryKeyHashFn';

/** What the call of a query may set beside TanStack's options. */
interface QueryOptionsExtra {
  /** Settings of the call (`timeoutMs`, `whenOffline`); the call's signal is TanStack's. */
  wirecall?: CallSettings;
}

export type UndefinedQueryOptionsIn<TOutput, TData, TError> = DistributiveOmit<
  UndefinedInitialDataOptions<TOutput, TError, TData, WirecallQueryKey>,
  ReservedQueryOptions
> &
  QueryOptionsExtra;

export type UndefinedQueryOptionsOut<TOutput, TData, TError> = UndefinedInitialDataOptions<
  TOutput,
  TError,
  TData,
  WirecallQueryKey
> &
  WirecallOptionsResult & { queryKey: WirecallDataKey<TOutput, TError> };

export type DefinedQueryOptionsIn<TOutput, TData, TError> = DistributiveOmit<
  DefinedInitialDataOptions<TOutput, TError, TData, WirecallQueryKey>,
  ReservedQueryOptions
> &
  QueryOptionsExtra;

export type DefinedQueryOptionsOut<TOutput, TData, TError> = DefinedInitialDataOptions<
  TOutput,
  TError,
  TData,
  WirecallQueryKey
> &
  WirecallOptionsResult & { queryKey: WirecallDataKey<TOutput, TError> };

export type UnusedSkipTokenQueryOptionsIn<TOutput, TData, TError> = DistributiveOmit<
  UnusedSkipTokenOptions<TOutput, TError, TData, WirecallQueryKey>,
  ReservedQueryOptions
> &
  QueryOptionsExtra;

export type UnusedSkipTokenQueryOptionsOut<TOutput, TData, TError> = UnusedSkipTokenOptions<
  TOutput,
  TError,
  TData,
  WirecallQueryKey
> &
  WirecallOptionsResult & { queryKey: WirecallDataKey<TOutput, TError> };

/**
 * `wc.<procedure>.queryOptions(input, options?)`: the options of a query that calls the procedure,
 * for `useQuery`, `useSuspenseQuery`, `queryClient.fetchQuery`, `prefetchQuery` and the rest. Pass
 * `skipToken` as the input to hold the query until there is one. TanStack's `signal` reaches the
 * call, so a query nobody watches any more (or `queryClient.cancelQueries`) cancels it on the server.
 */
export interface WirecallQueryOptions<TInput, TOutput, TError> {
  <TData = TOutput>(
    input: TInput | SkipToken,
    options: DefinedQueryOptionsIn<TOutput, TData, TError>,
  ): DefinedQueryOptionsOut<TOutput, TData, TError>;
  <TData = TOutput>(
    input: TInput,
    options?: UnusedSkipTokenQueryOptionsIn<TOutput, TData, TError>,
  ): UnusedSkipTokenQueryOptionsOut<TOutput, TData, TError>;
  <TData = TOutput>(
    input: TInput | SkipToken,
    options?: UndefinedQueryOptionsIn<TOutput, TData, TError>,
  ): UndefinedQueryOptionsOut<TOutput, TData, TError>;
}

export type MutationOptionsIn<TInput, TOutput, TError, TOnMutateResult> = DistributiveOmit<
  UseMutationOptions<TOutput, TError, TInput, TOnMutateResult>,
  'mutationKey' | 'mutationFn'
> & {
  /** Settings of the call (`timeoutMs`, `whenOffline`). */
  wirecall?: CallSettings;
};

export type MutationOptionsOut<TInput, TOutput, TError, TOnMutateResult> = UseMutationOptions<
  TOutput,
  TError,
  TInput,
  TOnMutateResult
> &
  WirecallOptionsResult & { mutationKey: WirecallMutationKey };

/** `wc.<procedure>.mutationOptions(options?)`: the options of a mutation whose variables are the input. */
export type WirecallMutationOptions<TInput, TOutput, TError> = <TOnMutateResult = unknown>(
  options?: MutationOptionsIn<TInput, TOutput, TError, TOnMutateResult>,
) => MutationOptionsOut<TInput, TOutput, TError, TOnMutateResult>;

/** What `streamOptions` takes beside the input. */
export interface StreamOptionsIn<TItem, TOutput, TError> {
  /**
   * Start the stream when the hook mounts (and again when the input changes by value). `false`
   * waits for `start()`. @default true, unless the input is `skipToken`
   */
  enabled?: boolean;
  /** Every item, as it arrives. */
  onItem?: (item: TItem) => void;
  /** The final value, once the stream ended. */
  onResult?: (result: TOutput) => void;
  /** The stream failed (not called when it was cancelled). */
  onError?: (error: TError) => void;
  /** Settings of the call: `timeoutMs` (the wait for each item), `whenOffline`, `window` (credits). */
  wirecall?: StreamSettings;
}

/** `streamOptions(...)`'s result, for `useStream`. */
export interface WirecallStreamOptions<TInput, TItem, TOutput, TError>
  extends Omit<StreamOptionsIn<TItem, TOutput, TError>, 'enabled' | 'wirecall'>, WirecallOptionsResult {
  /** The input the stream starts with on mount, or `skipToken` (it waits for `start(input)`). */
  input: TInput | SkipToken;
  enabled: boolean;
  /** Equal for equal inputs (canonical): the hook restarts the stream when it changes. */
  inputKey: string;
  /** Calls the procedure. */
  open: (input: TInput, signal: AbortSignal) => CallStream<TItem, TOutput>;
}

/** Filters for `invalidateQueries`, `setQueriesData` and the rest, without their key (it is given). */
export type FiltersWithoutKey = Omit<QueryFilters, 'queryKey'>;

/** An input with its top-level fields optional: filters match the queries whose input has them. */
export type PartialInput<TInput> = TInput extends readonly unknown[]
  ? TInput
  : TInput extends Record<string, unknown>
    ? { [TKey in keyof TInput]?: TInput[TKey] }
    : TInput;

/** The option factories of a procedure that answers once: a query or a mutation, as the app uses it. */
export interface QueryProcedure<TInput, TOutput, TError> {
  /** See {@link WirecallQueryOptions}. */
  queryOptions: WirecallQueryOptions<TInput, TOutput, TError>;
  /**
   * The key of the query for `input` (typed: `queryClient.getQueryData(key)` knows its data), or
   * with no argument the prefix of all of this procedure's queries.
   */
  queryKey(input?: TInput): WirecallDataKey<TOutput, TError>;
  /**
   * Filters matching this procedure's queries: all of them, or those whose input has the given
   * fields. `queryClient.invalidateQueries(wc.users.get.queryFilter({ id }))`.
   */
  queryFilter(
    input?: PartialInput<TInput>,
    filters?: FiltersWithoutKey,
  ): QueryFilters<WirecallDataKey<TOutput, TError>> & { queryKey: WirecallDataKey<TOutput, TError> };
  /** See {@link WirecallMutationOptions}. */
  mutationOptions: WirecallMutationOptions<TInput, TOutput, TError>;
  /** The key of this procedure's mutations (for `useIsMutating`, `useMutationState`). */
  mutationKey(): WirecallMutationKey;
}

/** The option factory of a streaming procedure, for `useStream`. */
export interface StreamProcedure<TInput, TItem, TOutput, TError> {
  /**
   * The options of `useStream(...)`: the stream starts with `input` when the component mounts
   * (again when the input changes), or, with `skipToken`, waits for `start(input)`.
   */
  streamOptions(
    input: TInput | SkipToken,
    options?: StreamOptionsIn<TItem, TOutput, TError>,
  ): WirecallStreamOptions<TInput, TItem, TOutput, TError>;
}

/** Keys and filters of a group (or of the whole contract): prefixes of its procedures'. */
export interface KeyPrefixHelpers {
  /** The prefix of the queries under this group (`['wirecall', ['users']]`; `['wirecall']` at the root). */
  queryKey(): WirecallQueryKey;
  /** Filters matching every query under this group. */
  queryFilter(filters?: FiltersWithoutKey): QueryFilters<WirecallQueryKey> & { queryKey: WirecallQueryKey };
}

/**
 * One procedure's factories, by kind: a plain procedure is a query and a mutation; a streaming one
 * is for `useStream`; an upload (an `inputStream`) has none: call it through `useWirecallClient()`.
 */
export type DecoratedProcedure<
  TContract extends AnyContract,
  TName extends ProcedureName<TContract>,
> = TContract['procedures'][TName] extends { inputStream: SchemaLike }
  ? Record<never, never>
  : isStreamProcedure<TContract, TName> extends true
    ? StreamProcedure<
        inferInput<TContract, TName>,
        inferStreamItem<TContract, TName>,
        inferOutput<TContract, TName>,
        inferCallError<TContract, TName>
      >
    : QueryProcedure<inferInput<TContract, TName>, inferOutput<TContract, TName>, inferCallError<TContract, TName>>;

type DecoratedGroups<TGroups> = 0 extends 1 & TGroups
  ? unknown
  : {
      readonly [TGroup in keyof TGroups]: TGroups[TGroup] extends AnyContract
        ? WirecallOptions<TGroups[TGroup]>
        : never;
    };

/**
 * What `useWirecall()` returns: the contract's procedures (and groups) as option factories for
 * TanStack Query, and key helpers at every level.
 *
 * @example
 * const wc = useWirecall();
 * const user = useQuery(wc.users.get.queryOptions({ id }));
 * const bid = useMutation(wc.bids.place.mutationOptions({ onSuccess: () => toast('placed') }));
 */
export type WirecallOptions<TContract extends AnyContract> = {
  readonly [TName in ProcedureName<TContract>]: DecoratedProcedure<TContract, TName>;
} & DecoratedGroups<TContract['groups']> &
  KeyPrefixHelpers;
