/**
 * The contract fingerprint, spelled out for `fingerprints.json`: the shape core hashes (every
 * procedure, event and message with the JSON Schema of its schemas), its canonical JSON text, and
 * the hash. core keeps its own copy private (`contract/fingerprint.ts`); this one is checked against
 * it (`contract.fingerprint`) by generate-values.ts and by the conformance suite, so the two
 * cannot drift apart unnoticed.
 */
import { z } from 'zod';
import { defineContract } from '@wirecall/core';
import { messageEntries, procedureEntries, stableStringify, type AnyContract } from '@wirecall/core/internal';

/** The JSON Schema of a zod schema (input side), every node tagged `x-zod` with its zod type; null when absent. */
function describeSchema(schema: unknown): unknown {
  if (schema === undefined) return null;
  const zodSchema = schema as z.ZodType;
  try {
    return z.toJSONSchema(zodSchema, {
      unrepresentable: 'any',
      io: 'input',
      override: ({ zodSchema: node, jsonSchema }) => {
        const def = node._zod.def as { type: string; valueType?: z.ZodType; keyType?: z.ZodType };
        jsonSchema['x-zod'] = def.type;
        if (def.type === 'set' || def.type === 'map') {
          jsonSchema['x-zod-items'] = [describeSchema(def.keyType), describeSchema(def.valueType)];
        }
      },
    });
  } catch {
    return zodSchema.def.type;
  }
}

interface Defs {
  input?: unknown;
  output?: unknown;
  idempotent?: boolean;
  stream?: unknown;
  inputStream?: unknown;
  resumable?: boolean;
  errors?: Record<string, unknown>;
  payload?: unknown;
  params?: unknown;
  conflate?: boolean;
  presence?: unknown;
  to?: string;
  queue?: boolean;
}

/** What core hashes for a contract (see README.md, "Fingerprints"). */
export function fingerprintShape(contract: AnyContract): unknown {
  const procedures = procedureEntries(contract).map(({ name, def }) => [name, def as Defs] as const);
  const events = Object.entries(contract.events as Record<string, Defs>);
  const messages = messageEntries(contract).map(({ name, def }) => [name, def as Defs] as const);
  return {
    procedures: Object.fromEntries(
      procedures.map(([name, def]) => [
        name,
        {
          input: describeSchema(def.input),
          output: describeSchema(def.output),
          idempotent: def.idempotent === true,
          ...(def.stream === undefined ? {} : { stream: describeSchema(def.stream) }),
          ...(def.inputStream === undefined ? {} : { inputStream: describeSchema(def.inputStream) }),
          ...(def.resumable === true ? { resumable: true } : {}),
          ...(def.errors === undefined
            ? {}
            : {
                errors: Object.fromEntries(
                  Object.entries(def.errors).map(([code, schema]) => [code, describeSchema(schema)]),
                ),
              }),
        },
      ]),
    ),
    events: Object.fromEntries(
      events.map(([name, def]) => [
        name,
        {
          payload: describeSchema(def.payload),
          params: describeSchema(def.params),
          conflate: def.conflate === true,
          ...(def.presence === undefined ? {} : { presence: describeSchema(def.presence) }),
          ...(def.to === undefined ? {} : { to: def.to }),
        },
      ]),
    ),
    connectionParams: describeSchema(contract.connectionParams),
    ...(messages.length === 0
      ? {}
      : {
          messages: Object.fromEntries(
            messages.map(([name, def]) => [name, { payload: describeSchema(def.payload), queue: def.queue === true }]),
          ),
        }),
  };
}

/** JSON with object keys sorted by UTF-16 code units, no whitespace, undefined members dropped. */
export function canonicalJson(value: unknown): string {
  return stableStringify(value);
}

/** 32-bit FNV-1a over the UTF-16 code units of `text`, from offset basis `basis`, as 8 hex digits. */
function fnv1a32(text: string, basis: number): string {
  let hash = basis;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16).padStart(8, '0');
}

/** The fingerprint of a canonical text: FNV-1a from basis 0x811c9dc5, then from 0x050c5d1f, concatenated. */
export function fingerprintOf(canonical: string): string {
  return fnv1a32(canonical, 0x811c9dc5) + fnv1a32(canonical, 0x050c5d1f);
}

/** Texts whose hash pins down the details (empty text, code units beyond ASCII, a surrogate pair). */
export const HASH_TEXTS: readonly string[] = ['', 'a', 'wirecall.v1', '{"procedures":{}}', 'é', '😀', 'Zürich → 東京'];

/** Small contracts, each with a fingerprint of its own. `build` is written as the contract would be. */
export const FINGERPRINT_CASES: readonly { name: string; build: () => AnyContract }[] = [
  { name: 'empty', build: () => defineContract({}) },
  {
    name: 'one-procedure',
    build: () =>
      defineContract({
        procedures: { add: { input: z.object({ a: z.number(), b: z.number() }), output: z.number() } },
      }),
  },
  {
    name: 'idempotent',
    build: () =>
      defineContract({
        procedures: {
          add: { input: z.object({ a: z.number(), b: z.number() }), output: z.number(), idempotent: true },
        },
      }),
  },
  {
    name: 'date-field',
    build: () => defineContract({ procedures: { at: { input: z.object({}), output: z.object({ at: z.date() }) } } }),
  },
  {
    name: 'string-field',
    build: () => defineContract({ procedures: { at: { input: z.object({}), output: z.object({ at: z.string() }) } } }),
  },
  {
    name: 'bigint-set-map-bytes',
    build: () =>
      defineContract({
        procedures: {
          all: {
            input: z.object({ n: z.bigint(), tags: z.set(z.string()), scores: z.map(z.string(), z.number()) }),
            output: z.instanceof(Uint8Array),
          },
        },
      }),
  },
  {
    name: 'declared-errors',
    build: () =>
      defineContract({
        procedures: {
          buy: {
            input: z.object({ sku: z.string() }),
            output: z.null(),
            errors: { OUT_OF_STOCK: z.object({ left: z.number() }) },
          },
        },
      }),
  },
  {
    name: 'event-with-params',
    build: () =>
      defineContract({
        events: { chat: { payload: z.object({ text: z.string() }), params: z.object({ room: z.string() }) } },
      }),
  },
  {
    name: 'conflated-event',
    build: () => defineContract({ events: { price: { payload: z.object({ value: z.number() }), conflate: true } } }),
  },
  {
    name: 'presence-and-personal',
    build: () =>
      defineContract({
        events: {
          room: { payload: z.object({ text: z.string() }), presence: z.object({ name: z.string() }) },
          notice: { payload: z.object({ text: z.string() }), to: 'user' },
        },
      }),
  },
  {
    name: 'message-and-params',
    build: () =>
      defineContract({
        messages: { typing: { payload: z.object({ room: z.string() }), queue: true } },
        connectionParams: z.object({ token: z.string() }),
      }),
  },
  {
    name: 'streams',
    build: () =>
      defineContract({
        procedures: {
          reply: { input: z.object({}), stream: z.object({ token: z.string() }), resumable: true },
          upload: { input: z.object({}), inputStream: z.instanceof(Uint8Array), output: z.number() },
        },
      }),
  },
  {
    name: 'group',
    build: () =>
      defineContract({
        groups: {
          users: defineContract({ procedures: { get: { input: z.object({ id: z.string() }), output: z.string() } } }),
        },
      }),
  },
];
