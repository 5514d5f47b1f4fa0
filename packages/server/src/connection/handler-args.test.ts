import { describe, expect, it } from 'vitest';
import type { ConnectionInfo } from './connection-info.js';
import { handlerArgs } from './handler-args.js';
import { LazyAbort } from './lazy-abort.js';

const connection = { id: '1' } as ConnectionInfo;
const meta = { procedure: 'add', idempotencyKey: undefined };

describe('handlerArgs', () => {
  it('is a plain object with the documented keys, signal included, as an object literal would be', () => {
    const args = handlerArgs({ input: { a: 1 }, ctx: 'ctx', meta, connection }, new LazyAbort());
    expect(Object.getPrototypeOf(args)).toBe(Object.prototype);
    expect(Object.keys(args)).toEqual(['input', 'ctx', 'signal', 'meta', 'connection']);
    expect(Reflect.ownKeys(args)).toEqual(['input', 'ctx', 'signal', 'meta', 'connection']);
    const { get, set, enumerable, configurable } = Object.getOwnPropertyDescriptor(args, 'signal')!;
    expect({ getter: typeof get, set, enumerable, configurable }).toEqual({
      getter: 'function',
      set: undefined,
      enumerable: true,
      configurable: true,
    });
    expect({ ...args }.signal).toBeInstanceOf(AbortSignal);
  });

  it('gives each call the signal of its own source, created on first read', () => {
    const first = new LazyAbort();
    const second = new LazyAbort();
    const argsOfFirst = handlerArgs({ input: 1, ctx: undefined, meta, connection }, first);
    const argsOfSecond = handlerArgs({ input: 2, ctx: undefined, meta, connection }, second);
    first.abort('reason');
    expect(argsOfFirst.signal.aborted).toBe(true);
    expect(argsOfFirst.signal.reason).toBe('reason');
    expect(argsOfFirst.signal).toBe(argsOfFirst.signal);
    expect(argsOfSecond.signal.aborted).toBe(false);
    second.abort('later');
    expect(argsOfSecond.signal.reason).toBe('later');
  });
});
