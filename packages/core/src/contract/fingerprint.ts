import { z } from 'zod';
import { stableStringify } from '../protocol/stream-key.js';
import { messageEntries, procedureEntries } from './contract-entries.js';
import type { AnyContract, EventMap, MessageMap, ProcedureMap, SchemaLike } from './types.js';

/**
 * The JSON Schema of a zod schema, every node tagged with its zod type: JSON Schema alone says
 * nothing for a Date, a BigInt, a Set or a Uint8Array (all "any"), and those differences matter.
 */
function describe(contractSchema: SchemaLike | undefined): unknown {
  if (contractSchema === undefined) return null;
  const schema = contractSchema as z.ZodType;
  try {
    return z.toJSONSchema(schema, {
      unrepresentable: 'any',
      io: 'input',
      override: ({ zodSchema, jsonSchema }) => {
        const def = zodSchema._zod.def as { type: string; valueType?: z.ZodType; keyType?: z.ZodType };
        jsonSchema['x-zod'] = def.type;
        // Sets and maps have no JSON Schema form, so their element types are described here.
        if (def.type === 'set' || def.type === 'map') {
          jsonSchema['x-zod-items'] = [describe(def.keyType), describe(def.valueType)];
        }
      },
    });
  } catch {
    return schema.def.type;
  }
}

/** FNV-1a over UTF-16 code units; two seeds give 64 bits, plenty to tell two contracts apart. */
function fnv1a(text: string, seed: number): string {
  let hash = seed;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16).padStart(8, '0');
}

/**
 * The canonical text a contract's fingerprint hashes: every procedure, event and message (groups'
 * under their wire names) with the JSON Schema of its schemas, as JSON with sorted keys. Exported
 * for the conformance vectors, which ship it so other languages can check the hash.
 */
export function fingerprintText(contract: AnyContract): string {
  const procedures: ProcedureMap = Object.fromEntries(procedureEntries(contract).map(({ name, def }) => [name, def]));
  const messages: MessageMap = Object.fromEntries(messageEntries(contract).map(({ name, def }) => [name, def]));
  const events = contract.events as EventMap;
  const connectionParams = contract.connectionParams as SchemaLike | undefined;
  const shape = {
    procedures: Object.fromEntries(
      Object.entries(procedures).map(([name, def]) => [
        name,
        {
          input: describe(def.input),
          output: describe(def.output),
          idempotent: def.idempotent === true,
          // Streams change what travels; only when declared, so plain procedures keep their fingerprint.
          ...(def.stream === undefined ? {} : { stream: describe(def.stream) }),
          ...(def.inputStream === undefined ? {} : { inputStream: describe(def.inputStream) }),
          ...(def.resumable === true ? { resumable: true } : {}),
          // Only when declared, so contracts without declared errors keep their fingerprint.
          ...(def.errors === undefined
            ? {}
            : {
                errors: Object.fromEntries(
                  Object.entries(def.errors).map(([code, schema]) => [code, describe(schema)]),
                ),
              }),
        },
      ]),
    ),
    events: Object.fromEntries(
      Object.entries(events).map(([name, def]) => [
        name,
        {
          payload: describe(def.payload),
          params: describe(def.params),
          conflate: def.conflate === true,
          // Only when declared, so contracts without them keep their fingerprint.
          ...(def.presence === undefined ? {} : { presence: describe(def.presence) }),
          ...(def.to === undefined ? {} : { to: def.to }),
        },
      ]),
    ),
    connectionParams: describe(connectionParams),
    // Only when declared, so contracts without messages keep their fingerprint.
    ...(Object.keys(messages).length === 0
      ? {}
      : {
          messages: Object.fromEntries(
            Object.entries(messages).map(([name, def]) => [
              name,
              { payload: describe(def.payload), queue: def.queue === true },
            ]),
          ),
        }),
  };
  return stableStringify(shape);
}

/**
 * The fingerprint of a canonical text: FNV-1a from two offset bases, 64 bits in all. Not a security
 * measure: it lets a client and a server notice at connect time that they were built from
 * different contracts (a stale tab).
 */
export function fingerprintOf(text: string): string {
  return fnv1a(text, 0x811c9dc5) + fnv1a(text, 0x050c5d1f);
}
