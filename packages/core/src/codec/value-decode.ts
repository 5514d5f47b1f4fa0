import { WirecallError } from '../errors/wirecall-error.js';
import type { WireValue } from '../protocol/envelopes.js';
import { base64ToBytes } from './base64.js';
import { parsePath, UINT8ARRAY_ANNOTATION, type SuperJsonMeta } from './meta-guard.js';

/**
 * The receiver's half of the value codec: rebuilds a value from an envelope's `v` and `m` in one
 * guarded walk, in place (`v` is a fresh JSON.parse result). Both ends use it; the server reads
 * frames from anyone, so every annotation is checked before it builds anything.
 *
 * Accepted: `Date`, `map`, `set`, `bigint`, `undefined`, `number` (NaN, ±Infinity, -0) and bytes
 * (`["custom","u8"]`). Each builds a value no larger than its JSON text. Refused on purpose:
 * `regexp` (a peer-chosen pattern is a ReDoS), `Error` and `class` (objects the contract never
 * asked for), `typed-array` (we send bytes as base64), `symbol`, `URL`, and
 * `referentialEqualities` (aliasing: a tiny frame that re-serializes exponentially larger).
 *
 * Annotations apply inside out, as superjson writes them: a node's children (nested under it, as
 * `[type, children]`) before the node itself, so a Map's entries are revived while they are still
 * an array. A path never reaches into a Map or Set built by a sibling annotation.
 */

/** Bounds that keep a hostile annotation tree cheap to walk. */
const MAX_TREE_DEPTH = 64;
const MAX_ANNOTATIONS = 100_000;
/** Path segments looked up over a whole tree (bounds flat trees with long paths). */
const MAX_PATH_WORK = 1_000_000;
/** A BigInt of more digits than this costs super-linear time to parse; no contract needs one. */
const MAX_BIGINT_DIGITS = 4096;
const BIGINT_TEXT = /^-?\d+$/;
const SPECIAL_NUMBERS: Readonly<Record<string, number>> = {
  NaN: Number.NaN,
  Infinity: Infinity,
  '-Infinity': -Infinity,
  '-0': -0,
};

function refuse(reason: string, cause?: unknown): never {
  throw new WirecallError('BAD_REQUEST', `Malformed value: ${reason}`, cause === undefined ? undefined : { cause });
}

type Holder = Record<string, unknown>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The annotation's type name, if it is on the allow-list. */
function typeOf(annotation: unknown): string {
  if (typeof annotation === 'string') {
    switch (annotation) {
      case 'Date':
      case 'map':
      case 'set':
      case 'bigint':
      case 'undefined':
      case 'number':
        return annotation;
    }
  } else if (Array.isArray(annotation) && annotation.length === 2 && annotation[0] === 'custom') {
    if (annotation[1] === UINT8ARRAY_ANNOTATION) return UINT8ARRAY_ANNOTATION;
  }
  return refuse(`annotation ${JSON.stringify(annotation)} is not accepted`);
}

/** The value `type` builds from `data`, the raw JSON its sender wrote, or a refusal. */
function build(type: string, data: unknown): unknown {
  switch (type) {
    case 'Date':
      if (typeof data === 'string') return new Date(data);
      break;
    case 'bigint':
      if (typeof data === 'string' && BIGINT_TEXT.test(data)) {
        if (data.length - (data.startsWith('-') ? 1 : 0) > MAX_BIGINT_DIGITS) break;
        return BigInt(data);
      }
      break;
    case 'undefined':
      if (data === null) return undefined;
      break;
    case 'number':
      if (typeof data === 'string' && Object.hasOwn(SPECIAL_NUMBERS, data)) return SPECIAL_NUMBERS[data];
      break;
    case 'set':
      if (Array.isArray(data)) return new Set(data);
      break;
    case 'map':
      if (Array.isArray(data) && data.every((entry) => Array.isArray(entry) && entry.length === 2)) {
        return new Map(data as [unknown, unknown][]);
      }
      break;
    default:
      // Bytes: base64 in a text frame, or already bytes once a binary frame's body was put back.
      if (data instanceof Uint8Array) return data;
      if (typeof data === 'string') {
        try {
          return base64ToBytes(data);
        } catch (error) {
          refuse('bytes are not valid base64', error);
        }
      }
  }
  return refuse(`${type} annotation does not fit its data`);
}

/** One decode's walk, with the counts that bound it. */
class Reviver {
  #annotations = 0;
  #pathWork = 0;
  #depth = 0;

  /** Revives the value at `holder[key]` by its annotation tree. */
  revive(holder: Holder, key: string, tree: unknown): void {
    if (this.#depth++ > MAX_TREE_DEPTH) refuse('annotations nested too deeply');
    if (!Array.isArray(tree)) {
      this.#children(holder[key], tree);
    } else {
      if (tree.length !== 1 && tree.length !== 2) refuse('annotation node must be [type] or [type, children]');
      if (++this.#annotations > MAX_ANNOTATIONS) refuse('too many annotations');
      const type = typeOf(tree[0]);
      if (tree.length === 2) this.#children(holder[key], tree[1]);
      holder[key] = build(type, holder[key]);
    }
    this.#depth--;
  }

  /** Follows each child path from `node` (raw JSON: own properties of arrays and objects only). */
  #children(node: unknown, children: unknown): void {
    if (!isRecord(children)) refuse('annotation children must be an object');
    for (const path in children) {
      const segments = parsePath(path);
      this.#pathWork += segments.length;
      if (this.#pathWork > MAX_PATH_WORK) refuse('annotation paths too long');
      let parent = node;
      const last = segments.length - 1;
      for (let i = 0; i <= last; i++) {
        if (typeof parent !== 'object' || parent === null || !Object.hasOwn(parent, segments[i]!)) {
          refuse(`annotation on a path that does not exist (${path})`);
        }
        if (i < last) parent = (parent as Holder)[segments[i]!];
      }
      this.revive(parent as Holder, segments[last]!, children[path]);
    }
  }
}

/**
 * Rebuilds a value from an untrusted envelope. Throws `BAD_REQUEST` when the annotations are not
 * on the allow-list or do not fit the data. Changes `wire.v` in place.
 */
export function decodeValue(wire: WireValue): unknown {
  const meta: SuperJsonMeta | undefined = wire.m;
  if (meta === undefined) return wire.v;
  if (!isRecord(meta)) refuse('meta must be an object');
  for (const key in meta) if (key !== 'values' && key !== 'v') refuse(`meta.${key} is not accepted`);
  if (meta.v !== 1) refuse('meta.v must be 1');
  const root: Holder = { v: wire.v ?? null };
  if (meta.values !== undefined) new Reviver().revive(root, 'v', meta.values);
  return root.v;
}
