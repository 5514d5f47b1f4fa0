import { describe, expect, it } from 'vitest';
import { WirecallError } from '../errors/wirecall-error.js';
import type { WireValue } from '../protocol/envelopes.js';
import { packFrame, putBytes, takeBytes, unpackFrame } from './binary-frame.js';
import { decodeValue } from './value-decode.js';
import { encodeValue } from './value-encode.js';

/** What the peer sees: the value encoded, put in a frame, and parsed again. */
function overTheWire(value: unknown): { wire: WireValue; decoded: unknown } {
  const wire = encodeValue(value);
  const received = JSON.parse(JSON.stringify(wire)) as WireValue;
  return { wire, decoded: decodeValue(received) };
}

describe('encodeValue fast path', () => {
  it.each([
    ['a number', 42],
    ['a string', 'hello'],
    ['null', null],
    ['an array', [1, 2, 3]],
    ['a nested object', { a: 1, b: { c: [true, 'x', null] } }],
  ])('sends %s without annotations', (_label, value) => {
    const wire = encodeValue(value);
    expect(wire).toEqual({ v: value });
    expect('m' in wire).toBe(false);
    // The fast path hands the value over as is: no copy.
    expect(wire.v).toBe(value);
  });

  it('sends plain JSON nested deeper than the cheap check without annotations', () => {
    let value: unknown = 'leaf';
    for (let i = 0; i < 40; i++) value = { d: value };
    const { wire, decoded } = overTheWire(value);
    expect('m' in wire).toBe(false);
    expect(decoded).toEqual(value);
  });

  it('encodes undefined as an absent v, and decodes it back', () => {
    expect(encodeValue(undefined)).toEqual({});
    expect(decodeValue({})).toBeUndefined();
  });

  it('returns the JSON part as is when there is no meta', () => {
    const v = { a: 1 };
    expect(decodeValue({ v })).toBe(v);
  });
});

describe('encodeValue -> JSON -> decodeValue round trips', () => {
  it.each([
    ['a Date', new Date('2024-02-29T12:34:56.789Z')],
    [
      'a Map',
      new Map<unknown, unknown>([
        ['a', 1],
        [2, { b: new Date(0) }],
      ]),
    ],
    ['a Map with object keys', new Map([[{ id: 1 }, 'one']])],
    ['a Set', new Set(['a', 'b', 3])],
    ['a BigInt', 12345678901234567890123456789n],
    ['a negative BigInt', -5n],
    ['NaN', Number.NaN],
    ['Infinity', Infinity],
    ['-Infinity', -Infinity],
    ['an object with an undefined property', { a: undefined, b: 1 }],
    ['an array holding undefined', [undefined, 1]],
    ['a Uint8Array', new Uint8Array([0, 1, 127, 128, 255])],
    ['an empty Uint8Array', new Uint8Array(0)],
    ['a mix', { at: new Date(0), tags: new Set(['x']), n: 1n, bytes: new Uint8Array([9]), nested: [{ u: undefined }] }],
  ])('%s', (_label, value) => {
    const { wire, decoded } = overTheWire(value);
    expect(wire.m).toBeDefined();
    expect(wire.m?.v).toBe(1);
    expect(decoded).toEqual(value);
  });

  it('keeps -0 distinct from 0', () => {
    const { decoded } = overTheWire(-0);
    expect(Object.is(decoded, -0)).toBe(true);
    expect(Object.is((overTheWire({ z: -0 }).decoded as { z: number }).z, -0)).toBe(true);
  });

  it('keeps an undefined property as an own key', () => {
    const decoded = overTheWire({ a: undefined, b: 1 }).decoded as Record<string, unknown>;
    expect(Object.hasOwn(decoded, 'a')).toBe(true);
    expect(decoded.a).toBeUndefined();
  });

  it('decodes a BigInt as a bigint, not a number', () => {
    expect(typeof overTheWire(2n ** 80n).decoded).toBe('bigint');
    expect(overTheWire(2n ** 80n).decoded).toBe(2n ** 80n);
  });
});

describe('Uint8Array on the wire', () => {
  it('travels as a base64 string annotated custom/u8, never as an array of numbers', () => {
    const wire = encodeValue(new Uint8Array([1, 2, 3]));
    expect(wire).toEqual({ v: 'AQID', m: { values: [['custom', 'u8']], v: 1 } });
  });

  it('travels as base64 inside objects too', () => {
    const wire = encodeValue({ data: new Uint8Array([255, 254]), n: 1 });
    expect(wire.v).toEqual({ data: '//4=', n: 1 });
    expect(wire.m).toEqual({ values: { data: [['custom', 'u8']] }, v: 1 });
  });

  it('encodes only the bytes of a view, not its whole buffer', () => {
    const view = new Uint8Array(new Uint8Array([9, 9, 1, 2, 3, 9]).buffer, 2, 3);
    const { wire, decoded } = overTheWire(view);
    expect(wire.v).toBe('AQID');
    expect(decoded).toEqual(new Uint8Array([1, 2, 3]));
  });

  it('decodes a Buffer as a plain Uint8Array', () => {
    const decoded = overTheWire(Buffer.from([1, 2])).decoded;
    expect(decoded).toBeInstanceOf(Uint8Array);
    expect(Buffer.isBuffer(decoded)).toBe(false);
    expect(decoded).toEqual(new Uint8Array([1, 2]));
  });

  it('decodes the bytes a binary frame put back in place of base64', () => {
    const value = { file: new Uint8Array([1, 2, 3]), at: new Date(0) };
    const taken = takeBytes(encodeValue(value))!;
    const { header, body } = unpackFrame(packFrame(JSON.stringify(taken.value), taken.blobs));
    const envelope = JSON.parse(header) as WireValue;
    putBytes(envelope, body);
    expect(decodeValue(envelope)).toEqual(value);
  });

  it('refuses a u8 value that is not valid base64', () => {
    let error: unknown;
    try {
      decodeValue({ v: 'AQ*D', m: { values: [['custom', 'u8']], v: 1 } });
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(WirecallError);
    expect((error as WirecallError).code).toBe('BAD_REQUEST');
  });
});

describe('shared references', () => {
  it('sends no referentialEqualities and duplicates the shared value instead', () => {
    const shared = { x: 1, at: new Date(0) };
    const value = { a: shared, b: shared, list: [shared, shared] };
    const wire = encodeValue(value);
    expect(wire.m).toBeDefined();
    expect(Object.keys(wire.m ?? {}).sort()).toEqual(['v', 'values']);
    expect(JSON.stringify(wire)).not.toContain('referentialEqualities');
    const decoded = decodeValue(JSON.parse(JSON.stringify(wire)) as WireValue) as typeof value;
    expect(decoded).toEqual(value);
    // Every copy keeps its annotations, so every copy of the Date comes back as a Date.
    expect(decoded.b.at).toBeInstanceOf(Date);
    expect(decoded.list[1]?.at).toBeInstanceOf(Date);
    expect(decoded.a).not.toBe(decoded.b);
  });

  it('keeps the annotations of a shared value but drops the sharing itself', () => {
    const shared = new Set([1]);
    const wire = encodeValue({ a: shared, b: shared });
    expect(wire.m).toEqual({ values: { a: ['set'], b: ['set'] }, v: 1 });
    const plainShared = { x: 1 };
    const wire2 = encodeValue({ a: plainShared, b: plainShared, u: undefined });
    expect(wire2.m).toEqual({ values: { u: ['undefined'] }, v: 1 });
  });

  it('sends no meta when sharing is the only thing superjson found', () => {
    const shared = { x: 1 };
    let value: unknown = { a: shared, b: shared };
    // Deeper than the cheap check, so superjson walks it and records the sharing.
    for (let i = 0; i < 40; i++) value = { d: value };
    const wire = encodeValue(value);
    expect(wire).toEqual({ v: value });
    expect('m' in wire).toBe(false);
  });
});

describe('values that need annotations but hold reserved key names', () => {
  // Plain JSON with these keys takes the fast path; one Date next to them must not change that.
  it.each(['constructor', 'prototype', '__proto__'])('round-trips an object with a %s key next to a Date', (key) => {
    const plain = JSON.parse(`{"${key}":"McLaren"}`) as Record<string, unknown>;
    expect(overTheWire(plain).decoded).toEqual(plain);
    const value = JSON.parse(`{"${key}":"McLaren"}`) as Record<string, unknown>;
    value.at = new Date(0);
    const decoded = overTheWire(value).decoded as Record<string, unknown>;
    expect(Object.getOwnPropertyDescriptor(decoded, key)?.value).toBe('McLaren');
    expect(decoded.at).toEqual(new Date(0));
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
  });
});
