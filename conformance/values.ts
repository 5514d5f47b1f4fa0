/**
 * The value cases behind `values.json` and the `values/*` vectors: JavaScript values, each with
 * the text `describeValue` gives for it. `generate-values.ts` encodes them with the server's
 * `encodeValue` into the wire form `{ v, m }`; the reference server's `sample` procedure answers
 * them by name, and its `inspect` procedure describes what it decoded.
 */

/** One value case. `name` is what `sample` takes; `note` says what the case is about. */
export interface ValueCase {
  name: string;
  note: string;
  value: unknown;
}

function bytesToBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/**
 * A canonical text for a decoded value, the same in every language that follows README.md's
 * rules: `undefined`, `null`, `true`; numbers as `number(1.5)` (`number(NaN)`, `number(-0)`,
 * `number(Infinity)`); strings as JSON; `bigint(12)`; `Date(<ISO 8601>)`; `Uint8Array(<base64>)`;
 * `[a,b]`; `Set[a,b]`; `Map{k=>v,k=>v}`; objects as `{"key":value,...}` in insertion order.
 */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case 'undefined':
      return 'undefined';
    case 'boolean':
      return String(value);
    case 'number':
      return `number(${Object.is(value, -0) ? '-0' : String(value)})`;
    case 'string':
      return JSON.stringify(value);
    case 'bigint':
      return `bigint(${value.toString()})`;
    case 'object':
      break;
    default:
      return `<${typeof value}>`;
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) return `[${value.map((item) => describeValue(item)).join(',')}]`;
  if (value instanceof Date) return `Date(${Number.isNaN(value.getTime()) ? 'Invalid' : value.toISOString()})`;
  if (value instanceof Uint8Array) return `Uint8Array(${bytesToBase64(value)})`;
  if (value instanceof Set) return `Set[${[...value].map((item) => describeValue(item)).join(',')}]`;
  if (value instanceof Map) {
    return `Map{${[...value].map(([key, item]) => `${describeValue(key)}=>${describeValue(item)}`).join(',')}}`;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return `<${value.constructor?.name ?? 'object'}>`;
  const entries = Object.entries(value as Record<string, unknown>);
  return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${describeValue(item)}`).join(',')}}`;
}

/** Every case, in the order of values.json. Names are unique. */
export const VALUE_CASES: readonly ValueCase[] = [
  { name: 'plain-object', note: 'plain JSON travels as v alone, without m', value: { a: 1, b: 'x', c: [true, null] } },
  { name: 'plain-string', note: 'a string as the whole value', value: 'hello' },
  { name: 'plain-null', note: 'null is plain JSON', value: null },
  { name: 'undefined', note: 'undefined as the whole value: no v and no m at all', value: undefined },
  { name: 'undefined-member', note: 'undefined inside an object: null, annotated', value: { a: undefined, b: 1 } },
  { name: 'undefined-item', note: 'undefined inside an array', value: [1, undefined] },
  { name: 'date', note: 'a Date as the whole value', value: new Date(0) },
  {
    name: 'date-member',
    note: 'a Date inside an object (the docs example)',
    value: { seq: 1, at: new Date(Date.UTC(2024, 0, 15, 9, 30)) },
  },
  {
    name: 'dates-in-array',
    note: 'annotations of array items are keyed by index',
    value: [new Date(0), 'x', new Date(1_000)],
  },
  { name: 'bigint', note: 'a bigint as a decimal string', value: 123n },
  { name: 'bigint-negative', note: 'beyond 2^53, negative', value: -9_007_199_254_740_993n },
  { name: 'nan', note: 'NaN', value: Number.NaN },
  { name: 'infinities', note: 'Infinity and -Infinity', value: [Infinity, -Infinity] },
  { name: 'negative-zero', note: '-0 is not plain JSON', value: -0 },
  { name: 'set', note: 'a Set as an array', value: new Set(['x', 'y']) },
  { name: 'set-of-dates', note: 'a Set whose items are annotated', value: new Set([new Date(0)]) },
  {
    name: 'map',
    note: 'a Map as an array of pairs, values annotated by <index>.1 (the docs example)',
    value: new Map([['a', 1n]]),
  },
  {
    name: 'map-non-string-keys',
    note: 'Map keys need not be strings; a Date key is annotated by <index>.0',
    value: new Map<unknown, unknown>([
      [1, 'one'],
      [new Date(0), true],
    ]),
  },
  { name: 'bytes', note: 'a Uint8Array as padded base64, custom annotation u8', value: new Uint8Array([1, 2, 3]) },
  { name: 'bytes-empty', note: 'an empty Uint8Array', value: new Uint8Array([]) },
  { name: 'dotted-key', note: 'a key with a dot is escaped in the annotation path', value: { 'a.b': new Date(0) } },
  {
    name: 'mixed',
    note: 'every annotated type in one object, nested',
    value: {
      when: new Date(0),
      tags: new Set(['a']),
      scores: new Map([['ann', 1.5]]),
      big: 2n ** 64n,
      file: new Uint8Array([255]),
      nested: { missing: undefined, list: [new Date(86_400_000)] },
    },
  },
];

/** The case called `name`, or undefined. */
export function valueCase(name: string): ValueCase | undefined {
  return VALUE_CASES.find((entry) => entry.name === name);
}
