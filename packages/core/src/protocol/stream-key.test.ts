import { describe, expect, it } from 'vitest';
import { stableStringify, streamKey } from './stream-key.js';

describe('stableStringify', () => {
  it('sorts object keys', () => {
    expect(stableStringify({ b: 1, a: 2, c: 3 })).toBe('{"a":2,"b":1,"c":3}');
  });

  it('sorts keys recursively, also inside arrays', () => {
    expect(stableStringify({ z: { y: 1, x: [{ b: 1, a: 2 }] }, a: null })).toBe(
      '{"a":null,"z":{"x":[{"a":2,"b":1}],"y":1}}',
    );
  });

  it('writes a Date as its ISO text, so different Dates give different text', () => {
    expect(stableStringify({ at: new Date(0) })).toBe('{"at":"1970-01-01T00:00:00.000Z"}');
    expect(stableStringify([new Date(1)])).not.toBe(stableStringify([new Date(2)]));
  });

  it('keeps array order', () => {
    expect(stableStringify([3, 1, 2])).toBe('[3,1,2]');
    expect(stableStringify(['b', 'a'])).not.toBe(stableStringify(['a', 'b']));
  });

  it('drops undefined properties, as JSON.stringify does', () => {
    expect(stableStringify({ a: undefined, b: 1 })).toBe('{"b":1}');
    expect(stableStringify({ a: undefined })).toBe('{}');
    expect(stableStringify({ a: undefined, b: 1 })).toBe(stableStringify({ b: 1 }));
  });

  it('writes undefined array items as null, as JSON.stringify does', () => {
    expect(stableStringify([undefined, 1])).toBe('[null,1]');
  });

  it('writes primitives like JSON.stringify', () => {
    expect(stableStringify('a"b')).toBe('"a\\"b"');
    expect(stableStringify(1.5)).toBe('1.5');
    expect(stableStringify(true)).toBe('true');
    expect(stableStringify(null)).toBe('null');
    expect(stableStringify(undefined)).toBe('null');
  });

  it('escapes keys', () => {
    expect(stableStringify({ 'a"b': 1, 'a\\': 2 })).toBe('{"a\\"b":1,"a\\\\":2}');
  });

  it('matches JSON.stringify for input whose keys are already sorted', () => {
    const value = { a: [1, { b: 'x', c: [null, true] }], d: { e: -2.5, f: 'é\u2028' } };
    expect(stableStringify(value)).toBe(JSON.stringify(value));
  });
});

describe('streamKey', () => {
  it('is the bare event name for an event without params', () => {
    expect(streamKey('tick', undefined)).toBe('tick');
  });

  it('is the name plus canonical params, separated by a space', () => {
    expect(streamKey('chatMessage', { room: 'a' })).toBe('chatMessage {"room":"a"}');
  });

  it('gives the same key for the same params in any key order', () => {
    const a = streamKey('feed', { room: 'a', filter: { since: 1, kinds: ['x', 'y'] } });
    const b = streamKey('feed', { filter: { kinds: ['x', 'y'], since: 1 }, room: 'a' });
    expect(a).toBe(b);
  });

  it('gives different keys for different params, names, or array orders', () => {
    expect(streamKey('chat', { room: 'a' })).not.toBe(streamKey('chat', { room: 'b' }));
    expect(streamKey('chat', { room: 'a' })).not.toBe(streamKey('chat2', { room: 'a' }));
    expect(streamKey('chat', { rooms: ['a', 'b'] })).not.toBe(streamKey('chat', { rooms: ['b', 'a'] }));
    expect(streamKey('chat', null)).not.toBe(streamKey('chat', undefined));
  });

  it('ignores params properties that are undefined', () => {
    expect(streamKey('chat', { room: 'a', user: undefined })).toBe(streamKey('chat', { room: 'a' }));
  });
});
