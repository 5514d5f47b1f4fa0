import type { WireValue } from '../protocol/envelopes.js';
import { base64ToBytes } from './base64.js';
import { parsePath, UINT8ARRAY_ANNOTATION } from './meta-guard.js';
import { WirecallError } from '../errors/wirecall-error.js';

/**
 * Binary frames: `Uint8Array` values travel as raw bytes instead of base64 inside JSON text.
 *
 * ```
 *  ┌─────────────────────┬──────────────────────────┬──────────────────────────────────┐
 *  │ header length       │ header                   │ body                             │
 *  │ uint32, big-endian  │ UTF-8 JSON: an envelope  │ the values' bytes, one after the │
 *  │                     │                          │ other                            │
 *  └─────────────────────┴──────────────────────────┴──────────────────────────────────┘
 * ```
 *
 * The header is the envelope a text frame would carry, except that each value annotated
 * `["custom","u8"]` holds `[offset, length]` into the body instead of a base64 string. Everything
 * else about values is unchanged, so a receiver puts the bytes back and decodes as usual.
 */

const HEADER_LENGTH_BYTES = 4;
/** Bounds that keep a hostile annotation tree cheap to walk (the same as the meta guard's). */
const MAX_TREE_DEPTH = 64;
const MAX_ANNOTATIONS = 100_000;

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

function malformed(reason: string): never {
  throw new WirecallError('BAD_REQUEST', `Malformed binary frame: ${reason}`);
}

function isU8Annotation(annotation: unknown): boolean {
  return Array.isArray(annotation) && annotation[0] === 'custom' && annotation[1] === UINT8ARRAY_ANNOTATION;
}

type Holder = Record<string, unknown>;

/** An own property of a container, or undefined (never a prototype's). */
function ownAt(node: unknown, key: string): unknown {
  return typeof node === 'object' && node !== null && Object.hasOwn(node, key) ? (node as Holder)[key] : undefined;
}

/** A shallow copy of a JSON container (spread keeps an own "__proto__" key as data). */
function shallowCopy(node: unknown): unknown {
  if (Array.isArray(node)) return node.slice();
  return typeof node === 'object' && node !== null ? { ...node } : node;
}

/**
 * Calls `visit` with the holder and key of every `["custom","u8"]` value of `value`. With `copy`,
 * each container on the way to bytes is replaced by a shallow copy first, so `visit` may write
 * into it without touching the value the sender still holds (and nothing else is copied).
 */
function forEachBytes(value: WireValue, visit: (holder: Holder, key: string) => void, copy = false): void {
  const root: Holder = { v: value.v };
  let count = 0;
  /** Walks the annotations `tree` of the value at `holder[key]`. */
  const walk = (tree: unknown, [holder, key]: [Holder, string], depth: number): void => {
    if (depth > MAX_TREE_DEPTH || ++count > MAX_ANNOTATIONS) malformed('annotations too deep or too many');
    if (Array.isArray(tree)) {
      if (isU8Annotation(tree[0])) {
        visit(holder, key);
        return;
      }
      if (tree[1] !== undefined) walkChildren(tree[1], [holder, key], depth);
      return;
    }
    walkChildren(tree, [holder, key], depth);
  };
  const walkChildren = (children: unknown, [holder, key]: [Holder, string], depth: number): void => {
    if (typeof children !== 'object' || children === null) malformed('annotation children must be an object');
    if (copy) holder[key] = shallowCopy(holder[key]);
    const node = holder[key];
    for (const [path, tree] of Object.entries(children)) {
      const segments = parsePath(path);
      const last = segments.pop()!;
      let parent = node;
      for (const segment of segments) {
        let next = ownAt(parent, segment);
        if (copy && next !== undefined) next = (parent as Holder)[segment] = shallowCopy(next);
        parent = next;
      }
      // A path that is not in the data carries no bytes (the decoder refuses it afterwards).
      if (ownAt(parent, last) !== undefined) walk(tree, [parent as Holder, last], depth + 1);
    }
  };
  const values = (value.m as { values?: unknown } | undefined)?.values;
  if (values !== undefined) walk(values, [root, 'v'], 0);
  value.v = root.v;
}

/** Whether an annotation tree holds a `["custom","u8"]` node (a sender's own tree: no bounds). */
function treeHasBytes(tree: unknown): boolean {
  if (typeof tree !== 'object' || tree === null) return false;
  if (Array.isArray(tree)) return isU8Annotation(tree[0]) || treeHasBytes(tree[1]);
  for (const key in tree) if (treeHasBytes((tree as Record<string, unknown>)[key])) return true;
  return false;
}

/** Whether a value carries annotated bytes (a look at its annotations alone, before any walk). */
export function hasBytes(value: WireValue): boolean {
  return value.m !== undefined && treeHasBytes(value.m.values);
}

/**
 * The sender's half: a copy of `value` whose bytes (base64 in text form) become `[offset, length]`
 * into the returned blobs, or undefined when it has none.
 */
export function takeBytes(value: WireValue): { value: WireValue; blobs: Uint8Array[] } | undefined {
  if (!hasBytes(value)) return undefined;
  const copy: WireValue = { v: value.v, m: value.m! };
  const blobs: Uint8Array[] = [];
  let offset = 0;
  forEachBytes(
    copy,
    (holder, key) => {
      const text = holder[key];
      if (typeof text !== 'string') return;
      const bytes = base64ToBytes(text);
      blobs.push(bytes);
      holder[key] = [offset, bytes.length];
      offset += bytes.length;
    },
    true,
  );
  return { value: copy, blobs };
}

/**
 * The receiver's half: puts the body's bytes back where the header says (in place: the header is
 * a fresh parse). Refuses offsets outside the body, and bytes in any other form.
 *
 * `frameOwned`: the frame's whole buffer holds this frame and nothing else (a client's frames: an
 * ArrayBuffer per message, in browsers and from `ws`). Bytes that fill at least half of it are then
 * a view, not a copy: they cannot keep more than their own size alive again. Otherwise (a server's
 * frames, which may share a pool of buffers) every value is a copy.
 */
export function putBytes(value: WireValue, body: Uint8Array, frameOwned = false): void {
  let next = 0;
  forEachBytes(value, (holder, key) => {
    const place = holder[key];
    if (!Array.isArray(place) || place.length !== 2) malformed('bytes must be [offset, length]');
    const [offset, length] = place as unknown[];
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length)) malformed('offsets must be integers');
    const start = offset as number;
    const end = start + (length as number);
    // In body order and without overlap, as a sender writes them: the copies can never add up
    // to more than the frame itself.
    if (start !== next || end < start || end > body.length) malformed('bytes outside the body, or out of order');
    next = end;
    // A plain Uint8Array, never a Buffer; and a copy unless the frame's buffer is its alone and
    // mostly these bytes (never a view into a pool of buffers that holds other connections' data).
    const bytes = body.subarray(start, end);
    const share = frameOwned && bytes.length * 2 >= body.buffer.byteLength;
    holder[key] = share ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length) : new Uint8Array(bytes);
  });
}

/**
 * One binary frame from a header (an envelope's JSON text) and the bytes it points into. `allocate`
 * makes the frame's memory: the server passes Node's `Buffer.allocUnsafe` (every byte is written
 * here, so zero-filling 64 KiB per slice is wasted work).
 */
export function packFrame(
  header: string,
  blobs: readonly Uint8Array[],
  allocate: (size: number) => Uint8Array = (size) => new Uint8Array(size),
): Uint8Array {
  const headerBytes = textEncoder.encode(header);
  let size = HEADER_LENGTH_BYTES + headerBytes.length;
  for (const blob of blobs) size += blob.length;
  const frame = allocate(size);
  new DataView(frame.buffer, frame.byteOffset, frame.byteLength).setUint32(0, headerBytes.length);
  frame.set(headerBytes, HEADER_LENGTH_BYTES);
  let at = HEADER_LENGTH_BYTES + headerBytes.length;
  for (const blob of blobs) {
    frame.set(blob, at);
    at += blob.length;
  }
  return frame;
}

/** Splits a binary frame into its header's JSON text and its body. */
export function unpackFrame(data: Uint8Array): { header: string; body: Uint8Array } {
  if (data.length < HEADER_LENGTH_BYTES) malformed('too short');
  const headerLength = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(0);
  const bodyStart = HEADER_LENGTH_BYTES + headerLength;
  if (bodyStart > data.length) malformed('header longer than the frame');
  let header: string;
  try {
    header = textDecoder.decode(data.subarray(HEADER_LENGTH_BYTES, bodyStart));
  } catch {
    malformed('header is not UTF-8');
  }
  return { header, body: data.subarray(bodyStart) };
}
