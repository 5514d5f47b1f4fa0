import type { WireValue } from '@wirecall/core/internal';
import { decodeValue as decodeOnServer, encodeValue as encodeOnServer } from '../../server/src/codec/value-codec.js';
import { describe, expect, it } from 'vitest';
import { decodeValue, encodeValue } from './value-codec.js';

/** What the server makes of a value this client sent: through JSON text and core's guarded decoder. */
function roundTrip(value: unknown): unknown {
  return decodeOnServer(JSON.parse(JSON.stringify(encodeValue(value))) as WireValue);
}

describe('client value codec', () => {
  it('sends plain JSON as is, without annotations', () => {
    const value = { a: 1, list: ['x', null, true] };
    const wire = encodeValue(value);
    expect(wire).toEqual({ v: value });
    expect(wire.v).toBe(value);
  });

  it('sends what the server guard accepts: Date, BigInt, Map, Set, undefined, special numbers, bytes', () => {
    const value = {
      at: new Date(Date.UTC(2020, 1, 2)),
      big: 2n ** 70n,
      map: new Map<unknown, unknown>([
        ['k', new Set([1, 2])],
        [3, new Date(0)],
      ]),
      gone: undefined,
      numbers: [Number.NaN, Infinity, -Infinity, -0],
      bytes: new Uint8Array([0, 255, 7]),
      'dotted.key': new Date(1),
    };
    expect(roundTrip(value)).toEqual(value);
  });

  it('copies an object that appears twice, as the receiver would see it anyway', () => {
    const shared = { when: new Date(5) };
    const decoded = roundTrip({ from: shared, to: shared, list: [shared] }) as Record<string, unknown>;
    expect(decoded).toEqual({ from: shared, to: shared, list: [shared] });
  });

  it('refuses a value that contains itself, at any depth', () => {
    const root: Record<string, unknown> = { at: new Date(0) };
    root.self = root;
    expect(() => encodeValue(root)).toThrow(/cycle/);
    const inner: Record<string, unknown> = { at: new Date(0) };
    inner.again = { back: inner };
    expect(() => encodeValue({ wrap: inner })).toThrow(/cycle/);
    // The cyclic object is also reachable by a shorter path, which superjson lists first.
    const first: Record<string, unknown> = { at: new Date(0) };
    const second: Record<string, unknown> = { prev: first };
    first.next = second;
    expect(() => encodeValue({ items: [first, second], selected: first })).toThrow(/cycle/);
    const looped: Record<string, unknown> = { at: new Date(0) };
    looped.self = looped;
    expect(() => encodeValue({ deep: { looped }, top: looped })).toThrow(/cycle/);
    const list: unknown[] = [];
    list.push({ list });
    expect(() => encodeValue(list)).toThrow(/cycle/);
  });

  it('decodes what the server encodes', () => {
    const value = { at: new Date(9), tags: new Set(['a']), bytes: new Uint8Array([1]) };
    expect(decodeValue(JSON.parse(JSON.stringify(encodeOnServer(value))) as WireValue)).toEqual(value);
  });

  it('rejects a prototype key in the annotations instead of polluting', () => {
    const wire = { v: { a: 'x' }, m: { values: { '__proto__.polluted': ['Date'] }, v: 1 } };
    expect(() => decodeValue(wire)).toThrow();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
