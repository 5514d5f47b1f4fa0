import type { WireValue } from '../protocol/envelopes.js';
import { bytesToBase64 } from './base64.js';
import { UINT8ARRAY_ANNOTATION } from './meta-guard.js';

/**
 * The sender's half of the value codec: a value becomes an envelope's `v` (JSON) and `m`
 * (superjson's annotations, `{ values, v: 1 }`, only when needed). The wire format is superjson's,
 * so superjson itself can read and write it; the walk is our own: one pass, no shared-reference
 * metadata, and it refuses at the sender what every receiver would refuse.
 *
 * Most values are plain JSON: `v` is then the value itself, not a copy. A container is copied only
 * where its JSON differs from it (a Date, a Map, a bigint, bytes, `undefined`, NaN inside it). A
 * Date becomes its ISO text here, by a formatter of our own: `JSON.stringify` meeting a Date calls
 * its `toJSON` and leaves V8's fast path, which costs about twice the copy.
 */

/**
 * superjson's annotation tree: `[type]` or `[type, children]` for a node with a type of its own, or
 * a record of child paths for a plain container whose descendants need annotations.
 */
export type AnnotationTree = [unknown] | [unknown, AnnotationChildren] | AnnotationChildren;
export interface AnnotationChildren {
  [path: string]: AnnotationTree;
}

function unsupported(what: string): never {
  throw new TypeError(
    `wirecall cannot send this value: ${what} is not supported (send plain data, Date, Map, Set, BigInt, Uint8Array)`,
  );
}

function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** superjson's path escaping: `.` and `\` inside a key are escaped. */
function escapeKey(key: string): string {
  return key.includes('.') || key.includes('\\') ? key.replace(/\\/g, '\\\\').replace(/\./g, '\\.') : key;
}

/**
 * Adds a child's tree under `key`, flattening plain containers into dotted paths as superjson does,
 * so the tree stays as shallow as the receiver's depth bound expects.
 */
function addChild(children: AnnotationChildren | undefined, key: string, tree: AnnotationTree): AnnotationChildren {
  const into = children ?? {};
  if (Array.isArray(tree)) {
    into[key] = tree;
    return into;
  }
  for (const childKey in tree) into[`${key}.${childKey}`] = tree[childKey]!;
  return into;
}

/**
 * The annotations of the value `toJson` returned last (undefined: none). A variable rather than a
 * second return value, so a plain leaf costs no allocation.
 */
let lastTree: AnnotationTree | undefined;

/**
 * Containers nested deeper than this are refused: deeper values overflow the stack somewhere
 * (here, in JSON.stringify, or in the receiver's schema), and no contract needs them. Also what
 * ends a cycle's walk.
 */
const MAX_DEPTH = 1_000;
/** How deep the walk is (reset by `encodeValue` on every exit). */
let depth = 0;

/** Where bytes go during a walk for a binary frame (see binary-frame.ts), else undefined. */
let blobSink: { blobs: Uint8Array[]; offset: number } | undefined;

/** Bytes in a text frame: base64; in a binary frame: `[offset, length]` into the frame's body. */
function bytesJson(bytes: Uint8Array): unknown {
  if (blobSink === undefined) return bytesToBase64(bytes);
  const place = [blobSink.offset, bytes.length];
  blobSink.blobs.push(bytes);
  blobSink.offset += bytes.length;
  return place;
}

function twoDigits(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** `date.toISOString()`, in a third of its time (V8's builds a date cache entry per call). */
export function isoText(date: Date): string {
  const year = date.getUTCFullYear();
  if (Number.isNaN(year)) unsupported('an invalid Date');
  if (year < 1000 || year > 9999) return date.toISOString(); // signed or padded years
  const ms = date.getUTCMilliseconds();
  return (
    `${year}-${twoDigits(date.getUTCMonth() + 1)}-${twoDigits(date.getUTCDate())}` +
    `T${twoDigits(date.getUTCHours())}:${twoDigits(date.getUTCMinutes())}:${twoDigits(date.getUTCSeconds())}` +
    `.${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z`
  );
}

function typed(annotation: unknown, json: unknown, children?: AnnotationChildren): unknown {
  lastTree = children === undefined ? [annotation] : [annotation, children];
  return json;
}

/** The JSON of a Set's items or a Map's entries (always a new array), with their annotations. */
function itemsToJson(items: Iterable<unknown>): { json: unknown[]; children: AnnotationChildren | undefined } {
  const json: unknown[] = [];
  let children: AnnotationChildren | undefined;
  for (const item of items) {
    json.push(toJson(item));
    if (lastTree !== undefined) children = addChild(children, String(json.length - 1), lastTree);
  }
  return { json, children };
}

/**
 * A value's JSON form, with its annotations in `lastTree`. Copy on write: a container whose
 * children are all their own JSON is returned as is, so plain data is not copied.
 */
function toJson(value: unknown): unknown {
  lastTree = undefined;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (Number.isFinite(value) && !Object.is(value, -0)) return value;
      return typed('number', Object.is(value, -0) ? '-0' : String(value));
    case 'undefined':
      return typed('undefined', null);
    case 'bigint':
      return typed('bigint', value.toString());
    case 'object':
      break;
    default:
      return unsupported(typeof value);
  }
  if (value === null) return null;
  if (depth++ >= MAX_DEPTH)
    throw new TypeError(
      `wirecall cannot send this value: it is nested deeper than ${MAX_DEPTH} levels or contains a cycle`,
    );
  const json = objectToJsonOf(value);
  depth--;
  return json;
}

/** The JSON of a non-null object, one level deeper. */
function objectToJsonOf(value: object): unknown {
  if (Array.isArray(value)) return arrayToJson(value);
  if (value instanceof Date) return typed('Date', isoText(value));
  if (value instanceof Uint8Array) return typed(['custom', UINT8ARRAY_ANNOTATION], bytesJson(value));
  if (value instanceof Set) {
    const { json, children } = itemsToJson(value);
    return typed('set', json, children);
  }
  if (value instanceof Map) {
    const { json, children } = itemsToJson(value.entries());
    return typed('map', json, children);
  }
  if (!isPlainObject(value)) unsupported(`an instance of ${value.constructor?.name ?? 'a class'}`);
  return objectToJson(value as Record<string, unknown>);
}

function arrayToJson(value: readonly unknown[]): unknown {
  let copy: unknown[] | undefined;
  let children: AnnotationChildren | undefined;
  for (let i = 0; i < value.length; i++) {
    const json = toJson(value[i]);
    if (lastTree !== undefined) children = addChild(children, String(i), lastTree);
    if (copy === undefined && json !== value[i]) copy = value.slice(0, i);
    copy?.push(json);
  }
  lastTree = children;
  return copy ?? value;
}

function objectToJson(value: Record<string, unknown>): unknown {
  let copy: Record<string, unknown> | undefined;
  let children: AnnotationChildren | undefined;
  const keys = Object.keys(value);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const json = toJson(value[key]);
    if (lastTree !== undefined) children = addChild(children, escapeKey(key), lastTree);
    // An own "__proto__" key is copied with defineProperty, never assigned (that would set a
    // prototype), so a receiver that builds the value by assignment never meets one.
    if (copy === undefined && (json !== value[key] || key === '__proto__')) {
      copy = {};
      for (let j = 0; j < i; j++) copy[keys[j]!] = value[keys[j]!];
    }
    if (key === '__proto__') {
      Object.defineProperty(copy, key, { value: json, enumerable: true, writable: true, configurable: true });
    } else if (copy !== undefined) {
      copy[key] = json;
    }
  }
  lastTree = children;
  return copy ?? value;
}

function withTree(v: unknown, tree: AnnotationTree | undefined): WireValue {
  return tree === undefined ? { v } : { v, m: { values: tree, v: 1 } };
}

/**
 * Splits a value into the envelope's `v` and `m`. `v` may be the value itself (plain JSON): do not
 * change the value while the frame is unwritten.
 * Throws a TypeError for a value no receiver would accept (a RegExp, an Error, a class instance, a
 * cycle), so the sender learns it at once instead of the receiver later. With `blobs`, for a binary
 * frame: bytes are not base64 but `[offset, length]`, and the bytes themselves go to `blobs`, in
 * order (no copy; the frame copies them).
 */
export function encodeValue(value: unknown, blobs?: Uint8Array[]): WireValue {
  if (value === undefined) return {};
  blobSink = blobs === undefined ? undefined : { blobs, offset: 0 };
  try {
    const json = toJson(value);
    return withTree(json, lastTree);
  } catch (error) {
    if (error instanceof TypeError) throw error;
    // A cycle overflows the stack: report it as what it is.
    throw new TypeError('wirecall cannot send this value: it is too deeply nested or contains a cycle', {
      cause: error,
    });
  } finally {
    blobSink = undefined;
    depth = 0;
  }
}
