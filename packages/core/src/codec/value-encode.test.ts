import { SuperJSON } from 'superjson';
import { describe, expect, it } from 'vitest';
import type { WireValue } from '../protocol/envelopes.js';
import { decodeValue } from './value-decode.js';
import { encodeValue, isoText } from './value-encode.js';

/** What the peer makes of a value: through JSON text and the guarded decoder. */
function roundTrip(value: unknown): unknown {
  return decodeValue(JSON.parse(JSON.stringify(encodeValue(value))) as WireValue);
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

  it('writes Dates as ISO text, copying only the containers on their way, annotated where they sit', () => {
    const untouched = { deep: [1, 'x'] };
    const value = { seq: 1, at: new Date(7), list: [{ when: new Date(8) }, 2], 'a.b': new Date(9), untouched };
    const wire = encodeValue(value);
    expect(wire.v).not.toBe(value);
    expect((wire.v as typeof value).untouched).toBe(untouched);
    expect((wire.v as Record<string, unknown>).at).toBe('1970-01-01T00:00:00.007Z');
    expect(wire.m).toEqual({ values: { at: ['Date'], 'list.0.when': ['Date'], 'a\\.b': ['Date'] }, v: 1 });
    expect(roundTrip(value)).toEqual(value);
  });

  it('refuses containers nested deeper than 1,000 levels, which JSON.stringify or a receiver would overflow on', () => {
    const nest = (levels: number): unknown => {
      let value: unknown = 'leaf';
      for (let i = 0; i < levels; i++) value = [value];
      return value;
    };
    expect(roundTrip(nest(1_000))).toEqual(nest(1_000));
    expect(() => encodeValue(nest(1_001))).toThrow(/nested deeper than 1000 levels/);
    expect(() => encodeValue(nest(100_000))).toThrow(TypeError);
  });

  it('formats ISO text exactly as toISOString does, every year included', () => {
    const instants = [
      0,
      -1,
      1,
      999,
      Date.UTC(2026, 11, 31, 23, 59, 59, 999),
      Date.UTC(999, 0, 1),
      Date.UTC(10_000, 0, 1),
    ];
    instants.push(-62198755200000, 8.64e15, -8.64e15);
    for (let ms = -2e12; ms < 4e12; ms += 7_777_777_777) instants.push(ms);
    for (const ms of instants) expect(isoText(new Date(ms))).toBe(new Date(ms).toISOString());
    expect(() => isoText(new Date(Number.NaN))).toThrow(TypeError);
  });

  it('copies a value holding a Date whose toJSON was replaced, so the ISO text still travels', () => {
    const odd = new Date(3);
    odd.toJSON = () => 'not a date';
    const wire = encodeValue({ odd });
    expect(wire.v).toEqual({ odd: odd.toISOString() });
    expect(roundTrip({ odd })).toEqual({ odd: new Date(3) });
  });

  it('rejects a prototype key in the annotations instead of polluting', () => {
    const wire = { v: { a: 'x' }, m: { values: { '__proto__.polluted': ['Date'] }, v: 1 } };
    expect(() => decodeValue(wire)).toThrow();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('superjson reads what we write, and we read what superjson writes', () => {
  const superjson = new SuperJSON();
  superjson.registerCustom<Uint8Array, string>(
    {
      isApplicable: (value): value is Uint8Array => value instanceof Uint8Array,
      serialize: (bytes) => Buffer.from(bytes).toString('base64'),
      deserialize: (text) => new Uint8Array(Buffer.from(text, 'base64')),
    },
    'u8',
  );
  const values: [string, unknown][] = [
    ['Dates in plain data', { at: new Date(1), list: [new Date(2), { deep: new Date(3) }] }],
    [
      'every annotated type',
      {
        big: -(2n ** 65n),
        tags: new Set(['a', new Date(4)]),
        byKey: new Map<unknown, unknown>([[1, { when: new Date(5) }]]),
        gone: undefined,
        odd: [Number.NaN, -0, Infinity],
        bytes: new Uint8Array([1, 2, 250]),
        'dot.ted': { 'back\\slash': new Date(6) },
      },
    ],
  ];

  it.each(values)('%s', (_label, value) => {
    const ours = JSON.parse(JSON.stringify(encodeValue(value))) as WireValue;
    expect(superjson.deserialize({ json: ours.v as never, meta: ours.m as never })).toEqual(value);
    const { json, meta } = superjson.serialize(value);
    expect(decodeValue(JSON.parse(JSON.stringify({ v: json, m: meta })) as WireValue)).toEqual(value);
  });
});
