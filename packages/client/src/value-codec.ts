import { isPlainJson, wireSuperjson, type WireValue } from '@wirecall/core/internal';

/**
 * The client's value codec. Plain JSON passes as is; anything else goes through superjson's own
 * walk, which the app's bundle ships anyway. The server keeps its own stricter, faster walk and the
 * allow-list guard: it reads frames from anyone, while a client reads only the server it chose.
 */

/** Splits a value into an envelope's `v` and `m`. Throws a TypeError for a value that contains itself. */
export function encodeValue(value: unknown): WireValue {
  if (value === undefined) return {};
  if (isPlainJson(value)) return { v: value };
  const { json, meta } = wireSuperjson.serialize(value);
  if (meta === undefined) return { v: json };
  const { values, referentialEqualities } = meta;
  // superjson replaces a cycle by null and notes it here; a shared (acyclic) object is simply
  // copied, which is all a receiver sees anyway, so only a cycle is an error.
  if (referentialEqualities !== undefined && containsCycle(referentialEqualities)) {
    throw new TypeError('wirecall cannot send this value: it contains a cycle');
  }
  return values === undefined ? { v: json } : { v: json, m: { values, v: 1 } };
}

/**
 * True when an object is found again inside itself: superjson notes each repeated object as one
 * path and the other paths where it recurs (a root entry is an array); the object contains itself
 * when one of its paths lies inside another.
 */
function containsCycle(equalities: unknown): boolean {
  if (Array.isArray(equalities)) return true;
  return Object.entries(equalities as Record<string, string[]>).some(([first, again]) => {
    const paths = [first, ...again];
    return paths.some((outer) => paths.some((inner) => inner.startsWith(`${outer}.`)));
  });
}

/**
 * Rebuilds a value the server sent. No allow-list walk here: superjson itself refuses prototype
 * keys, and the client checks every result and payload against the contract.
 */
export function decodeValue(wire: WireValue): unknown {
  return wire.m === undefined
    ? wire.v
    : wireSuperjson.deserialize({ json: (wire.v ?? null) as never, meta: wire.m as never }, { inPlace: true });
}
