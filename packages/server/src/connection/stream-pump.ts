import { itemFrame, toWire, WirecallError } from '@wirecall/core/internal';
import { isTracked } from '../router/tracked.js';
import type { ServerCall } from './call-runner.js';
import { encodedValueFrame, isLargerThan } from './value-frame.js';

/**
 * A stream holds back while more than this is waiting in its connection's send buffer (or a quarter
 * of `limits.maxBufferedBytes`, if that is less): a big stream then cannot starve the calls,
 * events and heartbeats that share the socket, nor hit the slow-consumer limit by itself.
 */
export const STREAM_HIGH_WATER_BYTES = 256 * 1024;

/** How a pump ends its call: with the generator's return value, or with a failure. */
export type Finish = (failure: unknown, value?: unknown) => void;

const ABORTED: unique symbol = Symbol('aborted');

/**
 * The async iterator of what a streaming handler returned: an async iterable (an async generator),
 * or a sync iterable. Reading it runs application code, so it may throw.
 */
function iteratorOf(source: unknown): AsyncIterator<unknown> | Iterator<unknown> {
  const candidate = source as {
    [Symbol.asyncIterator]?: () => AsyncIterator<unknown>;
    [Symbol.iterator]?: () => Iterator<unknown>;
  } | null;
  const asyncIterator = candidate?.[Symbol.asyncIterator];
  if (typeof asyncIterator === 'function') return asyncIterator.call(candidate);
  const iterator = candidate?.[Symbol.iterator];
  if (typeof iterator === 'function' && typeof source !== 'string') return iterator.call(candidate);
  throw new TypeError('the handler of a streaming procedure must return an async iterable (an async generator)');
}

/**
 * Stops a producer the caller no longer wants (cancel, disconnect, an item that failed): its
 * `finally` blocks run. Called as a method (a detached `return` throws on some runtimes, tRPC
 * #7457), never awaited (a generator busy in an `await` finishes it first; its `signal` has
 * already aborted), and whatever it throws or rejects with is only logged.
 */
function closeIterator(iterator: AsyncIterator<unknown> | Iterator<unknown>, call: ServerCall): void {
  try {
    const closing: unknown = iterator.return?.();
    Promise.resolve(closing).catch((error: unknown) => {
      call.host.logger.error({ err: error, procedure: call.entry?.name }, 'a stream producer failed while closing');
    });
  } catch (error) {
    call.host.logger.error({ err: error, procedure: call.entry?.name }, 'a stream producer failed while closing');
  }
}

/** Longest id a resumable stream's item may carry (the wire's bound on ids). */
const MAX_ITEM_ID_LENGTH = 256;

/** Sends one item; returns why it could not be sent, or undefined. */
function sendItem(call: ServerCall, yielded: unknown): unknown {
  const { entry, host } = call;
  let item = yielded;
  let itemId: string | undefined;
  if (entry!.def.resumable === true) {
    // A resumable stream names every item, so the client can come back after the last one.
    if (!isTracked(yielded)) return new TypeError(`${entry!.name} is resumable: yield tracked(id, item)`);
    if (typeof yielded.id !== 'string' || yielded.id.length === 0 || yielded.id.length > MAX_ITEM_ID_LENGTH) {
      return new TypeError(`an item id of ${entry!.name} must be a string of 1 to ${MAX_ITEM_ID_LENGTH} characters`);
    }
    item = yielded.item;
    itemId = yielded.id;
  }
  const checked = toWire(entry!.def.stream!, item);
  if (!checked.ok) return new Error(`An item of ${entry!.name} does not match the contract`, { cause: checked.issues });
  const frame = encodedValueFrame((value) => itemFrame(call.id, value, itemId), checked.value, call.sink.acceptsBinary);
  const max = host.limits.maxPayloadBytes;
  if (isLargerThan(frame, max)) {
    return new WirecallError('PAYLOAD_TOO_LARGE', `An item of ${entry!.name} is larger than ${max} bytes`, {
      data: { maxPayloadBytes: max },
    });
  }
  call.sink.send(frame);
  return undefined;
}

/** Waits until the call has a credit and room in the send buffer; false if it was aborted meanwhile. */
async function readyToSend(call: ServerCall): Promise<boolean> {
  const credits = call.credits!;
  const highWater = Math.min(STREAM_HIGH_WATER_BYTES, call.host.limits.maxBufferedBytes / 4);
  while (!call.aborted && !credits.take()) await credits.granted();
  while (!call.aborted && call.sink.bufferedAmount > highWater) await call.sink.whenWritable();
  return !call.aborted;
}

/**
 * Runs a streaming call's producer under the caller's credits: pull one item per credit, check it
 * against the contract, send it; the generator's return value is the final value. Ends on every
 * path: done, thrown, an item off the contract or too large, or aborted (cancel, disconnect), and
 * on each one that is not "done" the producer is closed so its `finally` runs.
 */
export async function pumpStream(call: ServerCall, source: unknown, finish: Finish): Promise<void> {
  let iterator: AsyncIterator<unknown> | Iterator<unknown>;
  try {
    iterator = iteratorOf(source);
  } catch (error) {
    finish(error);
    return;
  }
  const aborted: Promise<typeof ABORTED> = call.whenAborted().then(() => ABORTED);
  let finished = false;
  try {
    for (;;) {
      if (!(await readyToSend(call))) break;
      let step: IteratorResult<unknown> | typeof ABORTED;
      try {
        step = await Promise.race([Promise.resolve(iterator.next()), aborted]);
      } catch (error) {
        finished = true; // a generator that threw is done
        finish(error);
        return;
      }
      if (step === ABORTED) break;
      if (typeof step !== 'object' || step === null) throw new TypeError('an iterator returned a non-object');
      if (step.done === true) {
        finished = true;
        finish(undefined, step.value);
        return;
      }
      const failure = sendItem(call, step.value);
      if (failure !== undefined) {
        finish(failure);
        return;
      }
    }
    // Aborted: nothing more is sent; the call is released with its abort reason.
    finish(call.abortReason);
  } catch (error) {
    // A hostile step (a getter that throws) or an encoding failure.
    finish(error);
  } finally {
    call.credits!.wake();
    if (!finished) closeIterator(iterator, call);
  }
}
