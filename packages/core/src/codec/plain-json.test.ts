import { describe, expect, it } from 'vitest';
import { isPlainJson } from './plain-json.js';

function holey(): number[] {
  const array: number[] = [];
  array[0] = 1;
  array[2] = 3;
  return array;
}

describe('isPlainJson', () => {
  it.each([
    ['a string', 'x'],
    ['a boolean', false],
    ['zero', 0],
    ['a finite number', 1.5],
    ['null', null],
    ['an array of plain values', [1, 'a', null, [true]]],
    ['a plain object', { a: { b: [1] } }],
    ['a null-prototype object', Object.assign(Object.create(null) as object, { a: 1 })],
  ])('is true for %s', (_label, value) => {
    expect(isPlainJson(value)).toBe(true);
  });

  it.each([
    ['undefined', undefined],
    ['NaN', Number.NaN],
    ['Infinity', Infinity],
    ['-0', -0],
    ['a bigint', 1n],
    ['a Date', new Date(0)],
    ['a Map', new Map()],
    ['a Set', new Set()],
    ['a Uint8Array', new Uint8Array(1)],
    ['a class instance', new (class Point {})()],
    ['an object with an undefined property', { a: undefined }],
    ['an array with a hole', holey()],
    ['a nested Date', { a: [{ b: new Date(0) }] }],
    ['a function', () => 1],
    ['a symbol', Symbol('x')],
  ])('is false for %s', (_label, value) => {
    expect(isPlainJson(value)).toBe(false);
  });

  it('gives up past depth 32 instead of walking without bound', () => {
    let value: unknown = 1;
    for (let i = 0; i < 40; i++) value = [value];
    expect(isPlainJson(value)).toBe(false);
  });
});
