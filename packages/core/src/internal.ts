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
export {
  closeCodeBehavior,
  CLOSE_NORMAL,
  CLOSE_GOING_AWAY,
  CLOSE_PROTOCOL_ERROR,
  CLOSE_UNSUPPORTED_DATA,
  CLOSE_INVALID_PAYLOAD,
  CLOSE_ABNORMAL,
  CLOSE_POLICY_VIOLATION,
  CLOSE_MESSAGE_TOO_BIG,
  CLOSE_INTERNAL_ERROR,
  CLOSE_CLIENT_RECONNECTING,
  CLOSE_SLOW_CONSUMER,
  CLOSE_BAD_HELLO,
  CLOSE_UNAUTHORIZED,
  CLOSE_FORBIDDEN,
  CLOSE_HANDSHAKE_TIMEOUT,
  CLOSE_CONTRACT_MISMATCH,
  type CloseBehavior,
} from './protocol/close-codes.js';
export type * from './protocol/envelopes.js';
export { parseClientEnvelope, parseServerEnvelope, MAX_CREDITS, type ParseResult } from './protocol/parse-envelope.js';
export { streamKey, stableStringify } from './protocol/stream-key.js';
export { MAX_STREAM_KEY_LENGTH } from './protocol/field-checks.js';
// Values: one codec for both ends (superjson's wire format, our own walks).
export { encodeValue } from './codec/value-encode.js';
export { decodeValue } from './codec/value-decode.js';
export { encodeFrame, decodeFrame, type RawFrame } from './codec/json-codec.js';
export { packFrame, unpackFrame, takeBytes, putBytes } from './codec/binary-frame.js';
export { resultFrame, eventFrame, errorFrame, itemFrame } from './protocol/frames.js';
export { parsePath, UINT8ARRAY_ANNOTATION, type SuperJsonMeta } from './codec/meta-guard.js';
