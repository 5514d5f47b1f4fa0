import type {
  AnyContract,
  ProcedureName,
  inferHandlerOutput,
  inferParsedInput,
  inferParsedInputStreamItem,
  inferStreamItemInput,
  isStreamProcedure,
  SchemaLike,
} from '@wirecall/core/internal';
import type { Tracked } from './tracked.js';
import type { ConnectionInfo } from '../connection/connection-info.js';

/** What a handler receives. */
export interface HandlerArgs<TInput, TContext> {
  /** The input, already parsed by the procedure's input schema. */
  input: TInput;
  /** The connection's context, built once by the `context` option when the connection opened. */
  ctx: TContext;
  /**
   * Aborts when the caller cancels, its deadline passes, or the connection closes. Pass it on to
   * fetch, database drivers and timers so abandoned work stops.
   */
  signal: AbortSignal;
  /** Facts about this call. */
  meta: CallMeta;
  /** The connection the call came on (to end it when credentials expire, for example). */
  connection: ConnectionInfo;
}

export interface CallMeta {
  /** The procedure's name. */
  procedure: string;
  /** The client's idempotency key: the same for every retry of one logical call. */
  idempotencyKey: string | undefined;
}

type MaybePromise<T> = T | Promise<T>;

/** The args of a handler whose procedure takes an `inputStream`: the caller's items, as they arrive. */
export interface InputStreamArgs<TItem> {
  /**
   * The items the caller streams in, parsed with the `inputStream` schema. Read it with
   * `for await`; the caller is granted credit as items are read, so an unread stream holds the
   * caller back. It throws `CANCELLED` or `CONNECTION_LOST` if the caller goes away.
   */
  inputStream: AsyncIterable<TItem>;
}

/** The args of a resumable stream's handler. */
export interface ResumableArgs {
  /** The id of the last item the caller got, when it calls again after a drop; else undefined. */
  lastEventId: string | undefined;
}

/** The args a procedure's handler gets. */
export type ProcedureArgs<
  TContract extends AnyContract,
  TName extends ProcedureName<TContract>,
  TContext,
> = HandlerArgs<inferParsedInput<TContract, TName>, TContext> &
  (TContract['procedures'][TName] extends { inputStream: SchemaLike }
    ? InputStreamArgs<inferParsedInputStreamItem<TContract, TName>>
    : unknown) &
  (TContract['procedures'][TName] extends { resumable: true } ? ResumableArgs : unknown);

/** What a streaming handler yields: the item, or for a resumable stream the item with its id. */
type Yielded<
  TContract extends AnyContract,
  TName extends ProcedureName<TContract>,
> = TContract['procedures'][TName] extends {
  resumable: true;
}
  ? Tracked<inferStreamItemInput<TContract, TName>>
  : inferStreamItemInput<TContract, TName>;

/**
 * What a procedure's handler returns: its output; or, for a streaming procedure, an async
 * generator (or any async iterable) of its items, whose return value is the final value.
 */
export type ProcedureResult<TContract extends AnyContract, TName extends ProcedureName<TContract>> =
  isStreamProcedure<TContract, TName> extends true
    ? MaybePromise<
        TContract['procedures'][TName] extends { output: SchemaLike }
          ? // The final value is required: only a generator's return value can give it.
            AsyncGenerator<Yielded<TContract, TName>, inferHandlerOutput<TContract, TName>, unknown>
          : AsyncGenerator<Yielded<TContract, TName>, void, unknown> | AsyncIterable<Yielded<TContract, TName>>
      >
    : MaybePromise<inferHandlerOutput<TContract, TName>>;

/**
 * One handler per procedure of the contract, and an object of handlers per group
 * (`{ add, users: { get, list } }`); a missing or extra handler is a compile error. A group's
 * handlers can live in their own file, typed `Handlers<typeof usersContract, Ctx>`.
 */
export type Handlers<TContract extends AnyContract, TContext> = {
  [TName in ProcedureName<TContract>]: (
    args: ProcedureArgs<TContract, TName, TContext>,
  ) => ProcedureResult<TContract, TName>;
} & GroupHandlers<TContract['groups'], TContext>;

/**
 * The handlers of a contract's groups, one object per group; nothing for a contract without groups,
 * nor for the widest contract (`any` groups would recurse without end).
 */
type GroupHandlers<TGroups, TContext> = 0 extends 1 & TGroups
  ? unknown
  : [keyof TGroups] extends [never]
    ? unknown
    : { [TGroup in keyof TGroups]: TGroups[TGroup] extends AnyContract ? Handlers<TGroups[TGroup], TContext> : never };

/**
 * Runs around every handler: call `next()` to continue (it resolves with the handler's result),
 * throw a `WirecallError` (`FORBIDDEN`, `UNAUTHORIZED`) to refuse. `args.meta.procedure` says which
 * procedure is being called.
 *
 * @example
 * const requireUser: Middleware<Ctx> = ({ ctx }, next) => {
 *   if (!ctx.user) throw new WirecallError('UNAUTHORIZED', 'sign in first');
 *   return next();
 * };
 */
export type Middleware<TContext> = (
  args: HandlerArgs<unknown, TContext>,
  next: () => Promise<unknown>,
) => MaybePromise<unknown>;

/** The loosest handler shape, for the dispatcher that runs any of them. */
export type AnyHandler = (args: HandlerArgs<unknown, unknown>) => unknown;

/** Wraps a handler in middleware, outermost first; without middleware the handler runs as is. */
export function withMiddleware(handler: AnyHandler, middleware: readonly Middleware<unknown>[]): AnyHandler {
  if (middleware.length === 0) return handler;
  return (args) => {
    const run = (index: number): Promise<unknown> => {
      const layer = middleware[index];
      if (layer === undefined) return Promise.resolve(handler(args));
      return Promise.resolve(layer(args, () => run(index + 1)));
    };
    return run(0);
  };
}
