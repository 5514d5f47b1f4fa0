import {
  checkSchema,
  decodeValue,
  encodeFrame,
  encodeValue,
  toErrorShape,
  toWirecallError,
  WirecallError,
  type CallEnvelope,
  type RequestId,
} from '@wirecall/core';
import type { ConnectionHost, ProcedureEntry } from './connection-host.js';

/** How a call runner talks back to its connection. */
export interface CallSink {
  readonly ctx: unknown;
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
  controller: AbortController;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/**
 * Runs one call from parsed envelope to answer frame: look up, decode, validate the input, run the
 * handler, validate the output, answer. Nothing thrown here escapes: every failure becomes an error
 * envelope. Sync handlers finish without allocating a promise.
 */
export function runCall(
  host: ConnectionHost,
  sink: CallSink,
  { envelope, controller }: { envelope: CallEnvelope; controller: AbortController },
): void {
  const entry = host.procedures.get(envelope.p);
  const call: RunningCall = { host, sink, id: envelope.id, entry, controller };
  if (entry === undefined) {
    settle(call, new WirecallError('NOT_FOUND', `Unknown procedure ${envelope.p}`));
    return;
  }
  let result: unknown;
  try {
    const input = checkSchema(entry.def.input, decodeValue(envelope));
    if (!input.ok) {
      throw new WirecallError('BAD_REQUEST', `Invalid input for ${entry.name}`, { data: { issues: input.issues } });
    }
    result = entry.handler({
      input: input.value,
      ctx: sink.ctx,
      signal: controller.signal,
      meta: { procedure: entry.name, idempotencyKey: envelope.ik },
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

/** Validates the output (or normalises the failure) and sends exactly one answer. */
function settle(call: RunningCall, failure: unknown, value?: unknown): void {
  const { host, sink, id, entry, controller } = call;
  sink.callSettled(id);
  // The caller gave up (cancel, deadline, disconnect): nobody is waiting for an answer.
  if (controller.signal.aborted) return;
  let problem = failure;
  if (problem === undefined && entry !== undefined) {
    try {
      const output = checkSchema(entry.def.output, value);
      if (output.ok) {
        sink.send(encodeFrame({ t: 'result', id, ...encodeValue(output.value) }));
        return;
      }
      problem = new Error(`Output of ${entry.name} does not match the contract`, { cause: output.issues });
    } catch (thrown) {
      // The output could not be checked or encoded (a getter threw, a cycle in custom data).
      problem = thrown ?? new Error('encoding the output failed');
    }
  }
  const error = toWirecallError(problem);
  if (error.code === 'INTERNAL') {
    host.logger.error({ err: error.cause ?? error, procedure: entry?.name, id }, 'call failed');
  }
  sink.send(encodeFrame({ t: 'error', id, e: toErrorShape(error) }));
}
