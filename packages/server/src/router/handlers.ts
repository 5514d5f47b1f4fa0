import type { AnyContract, ProcedureName, inferHandlerOutput, inferParsedInput } from '@wirecall/core';

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
}

export interface CallMeta {
  /** The procedure's name. */
  procedure: string;
  /** The client's idempotency key: the same for every retry of one logical call. */
  idempotencyKey: string | undefined;
}

type MaybePromise<T> = T | Promise<T>;

/** One handler per procedure of the contract; a missing or extra handler is a compile error. */
export type Handlers<TContract extends AnyContract, TContext> = {
  [TName in ProcedureName<TContract>]: (
    args: HandlerArgs<inferParsedInput<TContract, TName>, TContext>,
  ) => MaybePromise<inferHandlerOutput<TContract, TName>>;
};

/** The loosest handler shape, for the dispatcher that runs any of them. */
export type AnyHandler = (args: HandlerArgs<unknown, unknown>) => unknown;
