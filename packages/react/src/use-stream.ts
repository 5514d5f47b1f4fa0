import { skipToken } from '@tanstack/react-query';
import type { CallStream } from '@wirecall/client';
import { useCallback, useEffect, useState, useSyncExternalStore } from 'react';
import type { WirecallStreamOptions } from './options-types.js';
import { useLatest } from './use-latest.js';

/** Where a stream is: not started, receiving items, ended with its final value, failed, or cancelled. */
export type StreamStatus = 'idle' | 'streaming' | 'success' | 'error' | 'cancelled';

interface StreamStateBase<TItem> {
  /** Every item received so far, in order (a new array on each item). */
  readonly items: readonly TItem[];
}

/** What `useStream` shows, by status: the final value only on `success`, the error only on `error`. */
export type StreamState<TItem, TOutput, TError> =
  | (StreamStateBase<TItem> & { status: 'idle' | 'streaming' | 'cancelled'; result: undefined; error: null })
  | (StreamStateBase<TItem> & { status: 'success'; result: TOutput; error: null })
  | (StreamStateBase<TItem> & { status: 'error'; result: undefined; error: TError });

/** `useStream`'s result: the state, and what the component can do with the stream. */
export type UseStreamResult<TInput, TItem, TOutput, TError> = StreamState<TItem, TOutput, TError> & {
  /** `status === 'streaming'`. */
  readonly isStreaming: boolean;
  /**
   * Starts the stream now: with `input`, or the options' input. A stream still running is
   * cancelled first (its server generator stops); the items start again from none.
   */
  start(input?: TInput): void;
  /** Stops the stream (the server's generator stops: its `signal` aborts, its `finally` runs). */
  cancel(): void;
  /** Cancels, and forgets the items, result and error (`idle`). */
  reset(): void;
};

type AnyState = StreamState<unknown, unknown, unknown>;

const IDLE: AnyState = { status: 'idle', items: [], result: undefined, error: null };

interface StreamCallbacks {
  onItem?: (item: unknown) => void;
  onResult?: (result: unknown) => void;
  onError?: (error: unknown) => void;
}

/**
 * One component's stream, outside React: starts and cancels calls, and keeps the state that the
 * hook reads through `useSyncExternalStore`. Each start is a new generation; whatever a cancelled or
 * replaced call still delivers is dropped.
 */
export class StreamStore {
  #state: AnyState = IDLE;
  readonly #listeners = new Set<() => void>();
  #stream: CallStream<unknown, unknown> | undefined;
  #controller: AbortController | undefined;
  #generation = 0;

  readonly subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  readonly getSnapshot = (): AnyState => this.#state;

  /** Starts `open`'s stream, cancelling the one before; returns the start's generation. */
  start(open: (signal: AbortSignal) => CallStream<unknown, unknown>, callbacks: () => StreamCallbacks): number {
    this.#stop();
    const generation = ++this.#generation;
    const controller = new AbortController();
    this.#controller = controller;
    this.#set({ status: 'streaming', items: [], result: undefined, error: null });
    const current = (): boolean => generation === this.#generation;
    void (async () => {
      try {
        const stream = open(controller.signal);
        this.#stream = stream;
        for await (const item of stream) {
          if (!current()) return;
          this.#set({ ...this.#state, items: [...this.#state.items, item] });
          callbacks().onItem?.(item);
        }
        if (!current()) return;
        const result = await stream.result;
        if (!current()) return;
        this.#end();
        this.#set({ status: 'success', items: this.#state.items, result, error: null });
        callbacks().onResult?.(result);
      } catch (error) {
        if (!current()) return;
        this.#end();
        this.#set({ status: 'error', items: this.#state.items, result: undefined, error });
        callbacks().onError?.(error);
      }
    })();
    return generation;
  }

  /**
   * Stops the running stream, if any: `cancelled`, with the items it had. With `generation`, only
   * when that start's stream is still the running one.
   */
  cancel(generation?: number): void {
    if (generation !== undefined && generation !== this.#generation) return;
    if (this.#stop()) this.#set({ ...this.#state, status: 'cancelled' } as AnyState);
  }

  reset(): void {
    this.#stop();
    this.#set(IDLE);
  }

  /** Cancels the running call; true when there was one. */
  #stop(): boolean {
    if (this.#state.status !== 'streaming') return false;
    this.#generation++;
    const stream = this.#stream;
    const controller = this.#controller;
    this.#end();
    // `return()` (what `cancel()` and `break` call) stops the server's generator; the signal also
    // covers a call not sent yet.
    void stream?.return();
    controller?.abort();
    return true;
  }

  #end(): void {
    this.#stream = undefined;
    this.#controller = undefined;
  }

  #set(state: AnyState): void {
    this.#state = state;
    for (const listener of this.#listeners) listener();
  }
}

/**
 * A streaming procedure's items as component state: the items so far, the final value, the error,
 * and `start` / `cancel`.
 *
 * ```
 *  idle ──start / mount with an input──► streaming ──items──► streaming ──end──► success (result)
 *                                           │ ╰──────────────────────failure──► error (error)
 *                                           ╰──cancel, unmount, new input──► cancelled
 * ```
 *
 * With an input (`streamOptions(input)`), the stream starts on mount and restarts when the input
 * changes by value; with `skipToken` (or `enabled: false`) it waits for `start(input)`. Unmounting
 * cancels it: the server's generator stops. Under StrictMode, a stream that starts on mount starts,
 * is cancelled and starts again (the first call's generator stops at once).
 *
 * @example
 * const reply = useStream(wc.ask.streamOptions(skipToken));
 * <button onClick={() => reply.start({ question })}>Ask</button>
 * <p>{reply.items.map((item) => item.token).join('')}</p>
 */
export function useStream<TInput, TItem, TOutput, TError>(
  options: WirecallStreamOptions<TInput, TItem, TOutput, TError>,
): UseStreamResult<TInput, TItem, TOutput, TError> {
  const [store] = useState(() => new StreamStore());
  const state = useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
  const optionsRef = useLatest(options);
  const autoKey = options.enabled && options.input !== skipToken ? options.inputKey : undefined;

  const start = useCallback(
    (input?: TInput) => {
      const current = optionsRef.current;
      const chosen = input === undefined ? current.input : input;
      if (chosen === skipToken) throw new TypeError(`wirecall: start ${current.wirecall.path} with an input`);
      return store.start(
        (signal) => optionsRef.current.open(chosen, signal),
        () => optionsRef.current as StreamCallbacks,
      );
    },
    [store, optionsRef],
  );

  useEffect(() => {
    if (autoKey === undefined) return undefined;
    const generation = start();
    // Only the stream this input started: one started since by `start(input)` keeps running.
    return () => store.cancel(generation);
  }, [autoKey, start, store]);
  // Unmounting stops a stream started by `start()` too.
  useEffect(() => () => store.cancel(), [store]);

  const cancel = useCallback(() => store.cancel(), [store]);
  const reset = useCallback(() => store.reset(), [store]);
  return {
    ...(state as StreamState<TItem, TOutput, TError>),
    isStreaming: state.status === 'streaming',
    start,
    cancel,
    reset,
  };
}
