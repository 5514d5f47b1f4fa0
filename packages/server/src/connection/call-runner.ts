import {
  checkSchema,
  decodeValue,
  encodeFrame,
  resultFrame,
  encodeValue,
  toErrorShape,
  toWirecallError,
  WirecallError,
  type CallEnvelope,
  type RequestId,
} from '@wirecall/core';
import type { Outcome } from '../router/idempotency-cache.js';
import { safeHook } from '../hooks.js';
import type { ConnectionHost, ProcedureEntry } from './connection-host.js';
import type { ConnectionInfo } from './connection-info.js';
import type { LazyAbort } from './lazy-abort.js';

/** How a call runner talks back to its connection. */
export interface CallSink {
  readonly ctx: unknown;
  readonly info: ConnectionInfo;
  send(text: string): void;
  /** The call finished (or never started): release its slot. */
  callSettled(id: RequestId): void;
}

/** One call on its way through the runner. */
interface RunningCall {
  host: ConnectionHost;
  sink: CallSink;
  id: RequestId;
  entry: ProcedureEntry | undefined;
  controller: LazyAbort;
  /** Set for idempotent procedures called with an idempotency key. */
  cacheKey: string | undefined;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/** The key under which an idempotent call's outcome is remembered, or undefined. */
export function idempotencyKeyOf(entry: ProcedureEntry | undefined, envelope: CallEnvelope): string | undefined {
  return entry?.def.idempotent === true && envelope.ik !== undefined ? `${entry.name}\u0000${envelope.ik}` : undefined;
}

/**
 * Runs one call from parsed envelope to answer frame: look up, decode, validate the input, run the
 * handler, validate the output, answer. Nothing thrown here escapes: every failure becomes an error
 * envelope. Sync handlers finish without allocating a promise. A retry of an idempotent call that
 * already reached the server gets the first attempt's answer instead of a second run.
 */
export function runCall(
  host: ConnectionHost,
  sink: CallSink,
  { envelope, controller }: { envelope: CallEnvelope; controller: LazyAbort },
): void {
  const entry = host.procedures.get(envelope.p);
  const cacheKey = idempotencyKeyOf(entry, envelope);
  const call: RunningCall = { host, sink, id: envelope.id, entry, controller, cacheKey };
  if (entry === undefined) {
    settle(call, new WirecallError('NOT_FOUND', `Unknown procedure ${envelope.p}`));
    return;
  }
  if (cacheKey !== undefined && host.idempotency.join(cacheKey, (outcome) => answer(call, outcome))) return;
  let result: unknown;
  try {
    const input = checkSchema(entry.def.input, decodeValue(envelope));
    if (!input.ok) {
      throw new WirecallError('BAD_REQUEST', `Invalid input for ${entry.name}`, { data: { issues: input.issues } });
    }
    result = entry.handler({
      input: input.value,
      ctx: sink.ctx,
      // A getter: the AbortController is only created for handlers that use the signal.
      get signal() {
        return controller.signal;
      },
      meta: { procedure: entry.name, idempotencyKey: envelope.ik },
      connection: sink.info,
    });
  } catch (error) {
    settle(call, error ?? new Error('handler threw nothing'));
    return;
  }
  if (isThenable(result)) {
    result.then(
      (value) => settle(call, undefined, value),
      (error: unknown) => settle(call, error ?? new Error('handler rejected with nothing')),
    );
  } else {
    settle(call, undefined, result);
  }
}

/** Validates the output (or normalises the failure) into the call's one outcome. */
function settle(call: RunningCall, failure: unknown, value?: unknown): void {
  const { host, entry, controller, cacheKey } = call;
  let problem = failure;
  let outcome: Outcome | undefined;
  if (problem === undefined && entry !== undefined) {
    try {
      const output = checkSchema(entry.def.output, value);
      if (output.ok) outcome = { ok: true, value: encodeValue(output.value) };
      else problem = new Error(`Output of ${entry.name} does not match the contract`, { cause: output.issues });
    } catch (thrown) {
      // The output could not be checked or encoded (a getter threw, a cycle in custom data).
      problem = thrown ?? new Error('encoding the output failed');
    }
  }
  if (outcome === undefined) {
    const error = toWirecallError(problem);
    if (error.code === 'INTERNAL') {
      host.logger.error({ err: error.cause ?? error, procedure: entry?.name, id: call.id }, 'call failed');
    }
    host.counters.countError(error.code);
    safeHook(host, 'onError', () =>
      host.hooks.onError?.(error, { connection: call.sink.info, procedure: entry?.name }),
    );
    outcome = { ok: false, error: toErrorShape(error) };
  }
  // An aborted attempt (deadline, cancel) is not an answer a retry should reuse.
  if (cacheKey !== undefined) host.idempotency.complete(cacheKey, outcome, !controller.aborted);
  answer(call, outcome);
}

/** Sends the outcome, unless the caller has given up (cancel, deadline, disconnect). */
function answer(call: RunningCall, outcome: Outcome): void {
  call.sink.callSettled(call.id);
  if (call.controller.aborted) return;
  call.sink.send(
    outcome.ok ? resultFrame(call.id, outcome.value) : encodeFrame({ t: 'error', id: call.id, e: outcome.error }),
  );
}
