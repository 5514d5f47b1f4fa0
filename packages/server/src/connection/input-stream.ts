import {
  checkSchema,
  encodeFrame,
  WirecallError,
  type EndEnvelope,
  type ItemEnvelope,
  type SchemaLike,
  decodeValue,
} from '@wirecall/core/internal';

/** Items a caller may send ahead of the handler before it waits for credit. */
export const INPUT_STREAM_WINDOW = 16;

/** What an input stream needs from its call. */
export interface InputStreamOwner {
  readonly id: string | number;
  readonly aborted: boolean;
  readonly abortReason: unknown;
  send(text: string): void;
}

interface Waiter {
  resolve: (step: IteratorResult<unknown>) => void;
  reject: (error: unknown) => void;
}

/**
 * The items a caller streams into a call (an upload), as the async iterable its handler reads.
 * Credits go back to the caller as the handler consumes, so the server holds at most one window of
 * items whatever the caller's speed. Each item is parsed with the contract's `inputStream` schema
 * as it arrives (the receiving end parses). A caller that sends past its credits, or an item off
 * the contract, ends the iteration with `BAD_REQUEST`; a cancel or a lost connection ends it with
 * the call's abort reason.
 */
export class InputStream implements AsyncIterableIterator<unknown> {
  readonly #owner: InputStreamOwner;
  readonly #schema: SchemaLike;
  readonly #queue: unknown[] = [];
  /** Pending `next()` calls, oldest first (a handler may ask for several at once). */
  readonly #waiters: Waiter[] = [];
  /** Items the caller may still send. */
  #outstanding = 0;
  /** Items taken by the handler since the last grant. */
  #consumed = 0;
  #ended = false;
  #failure: Error | undefined;
  /** The handler stopped reading (break, return): further items are dropped. */
  #closed = false;

  constructor(owner: InputStreamOwner, schema: SchemaLike) {
    this.#owner = owner;
    this.#schema = schema;
  }

  /** Opens the window: the caller starts sending. */
  start(): void {
    this.#grant(INPUT_STREAM_WINDOW);
  }

  /** An `item` or `end` frame for this call arrived. */
  accept(envelope: ItemEnvelope | EndEnvelope): void {
    if (this.#ended || this.#closed || this.#failure !== undefined) return;
    if (envelope.t === 'end') {
      this.#ended = true;
      this.#wake();
      return;
    }
    if (this.#outstanding <= 0) {
      this.fail(new WirecallError('BAD_REQUEST', 'The caller sent more items than it was granted'));
      return;
    }
    this.#outstanding--;
    try {
      const checked = checkSchema(this.#schema, decodeValue(envelope));
      if (!checked.ok) {
        throw new WirecallError('BAD_REQUEST', 'An item of the input stream does not match the contract', {
          data: { issues: checked.issues },
        });
      }
      this.#queue.push(checked.value);
      this.#wake();
    } catch (error) {
      this.fail(error);
    }
  }

  /** Ends the iteration with an error (a bad item, the call aborted). */
  fail(error: unknown): void {
    if (this.#failure !== undefined || this.#closed) return;
    this.#failure = error as Error;
    this.#wake();
  }

  next(): Promise<IteratorResult<unknown>> {
    if (this.#queue.length > 0) return Promise.resolve(this.#take());
    const ended = this.#settled();
    if (ended !== undefined) return ended;
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** The handler stopped reading: nothing more is granted, and what arrives is dropped. */
  return(): Promise<IteratorResult<unknown>> {
    this.#closed = true;
    this.#queue.length = 0;
    for (const waiter of this.#waiters.splice(0)) waiter.resolve({ done: true, value: undefined });
    return Promise.resolve({ done: true, value: undefined });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  #take(): IteratorResult<unknown> {
    const value = this.#queue.shift();
    // Grant in batches of half a window: one `credit` frame per eight items, not one per item.
    if (++this.#consumed >= INPUT_STREAM_WINDOW / 2 && !this.#ended && !this.#closed) {
      this.#grant(this.#consumed);
      this.#consumed = 0;
    }
    return { done: false, value };
  }

  /** What `next()` gives when the queue is empty and no more items will come, or undefined. */
  #settled(): Promise<IteratorResult<unknown>> | undefined {
    if (this.#closed || this.#ended) return Promise.resolve({ done: true, value: undefined });
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#owner.aborted) {
      const reason = this.#owner.abortReason as Error;
      return Promise.reject(reason);
    }
    return undefined;
  }

  #wake(): void {
    while (this.#waiters.length > 0 && this.#queue.length > 0) this.#waiters.shift()!.resolve(this.#take());
    if (this.#waiters.length === 0) return;
    const ended = this.#settled();
    if (ended === undefined) return;
    for (const waiter of this.#waiters.splice(0)) ended.then(waiter.resolve, waiter.reject);
  }

  #grant(n: number): void {
    this.#outstanding += n;
    this.#owner.send(encodeFrame({ t: 'credit', id: this.#owner.id, n }));
  }
}
