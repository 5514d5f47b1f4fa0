import { describe, expect, it } from 'vitest';
import { encodeValue } from '../codec/value-codec.js';
import { callFrame, eventFrame, resultFrame } from './frames.js';

const values = [
  undefined,
  0,
  'text with "quotes" and \\ and \u2028',
  { a: 1, nested: [true, null] },
  new Date(0),
  new Map([[1n, new Set(['x'])]]),
];

describe('hand-assembled frames', () => {
  it.each(values.map((value) => [value]))('equal JSON.stringify of the envelope for %j', (value) => {
    const wire = encodeValue(value);
    expect(JSON.parse(resultFrame(7, wire))).toEqual({ t: 'result', id: 7, ...wire });
    expect(JSON.parse(resultFrame('id "x"', wire))).toEqual({ t: 'result', id: 'id "x"', ...wire });
    expect(JSON.parse(eventFrame('room {"a":1}', '3:9', wire))).toEqual({
      t: 'event',
      k: 'room {"a":1}',
      eid: '3:9',
      ...wire,
    });
    expect(JSON.parse(callFrame({ id: 1, procedure: 'add', value: wire, tm: 500, ik: 'k:1' }))).toEqual({
      t: 'call',
      id: 1,
      p: 'add',
      tm: 500,
      ik: 'k:1',
      ...wire,
    });
    expect(JSON.parse(callFrame({ id: 2, procedure: 'add', value: wire, tm: 5, ik: undefined }))).toEqual({
      t: 'call',
      id: 2,
      p: 'add',
      tm: 5,
      ...wire,
    });
    expect(resultFrame(7, wire)).toBe(JSON.stringify({ t: 'result', id: 7, ...wire }));
  });
});
