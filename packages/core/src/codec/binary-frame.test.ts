import { describe, expect, it } from 'vitest';
import type { WireValue } from '../protocol/envelopes.js';
import { hasBytes, packFrame, putBytes, takeBytes, unpackFrame } from './binary-frame.js';
import { decodeValue } from './value-decode.js';
import { encodeValue } from './value-encode.js';

/** A value through a binary frame and back: encode, take the bytes out, pack, unpack, put back, decode. */
function roundTrip(value: unknown): unknown {
  const taken = takeBytes(encodeValue(value));
  expect(taken).toBeDefined();
  const frame = packFrame(JSON.stringify({ t: 'result', id: 1, ...taken!.value }), taken!.blobs);
  const { header, body } = unpackFrame(frame);
  const envelope = JSON.parse(header) as WireValue;
  putBytes(envelope, body);
  return decodeValue(envelope);
}

describe('binary frames', () => {
  it('carry bytes anywhere in a value as raw bytes, and give them back', () => {
    const value = {
      file: new Uint8Array([1, 2, 3]),
      list: [new Uint8Array([4]), 'text', new Uint8Array(0)],
      byName: new Map([['k', new Uint8Array([5, 6])]]),
      'dotted.key': new Uint8Array([7]),
      at: new Date(0),
    };
    expect(roundTrip(value)).toEqual(value);
    expect(roundTrip(new Uint8Array([9, 9]))).toEqual(new Uint8Array([9, 9]));
  });

  it('put the bytes in the body, not base64 in the header', () => {
    const big = new Uint8Array(64 * 1024).fill(7);
    const taken = takeBytes(encodeValue({ big }))!;
    const frame = packFrame(JSON.stringify(taken.value), taken.blobs);
    expect(frame.length).toBeLessThan(big.length + 200);
    expect(unpackFrame(frame).header).toContain('[0,65536]');
  });

  it('leave values without bytes to text frames', () => {
    expect(hasBytes(encodeValue({ a: 1, at: new Date(0) }))).toBe(false);
    expect(takeBytes(encodeValue({ a: 1 }))).toBeUndefined();
  });

  it('give copies as plain Uint8Arrays, never views into the frame', () => {
    const frame = Buffer.from(
      packFrame('{"v":{"a":[0,2]},"m":{"values":{"a":[["custom","u8"]]},"v":1}}', [new Uint8Array([1, 2])]),
    );
    const { header, body } = unpackFrame(frame);
    const envelope = JSON.parse(header) as WireValue;
    putBytes(envelope, body);
    const bytes = (envelope.v as { a: Uint8Array }).a;
    expect(Buffer.isBuffer(bytes)).toBe(false);
    expect(bytes.buffer.byteLength).toBe(2);
  });

  it('do not change the value they were made from (it may sit in history)', () => {
    const wire = encodeValue({ file: new Uint8Array([1]) });
    const before = JSON.stringify(wire);
    takeBytes(wire);
    expect(JSON.stringify(wire)).toBe(before);
    // Deep inside maps and arrays too; what holds no bytes is shared, not copied.
    const plain = { n: [1, 2, 3] };
    const nested = encodeValue({ plain, map: new Map([['k', [{ file: new Uint8Array([2, 3]) }]]]) });
    const nestedBefore = JSON.stringify(nested);
    const taken = takeBytes(nested)!;
    expect(JSON.stringify(nested)).toBe(nestedBefore);
    expect((taken.value.v as { plain: unknown }).plain).toBe((nested.v as { plain: unknown }).plain);
    expect(taken.blobs).toEqual([new Uint8Array([2, 3])]);
  });

  it.each([
    ['a frame shorter than its header length', new Uint8Array([0, 0, 0, 9, 123])],
    ['no header length at all', new Uint8Array([0, 0])],
    ['a header that is not UTF-8', new Uint8Array([0, 0, 0, 1, 0xff])],
  ])('refuse %s', (_label, frame) => {
    expect(() => unpackFrame(frame)).toThrow(/Malformed binary frame/);
  });

  it.each([
    ['bytes outside the body', [0, 5]],
    ['bytes out of order (overlapping what came before)', [2, 1]],
    ['a negative offset', [-1, 1]],
    ['non-integers', [0.5, 1]],
    ['base64 where the body should be', 'AQID'],
  ])('refuse %s', (_label, place) => {
    const envelope: WireValue = { v: { file: place }, m: { values: { file: [['custom', 'u8']] }, v: 1 } };
    expect(() => putBytes(envelope, new Uint8Array(3))).toThrow(/Malformed binary frame/);
  });

  it('refuse annotation trees nested past the bound, and prototype paths', () => {
    let tree: unknown = [['custom', 'u8']];
    let data: unknown = [0, 0];
    for (let i = 0; i < 100; i++) {
      tree = [['set'], { '0': tree }];
      data = [data];
    }
    expect(() => putBytes({ v: data, m: { values: tree, v: 1 } }, new Uint8Array(0))).toThrow(/too deep/);
    const hostile: WireValue = { v: {}, m: { values: { 'a.__proto__': [['custom', 'u8']] }, v: 1 } };
    expect(() => putBytes(hostile, new Uint8Array(0))).toThrow(/forbidden key/);
  });
});

describe('encodeValue with blobs: bytes straight into a binary frame', () => {
  it('writes [offset, length] in order and hands over the bytes themselves, no base64', () => {
    const first = new Uint8Array([1, 2, 3]);
    const second = new Uint8Array([9]);
    const blobs: Uint8Array[] = [];
    const wire = encodeValue({ a: first, list: [second], at: new Date(0) }, blobs);
    expect(wire.v).toEqual({ a: [0, 3], list: [[3, 1]], at: '1970-01-01T00:00:00.000Z' });
    expect(blobs[0]).toBe(first);
    expect(blobs[1]).toBe(second);
    const { header, body } = unpackFrame(packFrame(JSON.stringify(wire), blobs));
    const envelope = JSON.parse(header) as WireValue;
    putBytes(envelope, body);
    expect(decodeValue(envelope)).toEqual({ a: first, list: [second], at: new Date(0) });
    // The next value without blobs is base64 again.
    expect(encodeValue(new Uint8Array([1])).v).toBe('AQ==');
  });
});

describe('frames without needless copies', () => {
  it('packs into memory from an allocator, also a view into a pool at an offset', () => {
    const wire = encodeValue({ file: new Uint8Array([5, 6, 7]) });
    const taken = takeBytes(wire)!;
    const frame = packFrame(JSON.stringify(taken.value), taken.blobs, (size) => Buffer.allocUnsafe(size));
    // Small: Node hands out a slice of its shared pool, at some offset into it.
    expect(frame.byteOffset).toBeGreaterThanOrEqual(0);
    const { header, body } = unpackFrame(new Uint8Array(frame));
    const envelope = JSON.parse(header) as WireValue;
    putBytes(envelope, body);
    expect(decodeValue(envelope)).toEqual({ file: new Uint8Array([5, 6, 7]) });
  });

  it('hands over bytes that fill most of a frame the receiver owns as a view, and copies the rest', () => {
    const big = new Uint8Array(10_000).fill(7);
    const small = new Uint8Array([1, 2]);
    const frameOf = () => {
      const blobs: Uint8Array[] = [];
      const wire = encodeValue({ big, small }, blobs);
      return { frame: new Uint8Array(packFrame(JSON.stringify(wire), blobs)), header: '' };
    };
    const owned = frameOf().frame;
    const unpacked = unpackFrame(owned);
    const envelope = JSON.parse(unpacked.header) as WireValue;
    putBytes(envelope, unpacked.body, true);
    const value = envelope.v as { big: Uint8Array; small: Uint8Array };
    expect(value.big.buffer).toBe(owned.buffer); // a view: no copy of 10 kB
    expect(value.small.buffer).not.toBe(owned.buffer); // would keep the whole frame alive
    expect(value.big).toEqual(big);
    expect(Buffer.isBuffer(value.big)).toBe(false);

    const shared = frameOf().frame;
    const again = unpackFrame(shared);
    const copied = JSON.parse(again.header) as WireValue;
    putBytes(copied, again.body);
    expect((copied.v as { big: Uint8Array }).big.buffer).not.toBe(shared.buffer);
  });
});
