import type { z } from 'zod';
import type { SchemaCheck } from './check-schema.js';

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
  getter?: () => z.ZodType;
}

function defOf(schema: z.ZodType): SchemaDef {
  return (schema as unknown as { _zod: { def: SchemaDef } })._zod.def;
}

/** The schemas directly inside this one. */
function childrenOf(def: SchemaDef): z.ZodType[] {
  const children: z.ZodType[] = [];
  const add = (schema: z.ZodType | null | undefined): void => {
    if (schema) children.push(schema);
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
  if (def.type === 'lazy' && def.getter) add(def.getter());
  return children;
}

const transforming = new WeakMap<z.ZodType, boolean>();

/**
 * Whether a schema changes values as it parses (a transform, a pipe or a codec anywhere inside). A
 * schema that does not can send its parsed output as is: parsing it again gives the same value.
 */
export function hasTransform(schema: z.ZodType, seen = new Set<z.ZodType>()): boolean {
  const known = transforming.get(schema);
  if (known !== undefined) return known;
  if (seen.has(schema)) return false; // a recursive (lazy) schema: its other branches decide
  seen.add(schema);
  const def = defOf(schema);
  const result =
    def.type === 'transform' || def.type === 'pipe' || childrenOf(def).some((child) => hasTransform(child, seen));
  transforming.set(schema, result);
  return result;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
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
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'nonoptional':
    case 'readonly':
    case 'catch':
      return value === undefined || value === null ? value : toInputSide(def.innerType!, value);
    case 'lazy':
      return toInputSide(def.getter!(), value);
    case 'union': {
      // The option the receiver will pick is the first that accepts the value in either form.
      for (const option of def.options ?? []) {
        const prepared = toInputSide(option, value);
        if (option.safeParse(prepared).success) return prepared;
      }
      return value;
    }
    case 'pipe': {
      if (def.reverseTransform === undefined) return toInputSide(def.in!, value); // a one-way pipe or transform
      // A codec: a value that already fits the wire side is sent as is; the decoded side is encoded.
      if (def.in!.safeParse(value).success) return value;
      const encoded = schema.safeEncode(value);
      return encoded.success ? encoded.data : value;
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
export function toWire(schema: z.ZodType, value: unknown): WireCheck {
  if (!hasTransform(schema)) {
    // Parsing changes nothing a second parse would undo: send the parsed value (stripped of
    // unknown keys, defaults filled in).
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
