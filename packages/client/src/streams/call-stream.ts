import type { WirecallError } from '@wirecall/core/internal';

/**
 * What a streaming call returns: its items as an async iterable, and its final value as a promise
 * beside it.
 *
 * ```
 *  const reply = client.call.reply({ prompt }, { signal });
 *  for await (const { token } of reply) render(token);   // break, return() or signal: cancels
 *  const { tokens } = await reply.result;                 // after the last item
 * ```
 *
 * The iteration ends after the last item, or throws the call's error (a handler that failed
 * mid-stream, `TIMEOUT`, `CONNECTION_LOST` with `data.received`) after the items that arrived
 * before it. `result` settles once the iteration has: consume the items (or cancel) first.
 */
export interface CallStream<TItem, TFinal> extends AsyncIterableIterator<TItem> {
  /** The final value: the handler generator's return value, parsed with the output schema. */
  readonly result: Promise<TFinal>;
  /** Items received so far (delivered or waiting to be). */
  readonly received: number;
  /** Stops the stream, like `break`: the server's generator is closed. */
  cancel(): void;
  /** What `break` calls: stops the stream unless it already ended. */
  return(): Promise<IteratorResult<TItem>>;
}

/** What a stream needs from the call that carries it. */
export interface StreamCallSink {
  /** The caller took `n` items: the server may send that many more. */
  grant(n: number): void;
  /** The caller stopped reading (break, return, cancel). */
  cancel(): void;
  /** Whether the consumer now waits on the server (arms the per-item timeout) or not. */
  waiting(isWaiting: boolean): void;
}

interface Waiter {
  resolve: (step: IteratorResult<unknown>) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: WirecallError };

const DONE: IteratorResult<unknown> = { done: true, value: undefined };

/**
 * The client's side of one streaming call: buffers at most one window of items (the server sends
 * no more than it was granted), grants credits back in batches of half a window as the consumer
 * reads, and ends the iteration with the call's outcome.
 */
export class ClientStream implements CallStream<unknown, unknown> {
  readonly #sink: StreamCallSink;
  readonly #window: number;
  readonly #buffer: unknown[] = [];
  readonly #waiters: Waiter[] = [];
  #consumed = 0;
  #received = 0;
  /** Items the server may still send: the credits granted and not yet used. */
  #allowance: number;
  #outcome: Outcome | undefined;
  /** The iteration already ended (done, threw, or was returned). */
  #over = false;
  #result: Promise<unknown> | undefined;
  #settleResult: ((outcome: Outcome) => void) | undefined;

  constructor(sink: StreamCallSink, window: number) {
    this.#sink = sink;
    this.#window = window;
    this.#allowance = window;
  }

  /**
   * The credits the call announces when it is sent: the window, less what is still unread (a
   * resumable stream reopened after a drop), and at least one.
   */
  openCredits(): number {
    this.#consumed = 0;
    this.#allowance = Math.max(1, this.#window - this.#buffer.length);
    return this.#allowance;
  }

  get received(): number {
    return this.#received;
  }

  get result(): Promise<unknown> {
    if (this.#result === undefined) {
      this.#result = new Promise((resolve, reject) => {
        this.#settleResult = (outcome) => (outcome.ok ? resolve(outcome.value) : reject(outcome.error));
        if (this.#outcome !== undefined) this.#settleResult(this.#outcome);
      });
      // Looking at `result` and then breaking out of the loop is no unhandled rejection: whoever
      // awaits it still gets the error.
      this.#result.catch(() => {});
    }
    return this.#result;
  }

  /**
   * An item arrived (already parsed by the stream schema). Returns false when the server sent past
   * the credit it was given: the caller fails the call, so a faulty server cannot grow this buffer.
   */
  push(item: unknown): boolean {
    if (this.#outcome !== undefined) return true;
    if (this.#allowance <= 0) return false;
    this.#allowance--;
    this.#received++;
    const waiter = this.#waiters.shift();
    if (waiter === undefined) {
      this.#buffer.push(item);
      this.#sink.waiting(false);
    } else {
      this.#consume();
      waiter.resolve({ done: false, value: item });
      if (this.#waiters.length === 0) this.#sink.waiting(false);
    }
    return true;
  }

  /** The call ended with its final value. */
  finish(value: unknown): void {
    this.#end({ ok: true, value });
  }

  /** The call failed (the handler threw, a timeout, a drop, a cancel). */
  fail(error: WirecallError): void {
    this.#end({ ok: false, error });
  }

  next(): Promise<IteratorResult<unknown>> {
    if (this.#buffer.length > 0) {
      this.#consume();
      return Promise.resolve({ done: false, value: this.#buffer.shift() });
    }
    if (this.#over) return Promise.resolve(DONE);
    const outcome = this.#outcome;
    if (outcome !== undefined) {
      this.#over = true;
      return outcome.ok ? Promise.resolve(DONE) : Promise.reject(outcome.error);
    }
    this.#sink.waiting(true);
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** `break` out of `for await` lands here: the stream is cancelled unless it already ended. */
  return(): Promise<IteratorResult<unknown>> {
    this.#over = true;
    this.#buffer.length = 0;
    // A `next()` still waiting ends too, as done: the app stopped the stream itself.
    for (const waiter of this.#waiters.splice(0)) waiter.resolve(DONE);
    if (this.#outcome === undefined) this.#sink.cancel();
    return Promise.resolve(DONE);
  }

  throw(error?: unknown): Promise<IteratorResult<unknown>> {
    void this.return();
    const reason = error as Error;
    return Promise.reject(reason);
  }

  cancel(): void {
    void this.return();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  #consume(): void {
    // One `credit` frame per half window read, not one per item.
    if (++this.#consumed >= Math.max(1, this.#window >> 1) && this.#outcome === undefined) {
      this.#allowance += this.#consumed;
      this.#sink.grant(this.#consumed);
      this.#consumed = 0;
    }
  }

  #end(outcome: Outcome): void {
    if (this.#outcome !== undefined) return;
    this.#outcome = outcome;
    this.#settleResult?.(outcome);
    // Waiters exist only while the buffer is empty: they get the end now.
    for (const waiter of this.#waiters.splice(0)) {
      this.#over = true;
      if (outcome.ok) waiter.resolve(DONE);
      else waiter.reject(outcome.error);
    }
  }
}
