/**
 * @module @wirecall/core/internal: everything the wirecall server and client share (the wire
 * protocol, frame writers, codecs, helpers), beside the public API. Not for apps: it changes
 * without notice; `@wirecall/core` is the public part.
 */
// The public API, then what the server and client share beyond it.
export * from './index.js';
export {
  procedureEntries,
  messageEntries,
  valueAt,
  placeAt,
  freezeDeep,
  type ContractEntry,
} from './contract/contract-entries.js';
export { checkSchema, type SchemaCheck } from './contract/check-schema.js';
export { toWire, type WireCheck } from './contract/wire-form.js';
export { fingerprintOf, fingerprintText } from './contract/fingerprint.js';
export { toWirecallError, toErrorShape, fromErrorShape, INTERNAL_ERROR_SHAPE } from './errors/error-shape.js';
export { closeCodeBehavior, type CloseBehavior } from './protocol/close-codes.js';
export type * from './protocol/envelopes.js';
export { parseClientEnvelope, parseServerEnvelope, MAX_CREDITS, type ParseResult } from './protocol/parse-envelope.js';
export { streamKey, stableStringify } from './protocol/stream-key.js';
export { MAX_STREAM_KEY_LENGTH } from './protocol/field-checks.js';
export { encodeValue, decodeValue, isPlainJson } from './codec/value-codec.js';
export { wireSuperjson } from './codec/wire-superjson.js';
export { encodeFrame, decodeFrame, type RawFrame } from './codec/json-codec.js';
export { packFrame, unpackFrame, takeBytes, putBytes, hasBytes } from './codec/binary-frame.js';
export { callFrame, resultFrame, eventFrame, errorFrame, itemFrame } from './protocol/frames.js';
export type { SuperJsonMeta } from './codec/meta-guard.js';
