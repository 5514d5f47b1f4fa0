import { describe, expect, it } from 'vitest';
import { compareStreamIds, parseStreamId, type StreamId } from './stream-id.js';

const id = (text: string): StreamId => {
  const parsed = parseStreamId(text);
  if (parsed === undefined) throw new Error(`not a stream id: ${text}`);
  return parsed;
};

describe('parseStreamId', () => {
  it('reads `<milliseconds>-<sequence>` as two big integers', () => {
    expect(parseStreamId('1700000000000-3')).toEqual({ ms: 1_700_000_000_000n, seq: 3n });
    expect(parseStreamId('0-0')).toEqual({ ms: 0n, seq: 0n });
  });

  it('keeps the full precision of 64-bit parts (past Number.MAX_SAFE_INTEGER)', () => {
    expect(parseStreamId('18446744073709551615-18446744073709551615')).toEqual({
      ms: 18_446_744_073_709_551_615n,
      seq: 18_446_744_073_709_551_615n,
    });
  });

  it.each([
    '',
    '5',
    '5-',
    '-5',
    '1-2-3',
    '1.5-2',
    '-1-2',
    ' 1-2',
    '1-2 ',
    '1-2\n',
    'a-1',
    '1-x',
    '$',
    '*',
    '123456789012345678901-0', // 21 digits: more than any 64-bit number has
  ])('refuses %j', (text) => {
    expect(parseStreamId(text)).toBeUndefined();
  });
});

describe('compareStreamIds', () => {
  it('orders by milliseconds first, then by sequence', () => {
    expect(compareStreamIds(id('1-9'), id('2-0'))).toBeLessThan(0);
    expect(compareStreamIds(id('2-0'), id('1-9'))).toBeGreaterThan(0);
    expect(compareStreamIds(id('5-1'), id('5-2'))).toBeLessThan(0);
    expect(compareStreamIds(id('5-2'), id('5-1'))).toBeGreaterThan(0);
    expect(compareStreamIds(id('5-2'), id('5-2'))).toBe(0);
  });

  it('compares numbers, not text ("10-0" comes after "9-0", "1-10" after "1-9")', () => {
    expect(compareStreamIds(id('10-0'), id('9-0'))).toBeGreaterThan(0);
    expect(compareStreamIds(id('1-10'), id('1-9'))).toBeGreaterThan(0);
  });

  it('tells apart ids that differ only past 2^53', () => {
    expect(compareStreamIds(id('9007199254740993-0'), id('9007199254740992-0'))).toBeGreaterThan(0);
    expect(compareStreamIds(id('0-9007199254740993'), id('0-9007199254740992'))).toBeGreaterThan(0);
  });

  it('sorts a shuffled list into stream order', () => {
    const ids = ['3-0', '1-1', '10-0', '1-0', '2-5', '2-10', '0-7'];
    const sorted = ids.map(id).sort(compareStreamIds);
    expect(sorted.map(({ ms, seq }) => `${ms}-${seq}`)).toEqual(['0-7', '1-0', '1-1', '2-5', '2-10', '3-0', '10-0']);
  });
});
