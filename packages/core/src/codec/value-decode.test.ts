import { afterEach, describe, expect, it } from 'vitest';
import { WirecallError } from '../errors/wirecall-error.js';
import type { WireValue } from '../protocol/envelopes.js';
import type { SuperJsonMeta } from './meta-guard.js';
import { decodeValue } from './value-decode.js';

/** The guard alone: decodes `json` (a copy) with `meta`, keeping only whether it threw. */
function assertSafeMeta(meta: SuperJsonMeta, json: unknown): void {
  decodeValue({ v: structuredClone(json), m: meta });
}

/** Runs `fn` and returns what it threw; fails the test when it returns normally. */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw, but the call returned');
}

/** Asserts that decoding `wire` (as it would arrive: a fresh JSON.parse result) is refused. */
function expectRefused(wire: WireValue, reason?: RegExp): WirecallError {
  const error = thrownBy(() => decodeValue(JSON.parse(JSON.stringify(wire)) as WireValue));
  expect(error).toBeInstanceOf(WirecallError);
  const wirecallError = error as WirecallError;
  expect(wirecallError.code).toBe('BAD_REQUEST');
  expect(wirecallError.message).toMatch(/^Malformed value: /);
  if (reason) expect(wirecallError.message).toMatch(reason);
  return wirecallError;
}

const meta = (values: unknown): SuperJsonMeta => ({ values, v: 1 });

/** `{ a: { a: ... { a: leaf } } }`, `depth` levels of `a`. */
function nested(depth: number, leaf: unknown): unknown {
  let node = leaf;
  for (let i = 0; i < depth; i++) node = { a: node };
  return node;
}

function isPolluted(): boolean {
  const probe = {} as Record<string, unknown>;
  return (
    probe.polluted !== undefined ||
    Object.hasOwn(Object.prototype, 'polluted') ||
    Object.hasOwn(Array.prototype, 'polluted') ||
    Object.hasOwn(Function.prototype, 'polluted')
  );
}

afterEach(() => {
  // Leave no trace for later tests even when a pollution check fails.
  delete (Object.prototype as Record<string, unknown>).polluted;
  delete (Array.prototype as unknown as Record<string, unknown>).polluted;
});

describe('assertSafeMeta: accepted metas', () => {
  it('accepts every allow-listed simple annotation at the root', () => {
    expect(() => assertSafeMeta(meta(['Date']), '1970-01-01T00:00:00.000Z')).not.toThrow();
    expect(() => assertSafeMeta(meta(['map']), [['k', 1]])).not.toThrow();
    expect(() => assertSafeMeta(meta(['set']), [1])).not.toThrow();
    expect(() => assertSafeMeta(meta(['bigint']), '12')).not.toThrow();
    expect(() => assertSafeMeta(meta(['undefined']), null)).not.toThrow();
    expect(() => assertSafeMeta(meta(['number']), 'NaN')).not.toThrow();
    expect(() => assertSafeMeta(meta([['custom', 'u8']]), 'AQID')).not.toThrow();
  });

  it('accepts a meta without values', () => {
    expect(() => assertSafeMeta({ v: 1 }, 1)).not.toThrow();
  });

  it('accepts escaped dots and backslashes in paths', () => {
    expect(() => assertSafeMeta(meta({ 'a\\.b': ['Date'] }), { 'a.b': 'x' })).not.toThrow();
    expect(() => assertSafeMeta(meta({ 'a\\\\b': ['Date'] }), { 'a\\b': 'x' })).not.toThrow();
    expect(decodeValue({ v: { 'a.b': '5' }, m: meta({ 'a\\.b': ['bigint'] }) })).toEqual({ 'a.b': 5n });
  });

  it('accepts annotations nested 64 levels deep', () => {
    const json = nested(64, '1970-01-01T00:00:00.000Z');
    const decoded = decodeValue({ v: json, m: meta(nested(64, ['Date'])) });
    expect(decoded).toEqual(nested(64, new Date(0)));
  });

  it('accepts a bigint of exactly 4096 digits', () => {
    const digits = '9'.repeat(4096);
    expect(decodeValue({ v: digits, m: meta(['bigint']) })).toBe(BigInt(digits));
  });

  it('accepts a negative bigint', () => {
    expect(decodeValue({ v: '-42', m: meta(['bigint']) })).toBe(-42n);
  });

  it('accepts a negative bigint of exactly 4096 digits (the sign is not a digit)', () => {
    const text = `-${'9'.repeat(4096)}`;
    expect(decodeValue({ v: text, m: meta(['bigint']) })).toBe(BigInt(text));
  });

  it('checks bigint text inside maps and sets against the raw JSON', () => {
    expect(decodeValue({ v: [['k', '5']], m: meta(['map', { '0.1': ['bigint'] }]) })).toEqual(new Map([['k', 5n]]));
    expect(decodeValue({ v: ['7'], m: meta(['set', { '0': ['bigint'] }]) })).toEqual(new Set([7n]));
    expectRefused({ v: [['k', 'x']], m: meta(['map', { '0.1': ['bigint'] }]) }, /bigint/);
  });
});

describe('decodeValue: refused metas', () => {
  it('refuses referentialEqualities', () => {
    expectRefused(
      { v: { a: { x: 1 }, b: { x: 1 } }, m: { v: 1, referentialEqualities: { a: ['b'] } } },
      /referentialEqualities/,
    );
    expectRefused(
      {
        v: { a: '1970-01-01T00:00:00.000Z', b: null },
        m: { v: 1, values: { a: ['Date'] }, referentialEqualities: { a: ['b'] } },
      },
      /referentialEqualities/,
    );
  });

  it('refuses any other unknown meta key', () => {
    expectRefused({ v: 1, m: { v: 1, extra: true } }, /meta\.extra/);
    expectRefused({ v: 1, m: JSON.parse('{"v":1,"__proto__":{"polluted":1}}') as SuperJsonMeta }, /__proto__/);
    expect(isPolluted()).toBe(false);
  });

  it('refuses a missing or wrong meta.v', () => {
    expectRefused({ v: '1970-01-01T00:00:00.000Z', m: { values: ['Date'] } }, /meta\.v must be 1/);
    expectRefused({ v: '1970-01-01T00:00:00.000Z', m: { values: ['Date'], v: 2 } }, /meta\.v must be 1/);
    expectRefused({ v: '1970-01-01T00:00:00.000Z', m: { values: ['Date'], v: 0 } }, /meta\.v must be 1/);
    expectRefused(
      { v: '1970-01-01T00:00:00.000Z', m: { values: ['Date'], v: '1' as unknown as number } },
      /meta\.v must be 1/,
    );
  });

  it.each([
    ['regexp', '/a+$/'],
    ['Error', { name: 'Error', message: 'x' }],
    ['URL', 'https://example.com/'],
    ['class', { a: 1 }],
    ['symbol', 'x'],
    ['typed-array', [1, 2]],
    ['custom', 'AQID'],
    ['Infinity', 1],
    ['', 1],
  ])('refuses the simple annotation %j', (annotation, json) => {
    expectRefused({ v: json, m: meta([annotation]) }, /not accepted/);
    expectRefused({ v: { x: json }, m: meta({ x: [annotation] }) }, /not accepted/);
  });

  it.each([
    [['class', 'X'], { a: 1 }],
    [['symbol', 'x'], 'x'],
    [
      ['typed-array', 'Uint8Array'],
      [1, 2, 3],
    ],
    [['custom', 'other'], 'AQID'],
    [['custom', 'u8', 'extra'], 'AQID'],
    [['custom'], 'AQID'],
    [['custom', 8], 'AQID'],
    [{ custom: 'u8' }, 'AQID'],
    [null, 1],
    [7, 1],
  ])('refuses the composite annotation %j', (annotation, json) => {
    expectRefused({ v: json, m: meta([annotation]) }, /not accepted/);
  });

  it('refuses a typed-array annotation produced by a Float32Array sender', () => {
    expectRefused({ v: [1, 2], m: meta([['typed-array', 'Float32Array']]) });
  });

  it.each(['__proto__', 'constructor', 'prototype'])('refuses paths through %s', (key) => {
    expectRefused({ v: {}, m: meta({ [key]: ['undefined'] }) }, /forbidden key/);
    expectRefused({ v: { a: {} }, m: meta({ [`a.${key}.polluted`]: ['Date'] }) }, /forbidden key/);
    expectRefused({ v: { a: {} }, m: meta({ a: [['custom', 'u8'], { [key]: ['Date'] }] }) }, /forbidden key/);
    expectRefused({ v: { a: { b: {} } }, m: meta({ a: { b: { [`${key}.x`]: ['undefined'] } } }) }, /forbidden key/);
    expect(isPolluted()).toBe(false);
  });

  it('refuses bad escapes in paths', () => {
    expectRefused({ v: { ab: 1 }, m: meta({ 'a\\b': ['undefined'] }) }, /bad path escape/);
    expectRefused({ v: { a: 1 }, m: meta({ 'a\\': ['undefined'] }) }, /bad path escape/);
    // An escaped underscore must not let __proto__ slip past the forbidden-key check.
    expectRefused({ v: {}, m: meta({ '\\_\\_proto__': ['undefined'] }) });
  });

  it('refuses bigints that are too long, not decimal, or not strings', () => {
    expectRefused({ v: '1'.repeat(4097), m: meta(['bigint']) }, /bigint/);
    expectRefused({ v: '0x10', m: meta(['bigint']) }, /bigint/);
    expectRefused({ v: '1e3', m: meta(['bigint']) }, /bigint/);
    expectRefused({ v: ' 1', m: meta(['bigint']) }, /bigint/);
    expectRefused({ v: '', m: meta(['bigint']) }, /bigint/);
    expectRefused({ v: 'abc', m: meta(['bigint']) }, /bigint/);
    expectRefused({ v: 10, m: meta(['bigint']) }, /bigint/);
    expectRefused({ v: {}, m: meta({ missing: ['bigint'] }) }, /does not exist/);
  });

  it('refuses annotation trees nested deeper than 64', () => {
    const json = nested(65, '1970-01-01T00:00:00.000Z');
    expectRefused({ v: json, m: meta(nested(65, ['Date'])) }, /nested too deeply/);
    // Deep enough to overflow the stack if the guard recursed without a bound; built as text
    // because JSON.stringify itself would overflow on it.
    const depth = 20_000;
    const text = `{"v":null,"m":{"v":1,"values":${'{"a":'.repeat(depth)}["Date"]${'}'.repeat(depth)}}}`;
    const error = thrownBy(() => decodeValue(JSON.parse(text) as WireValue));
    expect(error).toBeInstanceOf(WirecallError);
    // Refused (the path is not in the data) before the walk goes deep: no stack overflow.
    expect(error).toMatchObject({
      code: 'BAD_REQUEST',
      message: expect.stringMatching(/^Malformed value: /) as string,
    });
  });

  it('refuses more than 100,000 annotations', () => {
    const values: Record<string, unknown> = {};
    const data: Record<string, null> = {};
    for (let i = 0; i <= 100_000; i++) {
      values[`k${i}`] = ['undefined'];
      data[`k${i}`] = null;
    }
    expectRefused({ v: data, m: meta(values) }, /too many annotations/);
  });

  it('refuses malformed annotation nodes', () => {
    expectRefused({ v: 1, m: meta([]) }, /\[type\] or \[type, children\]/);
    expectRefused({ v: 1, m: meta(['Date', {}, {}]) }, /\[type\] or \[type, children\]/);
    expectRefused({ v: 1, m: meta('Date') }, /children must be an object/);
    expectRefused({ v: 1, m: meta(null) }, /children must be an object/);
    expectRefused({ v: [1], m: meta(['set', ['Date']]) }, /children must be an object/);
  });

  it('refuses a map annotation on data that is not an array of pairs', () => {
    expectRefused({ v: 'ab', m: meta(['map']) });
    expectRefused({ v: 5, m: meta(['map']) });
    expectRefused({ v: {}, m: meta(['map']) });
    expectRefused({ v: [1, 2], m: meta(['map']) });
    expectRefused({ v: ['ab'], m: meta(['map']) });
  });

  it('refuses a map annotation on entries that are not [key, value] pairs', () => {
    expectRefused({ v: [[1]], m: meta(['map']) });
    expectRefused({ v: [[1, 2, 3]], m: meta(['map']) });
    expectRefused({ v: [{ 0: 'a', 1: 'b' }], m: meta(['map']) });
    expectRefused({ v: null, m: meta(['map']) });
  });

  it('refuses a set annotation on data that is not an array', () => {
    expectRefused({ v: { a: 1 }, m: meta(['set']) });
    expectRefused({ v: 'abc', m: meta(['set']) });
  });

  it('refuses an annotation on a path that does not exist in the data', () => {
    expectRefused({ v: {}, m: meta({ a: ['Date'] }) });
    expectRefused({ v: { a: 1 }, m: meta({ b: ['undefined'] }) });
  });

  it('refuses a u8 annotation on invalid base64 or a non-string', () => {
    expectRefused({ v: 'AQ-/', m: meta([['custom', 'u8']]) });
    expectRefused({ v: 'AQI', m: meta([['custom', 'u8']]) });
    expectRefused({ v: 'AQ I', m: meta([['custom', 'u8']]) });
    expectRefused({ v: 5, m: meta([['custom', 'u8']]) });
    expectRefused({ v: [1, 2], m: meta([['custom', 'u8']]) });
  });

  it('keeps the underlying failure as cause when bytes are not base64', () => {
    const error = expectRefused({ v: 'AQ-/', m: meta([['custom', 'u8']]) });
    expect(error.message).toBe('Malformed value: bytes are not valid base64');
    expect(error.cause).toBeInstanceOf(TypeError);
  });
});

describe('prototype pollution', () => {
  const hostile: WireValue[] = [
    { v: JSON.parse('{"__proto__":{"polluted":"yes"}}'), m: meta({ '__proto__.polluted': ['undefined'] }) },
    { v: { constructor: { prototype: {} } }, m: meta({ 'constructor.prototype.polluted': ['Date'] }) },
    { v: { a: {} }, m: meta({ 'a.__proto__.polluted': ['bigint'] }) },
    { v: [[]], m: meta({ '0.__proto__.polluted': ['set'] }) },
    { v: {}, m: meta({ a: ['map', { '__proto__.polluted': ['undefined'] }] }) },
    { v: {}, m: meta(JSON.parse('{"__proto__":{"polluted":["undefined"]}}')) },
    { v: 'x', m: JSON.parse('{"v":1,"values":["Date"],"__proto__":{"polluted":1}}') as SuperJsonMeta },
    { v: {}, m: { v: 1, referentialEqualities: { 'constructor.prototype': ['polluted'] } } },
  ];

  it('survives hostile metas without touching Object.prototype', () => {
    for (const wire of hostile) {
      const error = thrownBy(() => decodeValue(JSON.parse(JSON.stringify(wire)) as WireValue));
      expect(error).toMatchObject({ code: 'BAD_REQUEST' });
    }
    expect(isPolluted()).toBe(false);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('keeps an own __proto__ key of the data as plain data', () => {
    const wire = JSON.parse(
      '{"v":{"__proto__":{"polluted":"yes"},"at":"1970-01-01T00:00:00.000Z"},"m":{"v":1,"values":{"at":["Date"]}}}',
    ) as WireValue;
    const decoded = decodeValue(wire) as Record<string, unknown>;
    expect(decoded.at).toEqual(new Date(0));
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(isPolluted()).toBe(false);
  });
});

describe('long annotation paths', () => {
  it('refuses a path of more segments than any value has', () => {
    const path = Array.from({ length: 300 }, () => 'a').join('.');
    expect(() => assertSafeMeta({ values: { [path]: ['Date'] }, v: 1 }, {})).toThrow(/annotation path too long/);
  });

  it('refuses many long paths in one tree before they cost seconds', () => {
    const path = Array.from({ length: 250 }, (_unused, i) => `k${i}`).join('.');
    // Children without annotations of their own: nothing refuses them but the total path work.
    const values: Record<string, unknown> = {};
    const leaf: Record<string, unknown> = {};
    for (let i = 0; i < 5_000; i++) {
      values[`${path}.x${i}`] = {};
      leaf[`x${i}`] = {};
    }
    // Every path is in the data: only the total work refuses it.
    let data: unknown = leaf;
    for (let i = 249; i >= 0; i--) data = { [`k${i}`]: data };
    expect(() => assertSafeMeta({ values, v: 1 }, data)).toThrow(/annotation paths too long/);
  });
});
