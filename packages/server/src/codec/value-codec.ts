import { isPlainJson, wireSuperjson, WirecallError, type WireValue } from '@wirecall/core/internal';
import { encode } from './annotate.js';
import { assertSafeMeta } from './meta-guard.js';

// The server's value codec. The client has a lighter one (superjson's own walk, no guard): it reads
// only the server it chose, while the server reads frames from anyone.

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
