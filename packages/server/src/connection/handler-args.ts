import type { HandlerArgs } from '../router/handlers.js';

/** Where a handler's `signal` comes from: created only when the handler reads it. */
export interface SignalSource {
  readonly signal: AbortSignal;
}

/** A constructor that returns its argument, so a subclass's private fields land on that object. */
class OnTarget {
  constructor(target: object) {
    return target;
  }
}

/**
 * Links a handler's args to their call with a private field: invisible to the handler (no key,
 * no symbol, nothing to spread or enumerate) and found without a lookup table.
 */
class SignalLink extends OnTarget {
  readonly #source: SignalSource;

  constructor(args: object, source: SignalSource) {
    super(args);
    this.#source = source;
  }

  static sourceOf(args: object): SignalSource {
    return (args as SignalLink).#source;
  }
}

/**
 * One getter shared by every call's args. An object literal with a getter of its own costs about a
 * microsecond per call (V8 builds it on a slow path, in dictionary mode); a shared accessor keeps
 * every args object on one fast shape.
 */
const SIGNAL: PropertyDescriptor = {
  get(this: object): AbortSignal {
    return SignalLink.sourceOf(this).signal;
  },
  enumerable: true,
  configurable: true,
};

/**
 * A handler's args: a plain object whose own enumerable keys are, in order, `input`, `ctx`,
 * `signal` (a getter: the AbortController is only created for handlers that read it), `meta` and
 * `connection`.
 */
export function handlerArgs(
  fields: Omit<HandlerArgs<unknown, unknown>, 'signal'>,
  source: SignalSource,
): HandlerArgs<unknown, unknown> {
  const args = Object.defineProperty({ input: fields.input, ctx: fields.ctx }, 'signal', SIGNAL) as HandlerArgs<
    unknown,
    unknown
  >;
  args.meta = fields.meta;
  args.connection = fields.connection;
  new SignalLink(args, source);
  return args;
}
