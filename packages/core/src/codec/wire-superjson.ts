import { SuperJSON } from 'superjson';
import { base64ToBytes, bytesToBase64 } from './base64.js';
import { UINT8ARRAY_ANNOTATION } from './meta-guard.js';

/**
 * The superjson instance values travel with: superjson's `{ json, meta }` split into an envelope's
 * `v` and `m` fields. Private to wirecall, so an application's own superjson registrations neither
 * leak into nor change the wire format. Uint8Array travels as base64.
 */
export const wireSuperjson = new SuperJSON();
wireSuperjson.registerCustom<Uint8Array, string>(
  {
    isApplicable: (value): value is Uint8Array => value instanceof Uint8Array,
    serialize: bytesToBase64,
    // From a binary frame the bytes are already there (see binary-frame.ts).
    deserialize: (data) =>
      (data as unknown) instanceof Uint8Array ? (data as unknown as Uint8Array) : base64ToBytes(data),
  },
  UINT8ARRAY_ANNOTATION,
);
