import {
  checkSchema,
  errorFrame,
  INTERNAL_ERROR_SHAPE,
  resultFrame,
  toWire,
  toWirecallError,
  WirecallError,
  type CallEnvelope,
  type EndEnvelope,
  type ItemEnvelope,
  type RequestId,
  decodeValue,
  encodeValue,
} from '@wirecall/core/internal';
import type { Deadline } from '../utils/deadline-queue.js';
import type { Outcome } from '../router/idempotency-cache.js';
import { claimAcrossNodes, HeldClaim, type SharedIdempotency } from '../router/shared-idempotency.js';
import { safeHook } from '../hooks.js';
import type { ConnectionHost, ProcedureEntry } from './connection-host.js';
import type { ConnectionInfo } from './connection-info.js';
import { encodeErrorBody } from './error-frame.js';
import { handlerArgs } from './handler-args.js';
import { InputStream } from './input-stream.js';
import { LazyAbort } from './lazy-abort.js';
import { valueFrame, type OutFrame } from './value-frame.js';
import { StreamCredits } from './stream-credits.js';
import { pumpStream, type Finish } from './stream-pump.js';

/** Items a streaming call may have in flight when its caller did not say (`cr` absent). */
export const DEFAULT_STREAM_WINDOW = 16;

/** How a call runner talks back to its connection. */
export interface CallSink {
  readonly ctx: unknown;
  readonly info: ConnectionInfo;
  /** Bytes queued on the socket and not yet written (streams hold back while it is high). */
  readonly bufferedAmount: number;
  /** The client reads binary frames: values with bytes may go out as raw bytes. */
  readonly acceptsBinary: boolean;
  /** Resolves once the socket's buffer drained (a held-back stream goes on then). */
  whenWritable(): Promise<void>;
  send(frame: OutFrame): void;
  /** The call finished (or never started): release its slot. */
  callSettled(call: ServerCall): void;
}

/**
 * One call from arrival to answer, in one object: its connection's in-flight record, its handler's
 * abort state and the runner's state (a fast call would otherwise allocate one of each).
 */
export class ServerCall extends LazyAbort {
  readonly host: ConnectionHost;
  readonly sink: CallSink;
  readonly id: RequestId;
  readonly entry: ProcedureEntry | undefined;
  /** Set for idempotent procedures called with an idempotency key. */
  readonly cacheKey: string | undefined;
  /** Fires when the caller's deadline passes; cancelled when the call settles first. */
  deadline: Deadline | undefined = undefined;
  /** Set by the first outcome: a thenable that both resolves and rejects still answers once. */
  settled = false;
  /** For a streaming procedure: the items its caller is ready to take. */
  readonly credits: StreamCredits | undefined;
  /** For a procedure with an `inputStream`: the items the caller sends, as the handler reads them. */
  readonly input: InputStream | undefined;
  /** This node's claim of the call's idempotency key among all nodes, while its handler runs. */
  claim: HeldClaim | undefined = undefined;

  constructor(host: ConnectionHost, sink: CallSink, envelope: CallEnvelope) {
    super();
    this.host = host;
    this.sink = sink;
    this.id = envelope.id;
    this.entry = host.procedures.get(envelope.p);
    this.cacheKey = idempotencyKeyOf(this.entry, envelope);
    const def = this.entry?.def;
    this.credits = def?.stream === undefined ? undefined : new StreamCredits(envelope.cr ?? DEFAULT_STREAM_WINDOW);
    this.input = def?.inputStream === undefined ? undefined : new InputStream(this, def.inputStream);
  }

  /** A call with a stream in either direction (counted under `limits.maxStreams`). */
  get streaming(): boolean {
    return this.credits !== undefined || this.input !== undefined;
  }

  override abort(reason: unknown): void {
    super.abort(reason);
    this.credits?.wake(); // a pump waiting for credit sees the abort
    this.input?.fail(reason); // a handler waiting for an item sees it too
  }

  /** An item (or the end) of the caller's input stream arrived; ignored for other calls. */
  acceptInput(envelope: ItemEnvelope | EndEnvelope): void {
    this.input?.accept(envelope);
  }

  /** Sends a frame of this call's own (credits for its input stream). */
  send(text: string): void {
    if (!this.aborted && !this.settled) this.sink.send(text);
  }

  /**
   * An idempotent call with a key keeps running when the connection drops: its retry, arriving on
   * the next connection, attaches to it instead of running the handler a second time.
   */
  get survivesDisconnect(): boolean {
    return this.cacheKey !== undefined;
  }
}

/**
 * Waits for a handler's result: `onValue` gets the value (at once for a plain one), and a failure
 * settles the call. Promise.resolve adopts any thenable safely: a `then` that throws becomes a
 * rejection, and a second resolve or reject is ignored (a native promise passes through as
 * itself). Reading `then`, and Promise.resolve reading a promise's `constructor`, may still throw.
 */
function adopt(call: ServerCall, result: unknown, onValue: (call: ServerCall, value: unknown) => void): void {
  let pending: Promise<unknown> | undefined;
  try {
    if (typeof thenOf(result) === 'function') pending = Promise.resolve(result);
  } catch (error) {
    settle(call, error ?? new Error('reading then threw nothing'));
    return;
  }
  if (pending === undefined) onValue(call, result);
  else {
    pending.then(
      (value) => onValue(call, value),
      (error: unknown) => settle(call, error ?? new Error('handler rejected with nothing')),
    );
  }
}

/** A plain call's value is its answer. */
function answerWith(call: ServerCall, value: unknown): void {
  settle(call, undefined, value);
}

/**
 * Pumps what a streaming handler returned (an async generator) under the caller's credits; the
 * generator's return value becomes the call's final value.
 */
function pump(call: ServerCall, source: unknown): void {
  const finish: Finish = (failure, value) => settle(call, failure, value);
  pumpStream(call, source, finish).catch((error: unknown) => settle(call, error ?? new Error('stream failed')));
}

/** The `then` of a handler's result if it has one; may throw (a getter, a Proxy trap). */
function thenOf(value: unknown): unknown {
  return (typeof value === 'object' && value !== null) || typeof value === 'function'
    ? (value as { then?: unknown }).then
    : undefined;
}

/** The key under which an idempotent call's outcome is remembered, or undefined. */
function idempotencyKeyOf(entry: ProcedureEntry | undefined, envelope: CallEnvelope): string | undefined {
  if (entry?.def.idempotent !== true || envelope.ik === undefined) return undefined;
  // A streaming call is never retried (its items cannot be replayed), so it never outlives its
  // connection either: a key from a peer would leave its generator running with no one to end it.
  if (entry.def.stream !== undefined || entry.def.inputStream !== undefined) return undefined;
  return `${entry.name}\u0000${envelope.ik}`;
}

/**
 * Runs one call from parsed envelope to answer frame: look up, decode, validate the input, run the
 * handler, validate the output, answer. Nothing thrown here escapes: every failure becomes an error
 * envelope. Sync handlers finish without allocating a promise. A retry of an idempotent call that
 * already reached the server gets the first attempt's answer instead of a second run.
 */
export function runCall(call: ServerCall, envelope: CallEnvelope): void {
  const { host, entry, cacheKey } = call;
  if (entry === undefined) {
    settle(call, new WirecallError('NOT_FOUND', `Unknown procedure ${envelope.p}`));
    return;
  }
  if (cacheKey !== undefined && host.idempotency.join(cacheKey, (outcome) => answerJoined(call, outcome))) return;
  const shared = host.broker.idempotency;
  if (cacheKey !== undefined && shared !== undefined) void runOnceAcrossNodes(call, envelope, shared);
  else execute(call, envelope);
}

/**
 * Runs an idempotent call only if no other node runs or ran it: claims its key first, waits while
 * another node holds it, and answers with a finished attempt's outcome. When the shared store
 * cannot be reached, the call runs here (this node's own window still holds).
 */
async function runOnceAcrossNodes(call: ServerCall, envelope: CallEnvelope, shared: SharedIdempotency): Promise<void> {
  const key = call.cacheKey!;
  const { logger } = call.host;
  let claim: Awaited<ReturnType<typeof claimAcrossNodes>>;
  try {
    claim = await claimAcrossNodes(shared, key, () => !call.aborted);
  } catch (error) {
    logger.warn({ err: error, procedure: call.entry?.name }, 'shared idempotency is unreachable; the call runs here');
    execute(call, envelope);
    return;
  }
  if (claim === undefined) {
    settle(call, call.abortReason ?? new WirecallError('CANCELLED', 'The call was cancelled'));
  } else if (claim.state === 'done') {
    // Another attempt finished (on any node): its answer is this one's, and any local retry's.
    call.settled = true;
    call.host.idempotency.complete(key, claim.outcome, true);
    answer(call, claim.outcome);
  } else {
    call.claim = new HeldClaim(shared, key, (error) =>
      logger.warn({ err: error, procedure: call.entry?.name }, 'updating a shared idempotency key failed'),
    );
    execute(call, envelope);
  }
}

/** Decodes and checks the input, runs the handler, and settles the call with what it returns. */
function execute(call: ServerCall, envelope: CallEnvelope): void {
  const { sink, entry } = call;
  if (entry === undefined) return;
  let result: unknown;
  try {
    const input = checkSchema(entry.def.input, decodeValue(envelope));
    if (!input.ok) {
      throw new WirecallError('BAD_REQUEST', `Invalid input for ${entry.name}`, { data: { issues: input.issues } });
    }
    const args = handlerArgs(
      {
        input: input.value,
        ctx: sink.ctx,
        meta: { procedure: entry.name, idempotencyKey: envelope.ik },
        connection: sink.info,
      },
      call,
    );
    if (call.input !== undefined) {
      (args as { inputStream?: AsyncIterable<unknown> }).inputStream = call.input;
      call.input.start();
    }
    // A resumable stream reopened after a drop goes on after the last item its caller got.
    if (entry.def.resumable === true) (args as { lastEventId?: string }).lastEventId = envelope.after;
    result = entry.handler(args);
  } catch (error) {
    settle(call, error ?? new Error('handler threw nothing'));
    return;
  }
  // A streaming handler may return its generator, or a promise of one. (No closure per call:
  // most calls are plain and answer at once.)
  adopt(call, result, call.credits === undefined ? answerWith : pump);
}

/** A streaming procedure without a final value answers with no value, whatever its generator returned. */
const NO_OUTPUT = { ok: true, value: undefined, parsed: undefined } as const;

/** Validates the output (or normalises the failure) into the call's one outcome, and answers. */
function settle(call: ServerCall, failure: unknown, value?: unknown): void {
  if (call.settled) return;
  call.settled = true;
  let outcome: Outcome;
  try {
    outcome = outcomeOf(call, failure, value);
  } catch (fault) {
    // Nothing above should throw; if it does, the caller still gets its one answer.
    call.host.logger.error({ err: fault, id: call.id }, 'settling a call failed; answering INTERNAL');
    outcome = { ok: false, error: INTERNAL_ERROR_JSON };
  }
  // An aborted attempt (deadline, cancel) is not an answer a retry should reuse.
  if (call.cacheKey !== undefined) {
    const { idempotency } = call.host;
    idempotency.complete(call.cacheKey, outcome, !call.aborted);
    call.claim?.finish(outcome, !call.aborted, idempotency.windowMs);
  }
  answer(call, outcome);
}

const INTERNAL_ERROR_JSON = JSON.stringify(INTERNAL_ERROR_SHAPE);

function outcomeOf(call: ServerCall, failure: unknown, value: unknown): Outcome {
  const { host, entry } = call;
  let problem = failure;
  if (problem === undefined && entry !== undefined) {
    try {
      const output = entry.def.output === undefined ? NO_OUTPUT : toWire(entry.def.output, value);
      if (output.ok) return { ok: true, value: encodeValue(output.value) };
      problem = new Error(`Output of ${entry.name} does not match the contract`, { cause: output.issues });
    } catch (thrown) {
      // The output could not be checked or encoded (a getter threw, a cycle in custom data).
      problem = thrown ?? new Error('encoding the output failed');
    }
  }
  const error = toWirecallError(problem);
  if (error.code === 'INTERNAL') {
    host.logger.error({ err: error.cause ?? error, procedure: entry?.name, id: call.id }, 'call failed');
  }
  const encoded = encodeErrorBody(error, host.logger, entry?.def.errors);
  host.counters.countError(encoded.code);
  safeHook(host, 'onError', () => host.hooks.onError?.(error, { connection: call.sink.info, procedure: entry?.name }));
  return { ok: false, error: encoded.json };
}

/** A retry that joined an earlier attempt gets that attempt's outcome, once. */
function answerJoined(call: ServerCall, outcome: Outcome): void {
  if (call.settled) return;
  call.settled = true;
  answer(call, outcome);
}

/** Sends the outcome, unless the caller has given up (cancel, deadline, disconnect). */
function answer(call: ServerCall, outcome: Outcome): void {
  call.sink.callSettled(call);
  if (call.aborted) return;
  const { sink, id } = call;
  sink.send(
    outcome.ok
      ? valueFrame((value) => resultFrame(id, value), outcome.value, sink.acceptsBinary)
      : errorFrame(id, outcome.error),
  );
}
