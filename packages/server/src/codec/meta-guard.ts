import { parsePath, UINT8ARRAY_ANNOTATION, WirecallError, type SuperJsonMeta } from '@wirecall/core/internal';

// The path syntax and its bounds (forbidden keys, segments per path) are core's `parsePath`: binary
// frames on both ends follow the same paths. The allow-list below is the server's alone.

/**
 * Annotations a peer may use. Each one builds a value no larger than its JSON text. Refused on
 * purpose: `regexp` (a peer-chosen pattern is a ReDoS), `Error` and `class` (build objects the
 * contract never asked for), `typed-array` (a JSON array of numbers; we send bytes as base64),
 * `symbol`, `URL`, and `referentialEqualities` (aliasing: a tiny frame that re-serializes
 * exponentially larger).
 */
const SIMPLE_ANNOTATIONS: ReadonlySet<string> = new Set(['Date', 'map', 'set', 'bigint', 'undefined', 'number']);
const CUSTOM_ANNOTATIONS: ReadonlySet<string> = new Set([UINT8ARRAY_ANNOTATION]);

/** Bounds that keep a hostile annotation tree cheap to check. */
const MAX_TREE_DEPTH = 64;
const MAX_ANNOTATIONS = 100_000;
/** Path segments looked up over a whole tree: each annotation's path is walked from the root. */
const MAX_PATH_WORK = 1_000_000;
/** A BigInt of more digits than this costs super-linear time to parse; no contract needs one. */
const MAX_BIGINT_DIGITS = 4096;
const BIGINT_TEXT = /^-?\d+$/;

function refuse(reason: string): never {
  throw new WirecallError('BAD_REQUEST', `Malformed value: ${reason}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Marks a path that does not exist in the data. */
const MISSING = Symbol('missing');

/** The raw JSON at a path, before any annotation applies (maps and sets are still arrays then). */
function jsonAt(json: unknown, path: readonly string[]): unknown {
  let node = json;
  for (const key of path) {
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, key)) return MISSING;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

interface WalkState {
  json: unknown;
  annotations: number;
  /** Path segments looked up so far (bounded by MAX_PATH_WORK). */
  pathWork: number;
}

/** Where in the value tree a node sits. */
interface Position {
  path: readonly string[];
  depth: number;
}

const SPECIAL_NUMBERS: ReadonlySet<unknown> = new Set(['NaN', 'Infinity', '-Infinity', '-0']);

/** Whether the raw JSON under an annotation has the shape that annotation's sender produces. */
function fitsData(annotation: string, data: unknown): boolean {
  switch (annotation) {
    case 'Date':
      return typeof data === 'string';
    case 'bigint': {
      if (typeof data !== 'string' || !BIGINT_TEXT.test(data)) return false;
      return data.length - (data.startsWith('-') ? 1 : 0) <= MAX_BIGINT_DIGITS;
    }
    case 'undefined':
      return data === null;
    case 'number':
      return SPECIAL_NUMBERS.has(data);
    case 'set':
      return Array.isArray(data);
    case 'map':
      return Array.isArray(data) && data.every((entry) => Array.isArray(entry) && entry.length === 2);
    case UINT8ARRAY_ANNOTATION:
      // base64 in a text frame; the bytes themselves once a binary frame's body was put back.
      return typeof data === 'string' || data instanceof Uint8Array;
    default:
      return false;
  }
}

/** The annotation's type name, if it is on the allow-list. */
function allowedType(annotation: unknown): string | undefined {
  if (typeof annotation === 'string') return SIMPLE_ANNOTATIONS.has(annotation) ? annotation : undefined;
  if (Array.isArray(annotation) && annotation.length === 2 && annotation[0] === 'custom') {
    const name: unknown = annotation[1];
    if (typeof name === 'string' && CUSTOM_ANNOTATIONS.has(name)) return name;
  }
  return undefined;
}

function checkAnnotation(annotation: unknown, path: readonly string[], state: WalkState): void {
  if (++state.annotations > MAX_ANNOTATIONS) refuse('too many annotations');
  state.pathWork += path.length;
  if (state.pathWork > MAX_PATH_WORK) refuse('annotation paths too long');
  const type = allowedType(annotation);
  if (type === undefined) refuse(`annotation ${JSON.stringify(annotation)} is not accepted`);
  const data = jsonAt(state.json, path);
  if (data === MISSING) refuse(`annotation on a path that does not exist (${path.join('.')})`);
  if (!fitsData(type, data)) refuse(`${type} annotation does not fit its data`);
}

function checkChildren(children: unknown, at: Position, state: WalkState): void {
  if (!isRecord(children)) refuse('annotation children must be an object');
  for (const key of Object.keys(children)) {
    const path = [...at.path, ...parsePath(key)];
    state.pathWork += path.length;
    if (state.pathWork > MAX_PATH_WORK) refuse('annotation paths too long');
    checkTree(children[key], { path, depth: at.depth + 1 }, state);
  }
}

function checkTree(tree: unknown, at: Position, state: WalkState): void {
  if (at.depth > MAX_TREE_DEPTH) refuse('annotations nested too deeply');
  if (Array.isArray(tree)) {
    if (tree.length !== 1 && tree.length !== 2) refuse('annotation node must be [type] or [type, children]');
    if (tree.length === 2) checkChildren(tree[1], at, state);
    checkAnnotation(tree[0], at.path, state);
    return;
  }
  checkChildren(tree, at, state);
}

/**
 * Throws `BAD_REQUEST` unless `meta` only asks for allow-listed, non-aliasing annotations on paths
 * that exist in plain data. Runs before superjson sees anything from a peer.
 */
export function assertSafeMeta(meta: SuperJsonMeta, json: unknown): void {
  for (const key of Object.keys(meta)) {
    if (key !== 'values' && key !== 'v') refuse(`meta.${key} is not accepted`);
  }
  if (meta.v !== 1) refuse('meta.v must be 1');
  if (meta.values !== undefined) checkTree(meta.values, { path: [], depth: 0 }, { json, annotations: 0, pathWork: 0 });
}
