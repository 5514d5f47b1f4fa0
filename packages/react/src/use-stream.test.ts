import type { CallStream } from '@wirecall/client';
import { describe, expect, it } from 'vitest';
import { StreamStore } from './use-stream.js';

/** A stream the test feeds by hand; `returned` says whether the store stopped it. */
function manualStream(): { stream: CallStream<unknown, unknown>; push(item: unknown): void; returned: () => boolean } {
  const queue: unknown[] = [];
  let wake: (() => void) | undefined;
  let stopped = false;
  const stream = {
    result: new Promise<unknown>(() => {}),
    received: 0,
    cancel() {
      stopped = true;
      wake?.();
    },
    return() {
      stream.cancel();
      return Promise.resolve({ done: true as const, value: undefined });
    },
    async next(): Promise<IteratorResult<unknown>> {
      while (queue.length === 0 && !stopped) await new Promise<void>((resolve) => (wake = resolve));
      return stopped ? { done: true, value: undefined } : { done: false, value: queue.shift() };
    },
    [Symbol.asyncIterator]() {
      return stream;
    },
  } as CallStream<unknown, unknown>;
  return {
    stream,
    push(item) {
      queue.push(item);
      wake?.();
    },
    returned: () => stopped,
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('StreamStore', () => {
  it('cancel(generation) stops only the stream that start returned; a later start keeps running', async () => {
    const store = new StreamStore();
    const first = manualStream();
    const second = manualStream();
    const auto = store.start(
      () => first.stream,
      () => ({}),
    );
    store.start(
      () => second.stream,
      () => ({}),
    );
    expect(first.returned()).toBe(true); // replaced: its generator stops

    store.cancel(auto); // the effect of the first start cleans up late
    expect(second.returned()).toBe(false);
    second.push(1);
    await settle();
    expect(store.getSnapshot()).toMatchObject({ status: 'streaming', items: [1] });

    store.cancel();
    expect(second.returned()).toBe(true);
    expect(store.getSnapshot()).toMatchObject({ status: 'cancelled', items: [1] });
  });

  it('drops what a replaced stream still delivers', async () => {
    const store = new StreamStore();
    const first = manualStream();
    store.start(
      () => first.stream,
      () => ({}),
    );
    first.push('old');
    await settle();
    const second = manualStream();
    store.start(
      () => second.stream,
      () => ({}),
    );
    second.push('new');
    await settle();
    expect(store.getSnapshot().items).toEqual(['new']);
  });
});
