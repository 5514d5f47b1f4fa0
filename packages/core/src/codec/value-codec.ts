import { WirecallError } from '../errors/wirecall-error.js';
import type { WireValue } from '../protocol/envelopes.js';
import { encode } from './annotate.js';
import { assertSafeMeta } from './meta-guard.js';
import { wireSuperjson } from './wire-superjson.js';

/** Past this depth the cheap check gives up and lets the annotating walk take the value. */
const MAX_PLAIN_DEPTH = 32;

/**
 * True when JSON.stringify/JSON.parse round-trips `value` exactly, so the annotating walk (which
 * copies the value) can be skipped. Most calls and events are plain JSON.
 */
export function isPlainJson(value: unknown, depth = 0): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0);
    case 'object': {
      if (value === null) return true;
      if (depth >= MAX_PLAIN_DEPTH) return false;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) if (!isPlainJson(value[i], depth + 1)) return false;
        return true;
      }
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return false;
      for (const key in value) {
        if (!isPlainJson((value as Record<string, unknown>)[key], depth + 1)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

/**
 * Splits a value into the envelope's `v` (JSON) and `m` (annotations, only when needed). Throws a
 * TypeError for a value no receiver would accept (a RegExp, an Error, a class instance, a cycle),
 * so the sender learns it at once instead of the receiver later.
 */
export function encodeValue(value: unknown): WireValue {
  if (value === undefined) return {};
  if (isPlainJson(value)) return { v: value };
  let encoded: ReturnType<typeof encode>;
  try {
    encoded = encode(value);
  } catch (error) {
    if (error instanceof TypeError) throw error;
    // A cycle overflows the stack: report it as what it is.
    throw new TypeError('wirecall cannot send this value: it is too deeply nested or contains a cycle', {
      cause: error,
    });
  }
  return encoded.tree === undefined ? { v: encoded.json } : { v: encoded.json, m: { values: encoded.tree, v: 1 } };
}

/**
 * Rebuilds a value from an untrusted envelope. Throws `BAD_REQUEST` when the annotations are not
 * on the allow-list or do not fit the data. Mutates `wire.v` in place: it is a fresh JSON.parse result.
 */
export function decodeValue(wire: WireValue): unknown {
  if (wire.m === undefined) return wire.v;
  assertSafeMeta(wire.m, wire.v);
  try {
    return wireSuperjson.deserialize({ json: (wire.v ?? null) as never, meta: wire.m as never }, { inPlace: true });
  } catch (error) {
    throw new WirecallError('BAD_REQUEST', 'Malformed value: annotations do not fit the data', { cause: error });
  }
}
