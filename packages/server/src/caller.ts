import {
  freezeDeep,
  placeAt,
  procedureEntries,
  toWire,
  toWirecallError,
  WirecallError,
  type AnyContract,
  type inferInput,
  type inferInputStreamItem,
  type inferOutput,
  type inferStreamItem,
  type isStreamProcedure,
  type ProcedureDef,
  type ProcedureName,
  type SchemaLike,
} from '@wirecall/core/internal';
import type { ConnectionInfo } from './connection/connection-info.js';
import type { ProcedureEntry } from './connection/connection-host.js';
import type { Logger } from './logger.js';
import { isTracked } from './router/tracked.js';

/** Options of one in-process call. */
export interface CallerCallOptions {
  /** Aborts the call: its handler's `signal` fires and the call rejects with `CANCELLED`. */
  signal?: AbortSignal;
}

/** One procedure as the server-side caller calls it: like the client, without a socket. */
export type CallerFunction<
  TContract extends AnyContract,
  TName extends ProcedureName<TContract>,
> = TContract['procedures'][TName] extends { inputStream: SchemaLike }
  ? (
      input: inferInput<TContract, TName>,
      source: AsyncIterable<inferInputStreamItem<TContract, TName>> | Iterable<inferInputStreamItem<TContract, TName>>,
      options?: CallerCallOptions,
    ) => CallerResult<TContract, TName>
  : (input: inferInput<TContract, TName>, options?: CallerCallOptions) => CallerResult<TContract, TName>;

/** A streaming procedure's items, or a plain one's output. */
type CallerResult<TContract extends AnyContract, TName extends ProcedureName<TContract>> =
  isStreamProcedure<TContract, TName> extends true
    ? AsyncIterable<inferStreamItem<TContract, TName>>
    : Promise<inferOutput<TContract, TName>>;

/** `caller.<name>(input)` for every procedure, and `caller.<group>.<name>` for every group's. */
export type Caller<TContract extends AnyContract> = {
  readonly [TName in ProcedureName<TContract>]: CallerFunction<TContract, TName>;
} & CallerGroups<TContract['groups']>;

type CallerGroups<TGroups> = 0 extends 1 & TGroups
  ? unknown
  : { readonly [TGroup in keyof TGroups]: TGroups[TGroup] extends AnyContract ? Caller<TGroups[TGroup]> : never };

/** What the caller needs of the server. */
export interface CallerHost {
  readonly contract: AnyContract;
  readonly procedures: ReadonlyMap<string, ProcedureEntry>;
  readonly logger: Logger;
  readonly nodeId: string;
  identify(ctx: unknown): string | undefined;
}

/**
 * Calls procedures in process with a given context: the input is checked as the client would and
 * parsed as the server does, middleware and handler run, the output is checked and parsed, and a
 * failure rejects with the same `WirecallError` a client would get (`INTERNAL` for anything else,
 * logged). No socket, no connection limits, no idempotency cache. See docs/contracts.md.
 */
export function createCaller(host: CallerHost, ctx: unknown): unknown {
  const connection: ConnectionInfo = {
    id: `${host.nodeId}.caller`,
    user: host.identify(ctx),
    remoteAddress: undefined,
    url: undefined,
    close: () => {},
  };
  const caller: Record<string, unknown> = {};
  for (const { name, path, def } of procedureEntries(host.contract)) {
    const entry = host.procedures.get(name)!;
    const run = (input: unknown, source: unknown, options: CallerCallOptions | undefined): unknown => {
      const call = { host, entry, ctx, connection, input, source, signal: options?.signal };
      return def.stream === undefined ? callOnce(call) : streamOf(call);
    };
    placeAt(
      caller,
      path,
      def.inputStream === undefined
        ? (input: unknown, options?: CallerCallOptions) => run(input, undefined, options)
        : (input: unknown, source: unknown, options?: CallerCallOptions) => run(input, source, options),
    );
  }
  return freezeDeep(caller);
}

interface InProcessCall {
  host: CallerHost;
  entry: ProcedureEntry;
  ctx: unknown;
  connection: ConnectionInfo;
  input: unknown;
  source: unknown;
  signal: AbortSignal | undefined;
}

/** What crosses the wire, in process: checked by the sender's half, parsed by the receiver's. */
function across(
  schema: SchemaLike,
  value: unknown,
  failure: { code: 'BAD_REQUEST' | 'INTERNAL'; message: string },
): unknown {
  const checked = toWire(schema, value);
  if (!checked.ok) throw new WirecallError(failure.code, failure.message, { data: { issues: checked.issues } });
  return checked.parsed;
}

/** Starts the handler; resolves with what it returned (a value, or a stream's iterable). */
async function start(call: InProcessCall, controller: AbortController): Promise<unknown> {
  const { entry, signal } = call;
  const def: ProcedureDef = entry.def;
  if (signal?.aborted === true) throw new WirecallError('CANCELLED', 'The call was cancelled');
  // Passed to addEventListener as `signal`, the call's own controller removes this listener when the
  // call ends: a long-lived caller signal does not collect one per call.
  signal?.addEventListener('abort', () => controller.abort(new WirecallError('CANCELLED', 'The call was cancelled')), {
    once: true,
    signal: controller.signal,
  });
  const input = across(def.input, call.input, { code: 'BAD_REQUEST', message: `Invalid input for ${entry.name}` });
  const args: Record<string, unknown> = {
    input,
    ctx: call.ctx,
    signal: controller.signal,
    meta: { procedure: entry.name, idempotencyKey: undefined },
    connection: call.connection,
  };
  if (def.inputStream !== undefined) args.inputStream = parsedItems(def.inputStream, call.source, entry.name);
  if (def.resumable === true) args.lastEventId = undefined;
  // A handler's own cancellation wins over its result, as on a socket.
  const result = await Promise.race([
    Promise.resolve(entry.handler(args as never)),
    new Promise<never>((_, reject) => {
      controller.signal.addEventListener('abort', () => reject(controller.signal.reason as Error), { once: true });
    }),
  ]);
  return result;
}

async function callOnce(call: InProcessCall): Promise<unknown> {
  const controller = new AbortController();
  try {
    const result = await start(call, controller);
    const { def, name } = call.entry;
    if (def.output === undefined) return undefined;
    return across(def.output, result, { code: 'INTERNAL', message: `Output of ${name} does not match the contract` });
  } catch (thrown) {
    throw failed(call, thrown);
  } finally {
    controller.abort();
  }
}

async function* streamOf(call: InProcessCall): AsyncGenerator<unknown, void> {
  const controller = new AbortController();
  try {
    const items = (await start(call, controller)) as AsyncIterable<unknown>;
    const { def, name } = call.entry;
    for await (const yielded of items) {
      const item = def.resumable === true && isTracked(yielded) ? yielded.item : yielded;
      yield across(def.stream!, item, { code: 'INTERNAL', message: `An item of ${name} does not match the contract` });
    }
  } catch (thrown) {
    throw failed(call, thrown);
  } finally {
    controller.abort();
  }
}

/** The caller's items, each parsed by the `inputStream` schema as the server would. */
async function* parsedItems(schema: SchemaLike, source: unknown, name: string): AsyncGenerator<unknown, void> {
  for await (const item of source as AsyncIterable<unknown>) {
    yield across(schema, item, { code: 'BAD_REQUEST', message: `An item sent to ${name} does not match the contract` });
  }
}

/** The error a client would get: a `WirecallError` as thrown, anything else `INTERNAL` (logged). */
function failed(call: InProcessCall, thrown: unknown): WirecallError {
  const error = toWirecallError(thrown);
  if (error.code === 'INTERNAL') {
    call.host.logger.error({ err: error.cause ?? error, procedure: call.entry.name }, 'in-process call failed');
  }
  return error;
}
