import {
  placeAt,
  procedureEntries,
  messageEntries,
  valueAt,
  WirecallError,
  type AnyContract,
} from '@wirecall/core/internal';
import type { ConnectionInfo } from '../connection/connection-info.js';
import type { SubscribeCheckArgs } from '../options.js';
import type { HandlerArgs, Handlers } from './handlers.js';
import type { MessageArgs, MessageHandlers } from './messages.js';

/** `TContext` with `TAdded`'s properties replacing its own (`user: User | undefined` becomes `User`). */
export type WithContext<TContext, TAdded> = [keyof TAdded] extends [never]
  ? TContext
  : Omit<TContext, keyof TAdded> & TAdded;

/** What a guard's function receives: the step it guards, and `next` to run it. */
export interface GuardArgs<TContext> {
  ctx: TContext;
  connection: ConnectionInfo;
  /** What runs behind the guard: a call (streams included), a client message, or a subscription. */
  kind: 'call' | 'message' | 'subscribe';
  /** Its wire name: the procedure, message or event (`users.get`). */
  name: string;
  /** The call's input, the message's payload, or the subscription's params, parsed by the contract. */
  input: unknown;
  /**
   * Runs what is guarded, with `ctx` extended by what is passed (typed for everything behind the
   * guard). Its result must be the guard's result. For a streaming call it resolves once the stream
   * is made, before its items.
   */
  next: <TAdded extends object = Record<never, never>>(extend?: { ctx: TAdded }) => Promise<Passed<TAdded>>;
}

declare const ADDED: unique symbol;
/** What `next` resolves with: the guarded step's result, carrying the type of the ctx it added. */
export interface Passed<TAdded> {
  readonly [ADDED]?: TAdded;
  /** @internal what the guarded step returned */
  readonly result: unknown;
}

type GuardFn<TContext, TAdded> = (args: GuardArgs<TContext>) => Passed<TAdded> | Promise<Passed<TAdded>>;

/** The common shape of everything a guard wraps: its args carry `ctx` and `connection`. */
type Step = (args: { ctx: unknown; connection: ConnectionInfo }) => unknown;

/**
 * A reusable, typed middleware: code that runs before procedures, messages or subscriptions, may
 * refuse them by throwing (`UNAUTHORIZED`, `FORBIDDEN`), and may add to `ctx` with types. Made by
 * {@link middleware}; applied to one handler (`.handler`), to every handler of a contract or group
 * (`.handlers`, `.messages`), or to `canSubscribe`. Guards nest: the outer one runs first.
 */
export class Guard<TContext, TAdded> {
  readonly #fn: GuardFn<TContext, unknown>;

  constructor(fn: GuardFn<TContext, TAdded>) {
    this.#fn = fn;
  }

  /** This guard, then `inner` (a guard over the context this one makes): one guard adding both. */
  pipe<TMore>(inner: Guard<WithContext<TContext, TAdded>, TMore>): Guard<TContext, TAdded & TMore> {
    return new Guard<TContext, TAdded & TMore>(
      (args) =>
        this.#fn({
          ...args,
          next: (extend) =>
            inner.#fn({
              ...args,
              ctx: (extend === undefined ? args.ctx : { ...args.ctx, ...extend.ctx }) as WithContext<TContext, TAdded>,
              // The step runs once, with both extensions over the ctx it was given.
              next: (more) => args.next({ ctx: { ...extend?.ctx, ...more?.ctx } }) as never,
            }) as never,
        }) as Promise<Passed<TAdded & TMore>>,
    );
  }

  /** Guards one procedure's handler: `handlers: { get: authed.handler(({ ctx }) => ctx.user) }`. */
  handler<TArgs extends HandlerArgs<unknown, TContext>, TResult>(
    handler: (args: Omit<TArgs, 'ctx'> & { ctx: WithContext<TArgs['ctx'], TAdded> }) => TResult,
  ): (args: TArgs) => Promise<Awaited<TResult>> {
    return this.#wrap('call', handler as Step) as (args: TArgs) => Promise<Awaited<TResult>>;
  }

  /**
   * Guards every handler of a contract or group, typed by that contract with the extended ctx:
   * `handlers: { admin: authed.handlers(adminApi, { stats, ban }) }`.
   */
  handlers<TGroup extends AnyContract>(
    contract: TGroup,
    handlers: Handlers<TGroup, WithContext<TContext, TAdded>>,
  ): Handlers<TGroup, TContext> {
    const guarded: Record<string, unknown> = {};
    for (const { path } of procedureEntries(contract)) {
      placeAt(guarded, path, this.#wrap('call', valueAt(handlers, path) as Step));
    }
    return guarded as Handlers<TGroup, TContext>;
  }

  /** Guards one client message's handler. */
  message<TPayload>(
    handler: (args: MessageArgs<TPayload, WithContext<TContext, TAdded>>) => unknown,
  ): (args: MessageArgs<TPayload, TContext>) => unknown {
    return this.#wrap('message', handler as Step);
  }

  /** Guards every message handler of a contract or group. */
  messages<TGroup extends AnyContract>(
    contract: TGroup,
    handlers: MessageHandlers<TGroup, WithContext<TContext, TAdded>>,
  ): MessageHandlers<TGroup, TContext> {
    const guarded: Record<string, unknown> = {};
    for (const { path } of messageEntries(contract)) {
      placeAt(guarded, path, this.#wrap('message', valueAt(handlers, path) as Step));
    }
    return guarded as MessageHandlers<TGroup, TContext>;
  }

  /** Guards `canSubscribe`: a guard that throws refuses the subscription with its error. */
  canSubscribe<TContract extends AnyContract>(
    check: (args: SubscribeCheckArgs<TContract, WithContext<TContext, TAdded>>) => boolean | Promise<boolean>,
  ): (args: SubscribeCheckArgs<TContract, TContext>) => Promise<boolean> {
    return this.#wrap('subscribe', check as Step) as (
      args: SubscribeCheckArgs<TContract, TContext>,
    ) => Promise<boolean>;
  }

  /** `step` behind this guard: the guard runs first, and `next` runs `step` with the extended ctx. */
  #wrap(kind: GuardArgs<TContext>['kind'], step: Step): Step {
    // A missing handler stays missing: the server names it at startup.
    if (typeof step !== 'function') return step;
    return async (args) => {
      let passed: Passed<unknown> | undefined;
      const { name, input } = describe(kind, args);
      const outcome = await this.#fn({
        ctx: args.ctx as TContext,
        connection: args.connection,
        kind,
        name,
        input,
        next: async (extend) => {
          const ctx = extend === undefined ? args.ctx : { ...(args.ctx as object), ...extend.ctx };
          passed = { result: await step({ ...args, ctx }) };
          return passed as never;
        },
      });
      if (passed === undefined || outcome !== passed) {
        throw new WirecallError('INTERNAL', `A middleware before ${name} returned without the result of next()`);
      }
      return passed.result;
    };
  }
}

/** The wire name and the input a guard reports for the args of each kind of step. */
function describe(kind: GuardArgs<unknown>['kind'], args: object): { name: string; input: unknown } {
  if (kind === 'call') {
    const { meta, input } = args as HandlerArgs<unknown, unknown>;
    return { name: meta.procedure, input };
  }
  if (kind === 'message') {
    const { meta, payload } = args as MessageArgs<unknown, unknown>;
    return { name: meta.message, input: payload };
  }
  const { event, params } = args as SubscribeCheckArgs<AnyContract, unknown>;
  return { name: event, input: params };
}

/**
 * Makes a typed middleware for a server whose ctx is `TContext`. Its function runs before what it
 * guards, refuses by throwing, and calls `next()` (optionally with `{ ctx }` to add to the context)
 * and returns its result.
 *
 * @example
 * const authed = middleware<Ctx>()(({ ctx, next }) => {
 *   if (ctx.user === undefined) throw new WirecallError('UNAUTHORIZED', 'sign in first');
 *   return next({ ctx: { user: ctx.user } }); // ctx.user is a User behind this guard
 * });
 * createServer(api, { handlers: { ping, me: authed.handler(({ ctx }) => ctx.user.name) } });
 */
export function middleware<TContext>(): <TAdded extends object>(
  fn: GuardFn<TContext, TAdded>,
) => Guard<TContext, TAdded> {
  return (fn) => new Guard(fn);
}
