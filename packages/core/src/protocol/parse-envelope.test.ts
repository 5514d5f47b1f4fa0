import { describe, expect, it } from 'vitest';
import { parseClientEnvelope, parseServerEnvelope, type ParseResult } from './parse-envelope.js';

/** Frames arrive as JSON text; parse them the way the receiver does. */
const frame = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

function expectOk<T extends object>(result: ParseResult<T>, envelope: unknown): void {
  expect(result).toEqual({ ok: true, envelope });
  if (result.ok) expect(Object.keys(result.envelope).sort()).toEqual(Object.keys(envelope as object).sort());
}

/** A refusal that names `id`, so the receiver can answer that request and keep the connection. */
function expectFailWithId<T>(result: ParseResult<T>, id: string | number): void {
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect(result.id).toBe(id);
  expect(result.reason).toEqual(expect.any(String));
}

/** A refusal without a usable id: a protocol violation. */
function expectFailWithoutId<T>(result: ParseResult<T>): void {
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect('id' in result).toBe(false);
  expect(result.reason).toEqual(expect.any(String));
}

const MAX_TIMEOUT_MS = 2_147_483_647;
const badIds: [string, unknown][] = [
  ['a negative number', -1],
  ['a non-integer', 1.5],
  ['a number above MAX_SAFE_INTEGER', Number.MAX_SAFE_INTEGER + 1],
  ['a string longer than 64', 'x'.repeat(65)],
  ['an empty string', ''],
  ['null', null],
  ['a boolean', true],
  ['an object', { n: 1 }],
  ['an array', [1]],
];

describe('parseClientEnvelope: valid frames', () => {
  it('parses hello with and without connection params', () => {
    expectOk(parseClientEnvelope(frame({ t: 'hello', fp: 'abc' })), { t: 'hello', fp: 'abc' });
    expectOk(parseClientEnvelope(frame({ t: 'hello', fp: 'abc', v: { token: 't' } })), {
      t: 'hello',
      fp: 'abc',
      v: { token: 't' },
    });
    expectOk(parseClientEnvelope(frame({ t: 'hello', fp: 'abc', v: 'x', m: { values: ['Date'], v: 1 } })), {
      t: 'hello',
      fp: 'abc',
      v: 'x',
      m: { values: ['Date'], v: 1 },
    });
  });

  it('parses a minimal call', () => {
    expectOk(parseClientEnvelope(frame({ t: 'call', id: 1, p: 'add' })), { t: 'call', id: 1, p: 'add' });
  });

  it('parses a call with every optional field', () => {
    const full = { t: 'call', id: 'req-1', p: 'add', v: { a: 1 }, m: { v: 1 }, tm: 5000, ik: 'key-1' };
    expectOk(parseClientEnvelope(frame(full)), full);
  });

  it('keeps a null value (v: null is not undefined)', () => {
    expectOk(parseClientEnvelope(frame({ t: 'call', id: 1, p: 'echo', v: null })), {
      t: 'call',
      id: 1,
      p: 'echo',
      v: null,
    });
  });

  it.each([
    ['0', 0],
    ['MAX_SAFE_INTEGER', Number.MAX_SAFE_INTEGER],
    ['a one-character string', 'a'],
    ['a 64-character string', 'x'.repeat(64)],
  ])('accepts the id %s', (_label, id) => {
    expectOk(parseClientEnvelope(frame({ t: 'cancel', id })), { t: 'cancel', id });
  });

  it('accepts tm at its bounds', () => {
    expectOk(parseClientEnvelope(frame({ t: 'call', id: 1, p: 'x', tm: 0.5 })), { t: 'call', id: 1, p: 'x', tm: 0.5 });
    expectOk(parseClientEnvelope(frame({ t: 'call', id: 1, p: 'x', tm: MAX_TIMEOUT_MS })), {
      t: 'call',
      id: 1,
      p: 'x',
      tm: MAX_TIMEOUT_MS,
    });
  });

  it('accepts a 256-character procedure name', () => {
    const p = 'p'.repeat(256);
    expectOk(parseClientEnvelope(frame({ t: 'call', id: 1, p })), { t: 'call', id: 1, p });
  });

  it('parses cancel, unsub and ping', () => {
    expectOk(parseClientEnvelope(frame({ t: 'cancel', id: 3 })), { t: 'cancel', id: 3 });
    expectOk(parseClientEnvelope(frame({ t: 'unsub', id: 'x' })), { t: 'unsub', id: 'x' });
    expectOk(parseClientEnvelope(frame({ t: 'ping' })), { t: 'ping' });
  });

  it('parses sub with and without params and after', () => {
    expectOk(parseClientEnvelope(frame({ t: 'sub', id: 4, e: 'tick' })), { t: 'sub', id: 4, e: 'tick' });
    const full = { t: 'sub', id: 5, e: 'chatMessage', v: { room: 'a' }, m: { v: 1 }, after: 'ep:12' };
    expectOk(parseClientEnvelope(frame(full)), full);
  });
});

describe('parseClientEnvelope: malformed frames', () => {
  it.each([
    ['null', null],
    ['an array', [{ t: 'ping' }]],
    ['a string', 'ping'],
    ['a number', 1],
  ])('refuses %s as a frame, without an id', (_label, value) => {
    expectFailWithoutId(parseClientEnvelope(value));
  });

  it('refuses a frame without a type, answering its id when it has one', () => {
    expectFailWithoutId(parseClientEnvelope(frame({ p: 'add' })));
    expectFailWithId(parseClientEnvelope(frame({ id: 1, p: 'add' })), 1);
    expectFailWithId(parseClientEnvelope(frame({ t: 5, id: 2 })), 2);
  });

  it('recovers the id of an unknown type', () => {
    expectFailWithId(parseClientEnvelope(frame({ t: 'explode', id: 9 })), 9);
    expectFailWithId(parseClientEnvelope(frame({ t: 'explode', id: 'q' })), 'q');
    expectFailWithoutId(parseClientEnvelope(frame({ t: 'explode' })));
    expectFailWithoutId(parseClientEnvelope(frame({ t: 'explode', id: -1 })));
  });

  it('refuses server envelope types from a client', () => {
    expectFailWithId(parseClientEnvelope(frame({ t: 'result', id: 2, v: 1 })), 2);
    expectFailWithoutId(parseClientEnvelope(frame({ t: 'pong' })));
  });

  it.each(badIds)('refuses a call whose id is %s, without an id', (_label, id) => {
    expectFailWithoutId(parseClientEnvelope(frame({ t: 'call', id, p: 'add' })));
  });

  it('refuses a call without an id, without an id', () => {
    expectFailWithoutId(parseClientEnvelope(frame({ t: 'call', p: 'add' })));
  });

  it.each(badIds)('refuses cancel, unsub and sub whose id is %s', (_label, id) => {
    expectFailWithoutId(parseClientEnvelope(frame({ t: 'cancel', id })));
    expectFailWithoutId(parseClientEnvelope(frame({ t: 'unsub', id })));
    expectFailWithoutId(parseClientEnvelope(frame({ t: 'sub', id, e: 'tick' })));
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['longer than 256', 'p'.repeat(257)],
    ['a number', 7],
  ])('refuses a call whose procedure name is %s, answering its id', (_label, p) => {
    expectFailWithId(parseClientEnvelope(frame({ t: 'call', id: 7, p })), 7);
  });

  it.each([
    ['0', 0],
    ['negative', -5],
    ['above 2147483647', MAX_TIMEOUT_MS + 1],
    ['a string', '100'],
    ['null', null],
  ])('refuses tm %s, answering the id', (_label, tm) => {
    expectFailWithId(parseClientEnvelope(frame({ t: 'call', id: 8, p: 'add', tm })), 8);
  });

  it('refuses tm NaN and Infinity (as they would arrive from a decoded frame)', () => {
    expectFailWithId(parseClientEnvelope({ t: 'call', id: 8, p: 'add', tm: Number.NaN }), 8);
    expectFailWithId(parseClientEnvelope({ t: 'call', id: 8, p: 'add', tm: Infinity }), 8);
    // JSON.parse turns an overflowing literal into Infinity.
    expectFailWithId(parseClientEnvelope(JSON.parse('{"t":"call","id":8,"p":"add","tm":1e400}')), 8);
  });

  it.each([
    ['empty', ''],
    ['longer than 256', 'k'.repeat(257)],
    ['a number', 1],
  ])('refuses ik %s, answering the id', (_label, ik) => {
    expectFailWithId(parseClientEnvelope(frame({ t: 'call', id: 1, p: 'add', ik })), 1);
  });

  it.each([
    ['an array', [1]],
    ['a string', 'meta'],
    ['null', null],
    ['a number', 1],
  ])('refuses m that is %s, answering the id', (_label, m) => {
    expectFailWithId(parseClientEnvelope(frame({ t: 'call', id: 2, p: 'add', m })), 2);
    expectFailWithId(parseClientEnvelope(frame({ t: 'sub', id: 3, e: 'tick', m })), 3);
    expectFailWithoutId(parseClientEnvelope(frame({ t: 'hello', fp: 'abc', m })));
  });

  it('refuses sub without a valid event name or after, answering the id', () => {
    expectFailWithId(parseClientEnvelope(frame({ t: 'sub', id: 1 })), 1);
    expectFailWithId(parseClientEnvelope(frame({ t: 'sub', id: 1, e: '' })), 1);
    expectFailWithId(parseClientEnvelope(frame({ t: 'sub', id: 1, e: 'e'.repeat(257) })), 1);
    expectFailWithId(parseClientEnvelope(frame({ t: 'sub', id: 1, e: 'tick', after: '' })), 1);
    expectFailWithId(parseClientEnvelope(frame({ t: 'sub', id: 1, e: 'tick', after: 5 })), 1);
    expectFailWithId(parseClientEnvelope(frame({ t: 'sub', id: 1, e: 'tick', after: 'a'.repeat(257) })), 1);
  });

  it('refuses hello without a fingerprint', () => {
    expectFailWithoutId(parseClientEnvelope(frame({ t: 'hello' })));
    expectFailWithoutId(parseClientEnvelope(frame({ t: 'hello', fp: '' })));
    expectFailWithoutId(parseClientEnvelope(frame({ t: 'hello', fp: 1 })));
    expectFailWithoutId(parseClientEnvelope(frame({ t: 'hello', fp: 'f'.repeat(257) })));
  });
});

describe('parseClientEnvelope: nothing but the known fields', () => {
  it('drops unknown keys from every envelope type', () => {
    const extra = { extra: 1, constructor: 'x', toString: 'y' };
    expectOk(parseClientEnvelope(frame({ t: 'call', id: 1, p: 'add', v: 1, ...extra })), {
      t: 'call',
      id: 1,
      p: 'add',
      v: 1,
    });
    expectOk(parseClientEnvelope(frame({ t: 'sub', id: 1, e: 'tick', ...extra })), { t: 'sub', id: 1, e: 'tick' });
    expectOk(parseClientEnvelope(frame({ t: 'cancel', id: 1, p: 'add', ...extra })), { t: 'cancel', id: 1 });
    expectOk(parseClientEnvelope(frame({ t: 'unsub', id: 1, e: 'tick', ...extra })), { t: 'unsub', id: 1 });
    expectOk(parseClientEnvelope(frame({ t: 'hello', fp: 'f', id: 1, ...extra })), { t: 'hello', fp: 'f' });
    expectOk(parseClientEnvelope(frame({ t: 'ping', id: 1, v: 1, ...extra })), { t: 'ping' });
  });

  it('does not carry a __proto__ key of the frame over, nor its prototype', () => {
    const hostile = JSON.parse('{"t":"call","id":1,"p":"add","__proto__":{"admin":true}}') as unknown;
    const result = parseClientEnvelope(hostile);
    expectOk(result, { t: 'call', id: 1, p: 'add' });
    if (!result.ok) return;
    expect(Object.hasOwn(result.envelope, '__proto__')).toBe(false);
    expect(Object.getPrototypeOf(result.envelope)).toBe(Object.prototype);
    expect((result.envelope as unknown as Record<string, unknown>).admin).toBeUndefined();
  });

  it('returns a new object, not the frame', () => {
    const input = frame({ t: 'call', id: 1, p: 'add', v: 1 });
    const result = parseClientEnvelope(input);
    expect(result.ok && result.envelope).not.toBe(input);
  });
});

describe('parseServerEnvelope: valid frames', () => {
  it.each([
    ['welcome', { t: 'welcome', fp: 'abc', hb: 15000 }],
    ['welcome without heartbeats', { t: 'welcome', fp: 'abc', hb: 0 }],
    ['result without a value', { t: 'result', id: 1 }],
    ['result with a value', { t: 'result', id: 'r', v: { a: 1 }, m: { v: 1, values: { a: ['bigint'] } } }],
    ['error with an id', { t: 'error', id: 2, e: { code: 'NOT_FOUND', message: 'nope' } }],
    ['error without an id', { t: 'error', e: { code: 'BAD_REQUEST', message: 'bad frame' } }],
    ['subscribed', { t: 'subscribed', id: 3, k: 'chatMessage {"room":"a"}' }],
    ['subscribed with the newest event id', { t: 'subscribed', id: 3, k: 'tick', last: 'ep:41' }],
    ['event', { t: 'event', k: 'tick', eid: 'ep:1', v: { seq: 1 } }],
    ['event without a value', { t: 'event', k: 'tick', eid: 'ep:2' }],
    ['gap', { t: 'gap', k: 'tick' }],
    ['pong', { t: 'pong' }],
  ])('parses %s', (_label, envelope) => {
    expectOk(parseServerEnvelope(frame(envelope)), envelope);
  });

  it('accepts a stream key of 4096 characters', () => {
    const k = 'k'.repeat(4096);
    expectOk(parseServerEnvelope(frame({ t: 'gap', k })), { t: 'gap', k });
    expectOk(parseServerEnvelope(frame({ t: 'event', k, eid: 'e' })), { t: 'event', k, eid: 'e' });
  });

  it('drops unknown keys', () => {
    expectOk(parseServerEnvelope(frame({ t: 'pong', id: 1, extra: true })), { t: 'pong' });
    expectOk(parseServerEnvelope(frame({ t: 'result', id: 1, v: 2, k: 'x', extra: true })), {
      t: 'result',
      id: 1,
      v: 2,
    });
    expectOk(parseServerEnvelope(frame({ t: 'welcome', fp: 'f', hb: 1, v: 1 })), { t: 'welcome', fp: 'f', hb: 1 });
    expectOk(parseServerEnvelope(frame({ t: 'gap', k: 'tick', id: 1, eid: 'x' })), { t: 'gap', k: 'tick' });
    expectOk(parseServerEnvelope(frame({ t: 'subscribed', id: 1, k: 'tick', v: 1 })), {
      t: 'subscribed',
      id: 1,
      k: 'tick',
    });
  });
});

describe('parseServerEnvelope: malformed frames', () => {
  it('refuses non-objects', () => {
    expectFailWithoutId(parseServerEnvelope(null));
    expectFailWithoutId(parseServerEnvelope([]));
    expectFailWithoutId(parseServerEnvelope('pong'));
  });

  it('recovers the id of an unknown type', () => {
    expectFailWithId(parseServerEnvelope(frame({ t: 'surprise', id: 4 })), 4);
    expectFailWithoutId(parseServerEnvelope(frame({ t: 'surprise' })));
    expectFailWithId(parseServerEnvelope(frame({ t: 'call', id: 5, p: 'add' })), 5);
  });

  it.each(badIds)('refuses result whose id is %s', (_label, id) => {
    expectFailWithoutId(parseServerEnvelope(frame({ t: 'result', id, v: 1 })));
    expectFailWithoutId(parseServerEnvelope(frame({ t: 'subscribed', id, k: 'tick' })));
    expectFailWithoutId(parseServerEnvelope(frame({ t: 'error', id, e: { code: 'INTERNAL', message: 'x' } })));
  });

  it('refuses result with a malformed m, answering the id', () => {
    expectFailWithId(parseServerEnvelope(frame({ t: 'result', id: 1, v: 1, m: [] })), 1);
  });

  it('refuses error without a body, answering the id when it has one', () => {
    expectFailWithId(parseServerEnvelope(frame({ t: 'error', id: 6 })), 6);
    expectFailWithId(parseServerEnvelope(frame({ t: 'error', id: 6, e: 'boom' })), 6);
    expectFailWithId(parseServerEnvelope(frame({ t: 'error', id: 6, e: [] })), 6);
    expectFailWithoutId(parseServerEnvelope(frame({ t: 'error', e: null })));
  });

  it('refuses event without a valid key or id', () => {
    expectFailWithoutId(parseServerEnvelope(frame({ t: 'event', eid: 'e' })));
    expectFailWithoutId(parseServerEnvelope(frame({ t: 'event', k: '', eid: 'e' })));
    expectFailWithoutId(parseServerEnvelope(frame({ t: 'event', k: 'k'.repeat(4097), eid: 'e' })));
    expectFailWithoutId(parseServerEnvelope(frame({ t: 'event', k: 'tick', eid: 'e'.repeat(257) })));
    expectFailWithoutId(parseServerEnvelope(frame({ t: 'event', k: 'tick', eid: 'e', m: 'x' })));
  });

  it('accepts an event without an id: pushed to one connection, kept in no history', () => {
    expect(parseServerEnvelope(frame({ t: 'event', k: 'tick', v: 1 }))).toEqual({
      ok: true,
      envelope: { t: 'event', k: 'tick', v: 1 },
    });
  });

  it('refuses subscribed with a malformed last, answering the id', () => {
    expectFailWithId(parseServerEnvelope(frame({ t: 'subscribed', id: 3, k: 'tick', last: '' })), 3);
    expectFailWithId(parseServerEnvelope(frame({ t: 'subscribed', id: 3, k: 'tick', last: 41 })), 3);
    expectFailWithId(parseServerEnvelope(frame({ t: 'subscribed', id: 3, k: 'tick', last: 'x'.repeat(257) })), 3);
  });

  it('refuses subscribed and gap without a valid key', () => {
    expectFailWithId(parseServerEnvelope(frame({ t: 'subscribed', id: 1 })), 1);
    expectFailWithId(parseServerEnvelope(frame({ t: 'subscribed', id: 1, k: 'k'.repeat(4097) })), 1);
    expectFailWithoutId(parseServerEnvelope(frame({ t: 'gap' })));
    expectFailWithoutId(parseServerEnvelope(frame({ t: 'gap', k: 5 })));
  });

  it('refuses a malformed welcome', () => {
    expectFailWithoutId(parseServerEnvelope(frame({ t: 'welcome', hb: 1000 })));
    expectFailWithoutId(parseServerEnvelope(frame({ t: 'welcome', fp: 'f' })));
    expectFailWithoutId(parseServerEnvelope(frame({ t: 'welcome', fp: 'f', hb: -1 })));
    expectFailWithoutId(parseServerEnvelope(frame({ t: 'welcome', fp: 'f', hb: '1000' })));
    expectFailWithoutId(parseServerEnvelope({ t: 'welcome', fp: 'f', hb: Number.NaN }));
  });
});
