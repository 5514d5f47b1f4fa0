import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeFrame } from './json-codec.js';

describe('encodeFrame', () => {
  it('writes one envelope as one JSON text', () => {
    expect(encodeFrame({ t: 'call', id: 1, p: 'add', v: { a: 1, b: 2 } })).toBe(
      '{"t":"call","id":1,"p":"add","v":{"a":1,"b":2}}',
    );
  });

  it('omits undefined fields', () => {
    expect(encodeFrame({ t: 'result', id: 1, v: undefined })).toBe('{"t":"result","id":1}');
  });
});

describe('decodeFrame', () => {
  const envelope = { t: 'event', k: 'tick', eid: 'e:1', v: { text: 'héllo ✓' } };
  const text = JSON.stringify(envelope);
  const bytes = new TextEncoder().encode(text);

  it('parses a string frame', () => {
    expect(decodeFrame(text)).toEqual(envelope);
  });

  it('parses a Buffer frame (ws)', () => {
    expect(decodeFrame(Buffer.from(text))).toEqual(envelope);
  });

  it('parses an ArrayBuffer frame', () => {
    expect(decodeFrame(bytes.buffer.slice(0))).toEqual(envelope);
  });

  it('parses only the bytes of a view into a larger buffer', () => {
    const padded = new Uint8Array(bytes.length + 8);
    padded.fill(0x20);
    padded.set(bytes, 4);
    padded[0] = 0x7b; // '{' outside the view: would break the JSON if it were read
    expect(decodeFrame(new Uint8Array(padded.buffer, 4, bytes.length))).toEqual(envelope);
    expect(decodeFrame(new DataView(padded.buffer, 4, bytes.length))).toEqual(envelope);
  });

  it('throws on invalid JSON', () => {
    expect(() => decodeFrame('{"t":')).toThrow(SyntaxError);
    expect(() => decodeFrame(Buffer.from('not json'))).toThrow(SyntaxError);
    expect(() => decodeFrame('')).toThrow(SyntaxError);
  });

  it('throws on invalid UTF-8 instead of replacing characters', () => {
    const invalid = new Uint8Array([0x22, 0xff, 0xfe, 0x22]); // "\xff\xfe"
    expect(() => decodeFrame(invalid)).toThrow(TypeError);
    const truncated = new Uint8Array([0x22, 0xe2, 0x9c, 0x22]); // a cut 3-byte sequence
    expect(() => decodeFrame(truncated)).toThrow(TypeError);
  });

  it('returns non-object JSON as is (the envelope parser refuses it later)', () => {
    expect(decodeFrame('[1,2]')).toEqual([1, 2]);
    expect(decodeFrame('null')).toBeNull();
    expect(decodeFrame('"x"')).toBe('x');
  });

  it('keeps a __proto__ key as own data, without touching the prototype', () => {
    const frame = decodeFrame('{"t":"ping","__proto__":{"polluted":true}}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(frame)).toBe(Object.prototype);
    expect(Object.hasOwn(frame, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('round-trips with encodeFrame', () => {
    expect(decodeFrame(encodeFrame(envelope))).toEqual(envelope);
  });
});
