import { describe, expect, it } from 'vitest';
import type { WireValue } from './envelopes.js';
import { eventFrame, resultFrame } from './frames.js';

/** Wire values as an encoder writes them: none, plain JSON, and annotated (a Date, a Map of a Set). */
const values: WireValue[] = [
  {},
  { v: 0 },
  { v: 'text with "quotes" and \\ and \u2028' },
  { v: { a: 1, nested: [true, null] } },
  { v: '1970-01-01T00:00:00.000Z', m: { values: ['Date'], v: 1 } },
  { v: [['1', ['x']]], m: { values: ['map', { '0.0': ['bigint'], '0.1': ['set'] }], v: 1 } },
];

describe('hand-assembled frames', () => {
  it.each(values.map((value) => [value]))('equal JSON.stringify of the envelope for %j', (wire) => {
    expect(JSON.parse(resultFrame(7, wire))).toEqual({ t: 'result', id: 7, ...wire });
    expect(JSON.parse(resultFrame('id "x"', wire))).toEqual({ t: 'result', id: 'id "x"', ...wire });
    expect(JSON.parse(eventFrame('room {"a":1}', '3:9', wire))).toEqual({
      t: 'event',
      k: 'room {"a":1}',
      eid: '3:9',
      ...wire,
    });
    expect(resultFrame(7, wire)).toBe(JSON.stringify({ t: 'result', id: 7, ...wire }));
  });
});
