/**
 * The keys wirecall's queries and mutations live under in TanStack Query's cache:
 *
 * ```
 *  ['wirecall']                                            every wirecall query
 *  ['wirecall', ['users']]                                 every query of the group `users`
 *  ['wirecall', ['users', 'get']]                          every query of `users.get`, whatever its input
 *  ['wirecall', ['users', 'get'], { input: { id: 'u1' } }] the query of `users.get` for that input
 * ```
 *
 * The path is an array so that a group's key is a prefix of its procedures' keys (TanStack matches
 * filters by prefix). The input is stored in a canonical, JSON-safe form ({@link canonicalInput}):
 * equal inputs give equal keys, and the keys survive `dehydrate` for server-side rendering.
 */

/** The first element of every key wirecall makes. */
export const KEY_PREFIX = 'wirecall';

/** The input part of a procedure's query key; `input` is left out when there is none. */
export interface QueryKeyArgs {
  input?: unknown;
}

/** A key under which wirecall keeps queries: every query, a group's, a procedure's, or one query. */
export type WirecallQueryKey =
  | readonly [typeof KEY_PREFIX]
  | readonly [typeof KEY_PREFIX, path: readonly string[]]
  | readonly [typeof KEY_PREFIX, path: readonly string[], args: QueryKeyArgs];

/** The key of a procedure's mutations: `['wirecall', ['bids', 'place']]`. */
export type WirecallMutationKey = readonly [typeof KEY_PREFIX, path: readonly string[]];

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Orders canonical values by their JSON text (for the members of a Set or the keys of a Map). */
function byJson(a: unknown, b: unknown): number {
  const left = JSON.stringify(a) ?? '';
  const right = JSON.stringify(b) ?? '';
  return left < right ? -1 : left > right ? 1 : 0;
}

/**
 * A value in the form its query key holds: plain objects with their keys sorted and `undefined`
 * members left out, a `Date` as its ISO text, a `bigint` as its decimal text, a `Map` as its
 * entries and a `Set` as its members (both in a fixed order), bytes as an array of numbers. So two
 * inputs that a procedure treats alike give one key, and every key is JSON (TanStack hashes keys
 * with `JSON.stringify`, which would throw on a `bigint` and turn every `Map` into `{}`). The
 * contract's schema fixes the type at each place, so the plain forms cannot collide.
 */
export function canonicalInput(value: unknown): unknown {
  switch (typeof value) {
    case 'bigint':
      return value.toString();
    case 'function':
    case 'symbol':
    case 'undefined':
      return undefined;
    case 'object':
      break;
    default:
      return value;
  }
  if (value === null) return null;
  if (Array.isArray(value)) return value.map((item) => canonicalInput(item) ?? null);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (value instanceof Map) {
    const entries = [...value].map(([key, item]) => [canonicalInput(key) ?? null, canonicalInput(item) ?? null]);
    return entries.sort(([a], [b]) => byJson(a, b));
  }
  if (value instanceof Set) return [...value].map((item) => canonicalInput(item) ?? null).sort(byJson);
  if (ArrayBuffer.isView(value)) {
    return Array.from(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
  }
  if (!isPlainObject(value) && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return canonicalInput((value as { toJSON: () => unknown }).toJSON());
  }
  const record = value as Record<string, unknown>;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(record).sort()) {
    const item = canonicalInput(record[key]);
    if (item !== undefined) sorted[key] = item;
  }
  return sorted;
}

/**
 * The query key of a path: a prefix without `args` (every input), or one query's key with them.
 * `args.input` undefined is a procedure without input: its key has `{}` as its last element.
 */
export function queryKeyOf(path: readonly string[], args?: { input: unknown }): WirecallQueryKey {
  if (path.length === 0) return [KEY_PREFIX];
  if (args === undefined) return [KEY_PREFIX, path];
  const input = canonicalInput(args.input);
  return [KEY_PREFIX, path, input === undefined ? {} : { input }];
}

/** The mutation key of a procedure. */
export function mutationKeyOf(path: readonly string[]): WirecallMutationKey {
  return [KEY_PREFIX, path];
}

/** A text equal for equal values in canonical form: what hooks compare params and inputs by. */
export function canonicalText(value: unknown): string {
  return JSON.stringify(canonicalInput(value)) ?? 'undefined';
}
