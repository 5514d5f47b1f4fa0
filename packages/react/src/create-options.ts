import { skipToken, type QueryFunctionContext } from '@tanstack/react-query';
import type { CallStream, WirecallClient } from '@wirecall/client';
import type { AnyContract, inferInput, ProcedureName } from '@wirecall/core';
import type { CallSettings, StreamOptionsIn, StreamSettings, WirecallOptions } from './options-types.js';
import { canonicalText, mutationKeyOf, queryKeyOf } from './query-key.js';

/**
 * A server-side caller (`server.createCaller(ctx)` from `@wirecall/server`) as the options need it:
 * one function per procedure, groups as nested objects. Typed here without importing the server.
 */
export type ServerCaller<TContract extends AnyContract> = {
  readonly [TName in ProcedureName<TContract>]: (input: inferInput<TContract, TName>, ...rest: never[]) => unknown;
} & CallerGroups<TContract['groups']>;

type CallerGroups<TGroups> = 0 extends 1 & TGroups
  ? unknown
  : {
      readonly [TGroup in keyof TGroups]: TGroups[TGroup] extends AnyContract ? ServerCaller<TGroups[TGroup]> : never;
    };

/**
 * Where the options' calls go: a client (in the browser: over its WebSocket), or a server-side
 * caller (on the server: in process, for prefetching while rendering; no socket is opened).
 */
export type WirecallSource<TContract extends AnyContract> =
  { client: WirecallClient<TContract> } | { caller: ServerCaller<TContract> };

type AnyCall = (input: unknown, options?: object) => unknown;

/** The names the options give meaning to; any other name is a procedure or group along the path. */
const METHODS = new Set(['queryOptions', 'queryKey', 'queryFilter', 'mutationOptions', 'mutationKey', 'streamOptions']);

/** What is at `path` of the client's `call` tree (or of the caller): a function, a group, or nothing. */
function nodeAt(root: unknown, path: readonly string[]): unknown {
  let node = root;
  for (const name of path) {
    node = typeof node === 'object' && node !== null && Object.hasOwn(node, name) ? (node as never)[name] : undefined;
  }
  return node;
}

/** Resolves paths to procedures, when a call is made. */
interface Resolver {
  call(path: readonly string[]): AnyCall;
  isProcedure(path: readonly string[]): boolean;
}

interface OptionsIn {
  wirecall?: CallSettings;
  [key: string]: unknown;
}

/** What each option factory does, given the path of the procedure (or group) it was reached by. */
function method(resolver: Resolver, path: readonly string[], name: string) {
  const call = (at: readonly string[]): AnyCall => resolver.call(at);
  const wirePath = path.join('.');
  switch (name) {
    case 'queryKey':
      return (...args: [input?: unknown]) => queryKeyOf(path, args.length === 0 ? undefined : { input: args[0] });
    case 'queryFilter':
      return (...args: unknown[]) => {
        // At a group (or the root) the only argument is the filters; at a procedure, the input first.
        const [input, filters] = (resolver.isProcedure(path) ? args : [undefined, args[0]]) as [
          unknown,
          object | undefined,
        ];
        return { ...filters, queryKey: queryKeyOf(path, input === undefined ? undefined : { input }) };
      };
    case 'queryOptions':
      return (input: unknown, options?: OptionsIn) => {
        const { wirecall: settings, ...rest } = options ?? {};
        const skip = input === skipToken;
        return {
          ...rest,
          queryKey: queryKeyOf(path, { input: skip ? undefined : input }),
          queryFn: skip ? skipToken : ({ signal }: QueryFunctionContext) => call(path)(input, { ...settings, signal }),
          wirecall: { path: wirePath },
        };
      };
    case 'mutationOptions':
      return (options?: OptionsIn) => {
        const { wirecall: settings, ...rest } = options ?? {};
        return {
          ...rest,
          mutationKey: mutationKeyOf(path),
          mutationFn: (input: unknown) => call(path)(input, { ...settings }),
          wirecall: { path: wirePath },
        };
      };
    case 'mutationKey':
      return () => mutationKeyOf(path);
    case 'streamOptions':
      return (input: unknown, options?: StreamOptionsIn<unknown, unknown, unknown> & { wirecall?: StreamSettings }) => {
        const { wirecall: settings, enabled, ...rest } = options ?? {};
        return {
          ...rest,
          input,
          enabled: enabled ?? input !== skipToken,
          inputKey: input === skipToken ? '' : canonicalText(input),
          open: (streamInput: unknown, signal: AbortSignal) =>
            call(path)(streamInput, { ...settings, signal }) as CallStream<unknown, unknown>,
          wirecall: { path: wirePath },
        };
      };
    default:
      return undefined;
  }
}

/**
 * The recursive proxy behind `wc.users.get.queryOptions(...)`: every property read extends the
 * path, and a known method name at its end makes the options. Nothing is resolved until a call is
 * made (the query function runs), so the proxy costs nothing per procedure, and on the server a
 * component can build its query options without any socket.
 */
function pathProxy(resolver: Resolver, path: readonly string[]): unknown {
  const cache = new Map<string, unknown>();
  return new Proxy(
    {},
    {
      get(_target, name) {
        // Not a thenable, not a string tag: a proxy that is awaited or printed stays harmless.
        if (typeof name !== 'string' || name === 'then' || name === 'toJSON') return undefined;
        let found = cache.get(name);
        if (found === undefined) {
          found =
            (METHODS.has(name) ? method(resolver, path, name) : undefined) ?? pathProxy(resolver, [...path, name]);
          cache.set(name, found);
        }
        return found;
      },
    },
  );
}

/**
 * The option factories of a contract, calling through a client (browser) or a server-side caller
 * (server-side rendering). In components, `useWirecall()` gives the same object from the provider.
 *
 * @example
 * // on the server, while rendering: prefetch in process, then dehydrate
 * const wc = createWirecallOptions<typeof api>({ caller: server.createCaller(ctx) });
 * await queryClient.prefetchQuery(wc.history.queryOptions({ room: 'a' }));
 */
export function createWirecallOptions<TContract extends AnyContract>(
  source: WirecallSource<TContract>,
): WirecallOptions<TContract> {
  const root: unknown = 'client' in source ? source.client.call : source.caller;
  const resolver: Resolver = {
    call(path) {
      const node = nodeAt(root, path);
      if (typeof node !== 'function') throw new TypeError(`wirecall: no procedure ${path.join('.')} in this contract`);
      return node as AnyCall;
    },
    isProcedure: (path) => path.length > 0 && typeof nodeAt(root, path) === 'function',
  };
  return pathProxy(resolver, []) as WirecallOptions<TContract>;
}
