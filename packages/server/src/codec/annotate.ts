import { bytesToBase64, UINT8ARRAY_ANNOTATION } from '@wirecall/core/internal';

/**
 * superjson's annotation tree: `[type]` or `[type, children]` for a node with a type of its own, or
 * a record of child paths for a plain container whose descendants need annotations.
 */
export type AnnotationTree = [unknown] | [unknown, AnnotationChildren] | AnnotationChildren;
export interface AnnotationChildren {
  [path: string]: AnnotationTree;
}

interface Encoded {
  json: unknown;
  tree: AnnotationTree | undefined;
}

/** superjson's path escaping: `.` and `\` inside a key are escaped. */
function escapeKey(key: string): string {
  return key.includes('.') || key.includes('\\') ? key.replace(/\\/g, '\\\\').replace(/\./g, '\\.') : key;
}

/**
 * Adds a child's tree under `key`, flattening plain containers into dotted paths as superjson does,
 * so the tree stays as shallow as the receiver's depth bound expects.
 */
function addChild(children: AnnotationChildren, key: string, tree: AnnotationTree): void {
  if (Array.isArray(tree)) {
    children[key] = tree;
    return;
  }
  for (const [childKey, childTree] of Object.entries(tree)) children[`${key}.${childKey}`] = childTree;
}

function hasKeys(record: object): boolean {
  for (const _ in record) return true;
  return false;
}

/** Encodes the elements of an array-like; returns their JSON and the children trees. */
function encodeItems(items: Iterable<unknown>): { json: unknown[]; children: AnnotationChildren } {
  const json: unknown[] = [];
  const children: AnnotationChildren = {};
  let index = 0;
  for (const item of items) {
    const encoded = encode(item);
    json.push(encoded.json);
    if (encoded.tree !== undefined) addChild(children, String(index), encoded.tree);
    index++;
  }
  return { json, children };
}

function typed(annotation: unknown, json: unknown, children?: AnnotationChildren): Encoded {
  return { json, tree: children && hasKeys(children) ? [annotation, children] : [annotation] };
}

function unsupported(what: string): never {
  throw new TypeError(
    `wirecall cannot send this value: ${what} is not supported (send plain data, Date, Map, Set, BigInt, Uint8Array)`,
  );
}

/**
 * Splits a value into JSON and superjson annotations, for exactly the types every wirecall
 * receiver accepts. A small walk of our own instead of superjson's general one: faster, it never
 * emits shared-reference metadata, and it refuses what the receiver would refuse, at the sender.
 */
export function encode(value: unknown): Encoded {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return { json: value, tree: undefined };
    case 'number':
      if (Number.isNaN(value)) return typed('number', 'NaN');
      if (value === Infinity) return typed('number', 'Infinity');
      if (value === -Infinity) return typed('number', '-Infinity');
      if (Object.is(value, -0)) return typed('number', '-0');
      return { json: value, tree: undefined };
    case 'undefined':
      return typed('undefined', null);
    case 'bigint':
      return typed('bigint', value.toString());
    case 'object':
      break;
    default:
      return unsupported(typeof value);
  }
  if (value === null) return { json: null, tree: undefined };
  if (Array.isArray(value)) {
    const { json, children } = encodeItems(value);
    return { json, tree: hasKeys(children) ? children : undefined };
  }
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) unsupported('an invalid Date');
    return typed('Date', value.toISOString());
  }
  if (value instanceof Uint8Array) return typed(['custom', UINT8ARRAY_ANNOTATION], bytesToBase64(value));
  if (value instanceof Set) {
    const { json, children } = encodeItems(value);
    return typed('set', json, children);
  }
  if (value instanceof Map) {
    const { json, children } = encodeItems([...value].map(([key, item]) => [key, item] as const));
    return typed('map', json, children);
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    unsupported(`an instance of ${value.constructor?.name ?? 'a class'}`);
  }
  const json: Record<string, unknown> = {};
  const children: AnnotationChildren = {};
  for (const key of Object.keys(value)) {
    const encoded = encode((value as Record<string, unknown>)[key]);
    // An own "__proto__" key must stay data: define it, never assign it (that would set a prototype).
    Object.defineProperty(json, key, { value: encoded.json, enumerable: true, writable: true, configurable: true });
    if (encoded.tree !== undefined) addChild(children, escapeKey(key), encoded.tree);
  }
  return { json, tree: hasKeys(children) ? children : undefined };
}
