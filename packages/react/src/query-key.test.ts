import { hashKey } from '@tanstack/react-query';
import { describe, expect, it } from 'vitest';
import { canonicalInput, canonicalText, mutationKeyOf, queryKeyOf } from './query-key.js';

describe('canonicalInput', () => {
  it('sorts object keys and leaves undefined fields out, at every depth', () => {
    expect(canonicalInput({ b: 1, a: { d: undefined, c: [1, undefined] } })).toEqual({ a: { c: [1, null] }, b: 1 });
    expect(JSON.stringify(canonicalInput({ b: 1, a: 2 }))).toBe('{"a":2,"b":1}');
    expect(canonicalText({ x: 1, y: undefined })).toBe(canonicalText({ x: 1 }));
  });

  it('gives values JSON cannot hold a plain form: Date, bigint, Map, Set, bytes, toJSON', () => {
    expect(canonicalInput(new Date('2030-01-01T00:00:00.000Z'))).toBe('2030-01-01T00:00:00.000Z');
    expect(canonicalInput(new Date(Number.NaN))).toBe('Invalid Date');
    expect(canonicalInput(12345678901234567890n)).toBe('12345678901234567890');
    expect(
      canonicalInput(
        new Map<unknown, unknown>([
          ['b', 1],
          ['a', new Set([2, 1])],
        ]),
      ),
    ).toEqual([
      ['a', [1, 2]],
      ['b', 1],
    ]);
    expect(canonicalInput(new Set(['b', 'a']))).toEqual(canonicalInput(new Set(['a', 'b'])));
    expect(canonicalInput(new Uint8Array([1, 2, 255]))).toEqual([1, 2, 255]);
    expect(canonicalInput(new Uint8Array([9, 1, 2]).subarray(1))).toEqual([1, 2]);
    class Money {
      constructor(readonly cents: number) {}
      toJSON(): string {
        return `${this.cents}c`;
      }
    }
    expect(canonicalInput(new Money(5))).toBe('5c');
    expect(canonicalInput(() => 1)).toBeUndefined();
    expect(canonicalInput(Symbol('s'))).toBeUndefined();
  });

  it('makes keys TanStack can hash, equal for equal inputs', () => {
    const key = (input: unknown): string => hashKey(queryKeyOf(['p'], { input }));
    expect(key({ n: 1n, s: new Set([2, 1]) })).toBe(key({ s: new Set([1, 2]), n: 1n }));
    expect(key(new Map([['a', 1]]))).not.toBe(key(new Map([['a', 2]])));
  });
});

describe('keys', () => {
  it('are prefixes from the root to one query', () => {
    expect(queryKeyOf([])).toEqual(['wirecall']);
    expect(queryKeyOf(['users'])).toEqual(['wirecall', ['users']]);
    expect(queryKeyOf(['users', 'get'], { input: { id: 'u1' } })).toEqual([
      'wirecall',
      ['users', 'get'],
      { input: { id: 'u1' } },
    ]);
    expect(queryKeyOf(['ping'], { input: undefined })).toEqual(['wirecall', ['ping'], {}]);
    expect(mutationKeyOf(['bids', 'place'])).toEqual(['wirecall', ['bids', 'place']]);
  });
});
