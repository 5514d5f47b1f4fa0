import type { z } from 'zod';
import { isRecord } from '../protocol/field-checks.js';
import type { SchemaCheck } from './check-schema.js';
import type { SchemaLike } from './types.js';

/**
 * What travels on the wire for a schema is its **input side**: the receiving end parses it, once,
 * and gets the output side (transforms, defaults and codecs applied there). The sending end only
 * prepares and checks:
 *
 * ```
 *  sender: app value ──toWireForm──► input side ──checked (result discarded)──► frame
 *  receiver: frame ──schema.parse──► output side ──► app
 * ```
 *
 * `toWireForm` turns what the sending app holds into the input side. For most schemas that is the
 * value itself, stripped of keys the schema does not know (a handler's extra fields never leak). A
 * codec is the one place where the sending app may hold the decoded side (a `Date` for an ISO
 * string codec): it is encoded there. A one-way `.transform` cannot be reversed, so the sender of
 * such a position writes its input side.
 */

/** Zod's internal definition of a schema: the parts this walk reads. */
interface SchemaDef {
  type: string;
  shape?: Record<string, z.ZodType>;
  catchall?: z.ZodType;
  element?: z.ZodType;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  reverseTransform?: unknown;
  options?: z.ZodType[];
  items?: z.ZodType[];
  rest?: z.ZodType | null;
  keyType?: z.ZodType;
  valueType?: z.ZodType;
  left?: z.ZodType;
  right?: z.ZodType;
  coerce?: boolean;
  checks?: { _zod: { def: { check: string } } }[];
}

interface SchemaInternals {
  def: SchemaDef;
  /** A lazy schema's inner schema, cached by zod (calling the getter again rebuilds it). */
  innerType?: z.ZodType;
}

function internalsOf(schema: z.ZodType): SchemaInternals {
  return (schema as unknown as { _zod: SchemaInternals })._zod;
}

function defOf(schema: z.ZodType): SchemaDef {
  return internalsOf(schema).def;
}

/** The schemas directly inside this one. */
function childrenOf(schema: z.ZodType): z.ZodType[] {
  const def = defOf(schema);
  const children: z.ZodType[] = [];
  const add = (child: z.ZodType | null | undefined): void => {
    if (child) children.push(child);
  };
  if (def.shape) for (const child of Object.values(def.shape)) add(child);
  add(def.catchall);
  add(def.element);
  add(def.innerType);
  add(def.in);
  add(def.out);
  for (const option of def.options ?? []) add(option);
  for (const item of def.items ?? []) add(item);
  add(def.rest);
  add(def.keyType);
  add(def.valueType);
  add(def.left);
  add(def.right);
  if (def.type === 'lazy') add(internalsOf(schema).innerType);
  return children;
}

/** Kinds of schema whose parsed value differs from what was given. */
const CHANGING = new Set(['transform', 'pipe', 'default', 'prefault', 'catch']);

/** Whether this schema node itself changes values (not looking inside). */
function changesItself(def: SchemaDef): boolean {
  return (
    CHANGING.has(def.type) ||
    def.coerce === true ||
    (def.checks?.some((check) => check._zod.def.check === 'overwrite') ?? false) // .trim(), .toLowerCase()
  );
}

const changing = new WeakMap<z.ZodType, boolean>();

/**
 * Whether a schema changes values as it parses anywhere inside (a transform, pipe or codec, a
 * default, a catch, a coercion, an overwrite such as `.trim()`). For one that does not, the parsed
 * value is the value with unknown keys stripped, which is exactly its input side.
 */
export function changesValues(schema: z.ZodType, seen?: Set<z.ZodType>): boolean {
  const known = changing.get(schema);
  if (known !== undefined) return known;
  const path = seen ?? new Set<z.ZodType>();
  if (path.has(schema)) return false; // a recursive (lazy) schema: its other branches decide
  path.add(schema);
  const result = changesItself(defOf(schema)) || childrenOf(schema).some((child) => changesValues(child, path));
  path.delete(schema);
  // An answer found while a recursion was cut short may be a false "no": only the outermost
  // question, which saw every branch, may cache one. A "yes" is always final.
  if (result || seen === undefined) changing.set(schema, result);
  return result;
}

/** Opaque to this walk: any value passes, and nothing says which keys the receiver wants. */
function isOpaque(def: SchemaDef): boolean {
  return def.type === 'transform' || def.type === 'custom' || def.type === 'any' || def.type === 'unknown';
}

/** The input side of `value` for `schema`, as described at the top of this file. */
function toInputSide(schema: z.ZodType, value: unknown): unknown {
  const def = defOf(schema);
  switch (def.type) {
    case 'object': {
      if (!isRecord(value) || def.shape === undefined) return value;
      const keepUnknown = def.catchall !== undefined;
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(value)) {
        const field = Object.hasOwn(def.shape, key) ? def.shape[key] : undefined;
        if (field !== undefined) out[key] = toInputSide(field, value[key]);
        else if (keepUnknown) out[key] = toInputSide(def.catchall!, value[key]);
      }
      return out;
    }
    case 'array':
      return Array.isArray(value) ? (value as unknown[]).map((item) => toInputSide(def.element!, item)) : value;
    case 'tuple':
      return Array.isArray(value)
        ? (value as unknown[]).map((item, index) => {
            const itemSchema = def.items?.[index] ?? def.rest;
            return itemSchema ? toInputSide(itemSchema, item) : item;
          })
        : value;
    case 'record':
      if (!isRecord(value)) return value;
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, toInputSide(def.valueType!, item)]));
    case 'map':
      return value instanceof Map
        ? new Map([...value].map(([key, item]) => [toInputSide(def.keyType!, key), toInputSide(def.valueType!, item)]))
        : value;
    case 'set':
      return value instanceof Set ? new Set([...value].map((item) => toInputSide(def.valueType!, item))) : value;
    case 'intersection': {
      // Each side keeps the keys it knows; an object value is the union of the two.
      const left = toInputSide(def.left!, value);
      const right = toInputSide(def.right!, value);
      return isRecord(left) && isRecord(right) ? { ...left, ...right } : left;
    }
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'nonoptional':
    case 'readonly':
    case 'catch':
      return value === undefined || value === null ? value : toInputSide(def.innerType!, value);
    case 'lazy':
      return toInputSide(internalsOf(schema).innerType!, value);
    case 'union': {
      // The option the receiver will pick is the first that accepts the value in either form.
      for (const option of def.options ?? []) {
        const prepared = toInputSide(option, value);
        if (option.safeParse(prepared).success) return prepared;
      }
      return value;
    }
    case 'pipe': {
      if (def.reverseTransform !== undefined) {
        // A codec: the app's (decoded) side is encoded; a value that is not one is taken as the wire side.
        const encoded = schema.safeEncode(value);
        return encoded.success ? encoded.data : toInputSide(def.in!, value);
      }
      // A one-way pipe. Before an opaque first stage (`z.preprocess`, a custom check) nothing says
      // what the receiver reads, so the keys the second stage knows are what is kept.
      return isOpaque(defOf(def.in!)) ? toInputSide(def.out!, value) : toInputSide(def.in!, value);
    }
    default:
      return value;
  }
}

/**
 * The sender's half of the contract: turns a value into what travels (the schema's input side) and
 * checks it, so a bad value fails where it was made, with zod's issues, instead of at the other end.
 * Transforms run during the check, but their results are discarded: the receiver's parse is the
 * one that counts.
 */
export function toWire(contractSchema: SchemaLike, value: unknown): WireCheck {
  const schema = contractSchema as z.ZodType;
  if (!changesValues(schema)) {
    // Parsing changes nothing but unknown keys: the parsed value is the input side, stripped.
    const parsed = schema.safeParse(value);
    return parsed.success
      ? { ok: true, value: parsed.data, parsed: parsed.data }
      : { ok: false, issues: parsed.error.issues };
  }
  const wire = toInputSide(schema, value);
  const checked = schema.safeParse(wire);
  return checked.success
    ? { ok: true, value: wire, parsed: checked.data }
    : { ok: false, issues: checked.error.issues };
}

/** {@link toWire}'s answer: the value to send, and what the receiver will make of it. */
export type WireCheck = { ok: true; value: unknown; parsed: unknown } | Extract<SchemaCheck, { ok: false }>;
