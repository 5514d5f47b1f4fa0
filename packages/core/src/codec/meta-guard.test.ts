import { describe, expect, it } from 'vitest';
import { WirecallError } from '../errors/wirecall-error.js';
import { parsePath } from './meta-guard.js';

describe('parsePath', () => {
  it('splits on dots and unescapes \\. and \\\\', () => {
    expect(parsePath('a.0.b')).toEqual(['a', '0', 'b']);
    expect(parsePath('a\\.b.c\\\\d')).toEqual(['a.b', 'c\\d']);
    expect(parsePath('')).toEqual(['']);
  });

  it.each([
    ['a bad escape', 'a\\b', /bad path escape/],
    ['a trailing backslash', 'a\\', /bad path escape/],
    ['__proto__', 'a.__proto__', /forbidden key __proto__/],
    ['constructor', 'constructor.x', /forbidden key constructor/],
    ['prototype', 'a.prototype', /forbidden key prototype/],
    ['a path past 256 segments', Array.from({ length: 257 }, () => 'a').join('.'), /annotation path too long/],
  ])('refuses %s with BAD_REQUEST', (_label, path, reason) => {
    let error: unknown;
    try {
      parsePath(path);
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(WirecallError);
    expect((error as WirecallError).code).toBe('BAD_REQUEST');
    expect((error as WirecallError).message).toMatch(reason);
  });
});
