import { describe, expect, it } from 'vitest';
import { ERROR_CODES, isErrorCode, RETRYABLE_CODES, type ErrorCode } from './codes.js';
import { fromErrorShape, toErrorShape, toWirecallError } from './error-shape.js';
import { isWirecallError, WirecallError } from './wirecall-error.js';

const ALL_CODES = Object.keys(ERROR_CODES) as ErrorCode[];

describe('WirecallError', () => {
  it('is an Error with a name, code, message and data', () => {
    const error = new WirecallError('NOT_FOUND', 'no such user', { data: { id: 'u1' } });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('WirecallError');
    expect(error.code).toBe('NOT_FOUND');
    expect(error.message).toBe('no such user');
    expect(error.data).toEqual({ id: 'u1' });
    expect(String(error)).toBe('WirecallError: no such user');
  });

  it('sets cause only when one is given', () => {
    const root = new Error('root');
    expect(new WirecallError('INTERNAL', 'x', { cause: root }).cause).toBe(root);
    expect(Object.hasOwn(new WirecallError('INTERNAL', 'x'), 'cause')).toBe(false);
  });
});

describe('isErrorCode', () => {
  it.each(ALL_CODES)('accepts %s', (code) => {
    expect(isErrorCode(code)).toBe(true);
  });

  it.each(['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf', 'bad_request', '', 'NOPE'])(
    'refuses %j',
    (code) => {
      expect(isErrorCode(code)).toBe(false);
    },
  );

  it('refuses non-strings', () => {
    expect(isErrorCode(400)).toBe(false);
    expect(isErrorCode(null)).toBe(false);
    expect(isErrorCode(undefined)).toBe(false);
    expect(isErrorCode({ toString: () => 'INTERNAL' })).toBe(false);
  });
});

describe('RETRYABLE_CODES', () => {
  it('holds only the transport failures after which a retry may succeed', () => {
    expect([...RETRYABLE_CODES].sort()).toEqual(['CONNECTION_LOST', 'UNAVAILABLE']);
  });
});

describe('isWirecallError', () => {
  it('is true for a WirecallError', () => {
    expect(isWirecallError(new WirecallError('TIMEOUT', 'late'))).toBe(true);
  });

  it('is true for one from another realm or copy of the library', () => {
    const foreign = { name: 'WirecallError', code: 'UNAUTHORIZED', message: 'who are you' };
    expect(foreign instanceof WirecallError).toBe(false);
    expect(isWirecallError(foreign)).toBe(true);
    class OtherCopy extends Error {
      override readonly name = 'WirecallError';
      readonly code = 'FORBIDDEN';
    }
    expect(isWirecallError(new OtherCopy('no'))).toBe(true);
  });

  it('is false for a lookalike with a wrong or missing code', () => {
    expect(isWirecallError({ name: 'WirecallError', code: 'not a code' })).toBe(false);
    expect(isWirecallError({ name: 'WirecallError', code: 'toString' })).toBe(false);
    expect(isWirecallError({ name: 'WirecallError' })).toBe(false);
  });

  it('is false for other errors and non-objects', () => {
    expect(isWirecallError(new Error('x'))).toBe(false);
    expect(isWirecallError({ name: 'Error', code: 'INTERNAL' })).toBe(false);
    expect(isWirecallError(Object.assign(new Error('x'), { code: 'INTERNAL' }))).toBe(false);
    expect(isWirecallError(null)).toBe(false);
    expect(isWirecallError(undefined)).toBe(false);
    expect(isWirecallError('WirecallError')).toBe(false);
  });
});

describe('toWirecallError', () => {
  it('copies a WirecallError into a fresh one, keeping it as the cause', () => {
    const error = new WirecallError('FORBIDDEN', 'not yours', { data: { why: 'owner' } });
    const copy = toWirecallError(error);
    expect(copy).not.toBe(error);
    expect(copy).toMatchObject({ code: 'FORBIDDEN', message: 'not yours', data: { why: 'owner' } });
    expect(copy.cause).toBe(error);
  });

  it('reads a hostile subclass once: what it gives later cannot throw', () => {
    class Hostile extends WirecallError {
      override get cause(): unknown {
        throw new Error('hostile cause');
      }
    }
    const copy = toWirecallError(new Hostile('INTERNAL', 'x'));
    expect(copy.code).toBe('INTERNAL');
    expect(() => copy.cause).not.toThrow();
  });

  it('copies a WirecallError from another realm into a real one', () => {
    const foreign = { name: 'WirecallError', code: 'RATE_LIMITED', message: 'slow down', data: { n: 1 } };
    const error = toWirecallError(foreign);
    expect(error).toBeInstanceOf(WirecallError);
    expect(error).toMatchObject({ code: 'RATE_LIMITED', message: 'slow down', data: { n: 1 } });
    expect(error.cause).toBe(foreign);
  });

  const throwing = (): never => {
    throw new Error('hostile getter');
  };
  it.each([
    [
      'an object whose name getter throws',
      {
        get name() {
          return throwing();
        },
      },
    ],
    [
      'an object whose code getter throws',
      {
        name: 'WirecallError',
        get code() {
          return throwing();
        },
      },
    ],
    ['a Proxy whose every trap throws', new Proxy({}, { get: throwing, getPrototypeOf: throwing, has: throwing })],
    [
      'a revoked Proxy',
      (() => {
        const { proxy, revoke } = Proxy.revocable({}, {});
        revoke();
        return proxy;
      })(),
    ],
    ['a function with a throwing name', Object.defineProperty(() => {}, 'name', { get: throwing })],
  ])('never throws for %s: it becomes INTERNAL', (_label, thrown) => {
    const error = toWirecallError(thrown);
    expect(error).toBeInstanceOf(WirecallError);
    expect(error.code).toBe('INTERNAL');
    expect(error.message).toBe('Internal server error');
    expect(error.cause).toBe(thrown);
  });

  it.each([
    ['an Error', new Error('db password is hunter2')],
    ['a TypeError', new TypeError('x is undefined')],
    ['a string', 'db password is hunter2'],
    ['undefined', undefined],
    ['null', null],
    ['an object', { message: 'secret' }],
    ['a lookalike with a malformed code', { name: 'WirecallError', code: 'not a code', message: 'secret' }],
  ])('turns %s into INTERNAL with a generic message', (_label, thrown) => {
    const error = toWirecallError(thrown);
    expect(error).toBeInstanceOf(WirecallError);
    expect(error.code).toBe('INTERNAL');
    expect(error.message).toBe('Internal server error');
    expect(error.message).not.toContain('hunter2');
    expect(error.data).toBeUndefined();
    expect(error.cause).toBe(thrown);
  });
});

describe('toErrorShape', () => {
  it('keeps code and message only', () => {
    const error = new WirecallError('INTERNAL', 'Internal server error', { cause: new Error('secret') });
    const shape = toErrorShape(error);
    expect(shape).toEqual({ code: 'INTERNAL', message: 'Internal server error' });
    expect(Object.keys(shape).sort()).toEqual(['code', 'message']);
  });

  it('adds data when there is some', () => {
    const shape = toErrorShape(new WirecallError('BAD_REQUEST', 'bad', { data: { issues: [] } }));
    expect(shape).toEqual({ code: 'BAD_REQUEST', message: 'bad', data: { issues: [] } });
  });

  it('never carries stack or cause onto the wire', () => {
    const error = new WirecallError('NOT_FOUND', 'gone', { data: 1, cause: new Error('secret cause') });
    const text = JSON.stringify(toErrorShape(error));
    expect(text).not.toContain('stack');
    expect(text).not.toContain('cause');
    expect(text).not.toContain('secret');
    expect(Object.keys(toErrorShape(error)).sort()).toEqual(['code', 'data', 'message']);
  });
});

describe('fromErrorShape', () => {
  it('rebuilds code, message and data', () => {
    const error = fromErrorShape({ code: 'NOT_FOUND', message: 'no such user', data: { id: 'u1' } });
    expect(error).toBeInstanceOf(WirecallError);
    expect(error.code).toBe('NOT_FOUND');
    expect(error.message).toBe('no such user');
    expect(error.data).toEqual({ id: 'u1' });
  });

  it.each(ALL_CODES)('round-trips %s through toErrorShape and JSON', (code) => {
    const original = new WirecallError(code, `message for ${code}`, { data: { n: 1 } });
    const rebuilt = fromErrorShape(JSON.parse(JSON.stringify(toErrorShape(original))));
    expect(rebuilt.code).toBe(code);
    expect(rebuilt.message).toBe(original.message);
    expect(rebuilt.data).toEqual({ n: 1 });
  });

  it.each([
    ['null', null],
    ['a string', 'NOT_FOUND'],
    ['a number', 404],
    ['an empty object', {}],
    ['an unknown code', { code: 'TEAPOT', message: 'x' }],
    ['toString as code', { code: 'toString', message: 'x' }],
    ['__proto__ as code', { code: '__proto__', message: 'x' }],
    ['a numeric code', { code: 404, message: 'x' }],
    ['a non-string message', { code: 'NOT_FOUND', message: 42 }],
    ['a missing message', { code: 'NOT_FOUND' }],
  ])('turns %s into INTERNAL', (_label, shape) => {
    const error = fromErrorShape(shape);
    expect(error).toBeInstanceOf(WirecallError);
    expect(error.code).toBe('INTERNAL');
    expect(error.message).toBe('Malformed error from server');
    expect(error.data).toBeUndefined();
  });
});
