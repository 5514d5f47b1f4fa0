/**
 * @module @wirecall/core: the contract and the errors, shared by the wirecall server and client. No
 * I/O happens here. (What the server and client share beyond this is `@wirecall/core/internal`.)
 */
export { defineContract, type CheckNames, type CheckProcedures } from './contract/define-contract.js';
export type * from './contract/types.js';
export { ERROR_CODES, RETRYABLE_CODES, isErrorCode, type ErrorCode } from './errors/codes.js';
export { WirecallError, isWirecallError, type WirecallErrorOptions } from './errors/wirecall-error.js';
export type {
  BuiltinErrorData,
  BuiltinData,
  ErrorDataFor,
  inferCallError,
  inferErrorSchemas,
  KnownErrorCode,
  Register,
} from './errors/declared-errors.js';
export type { ErrorShape } from './errors/error-shape.js';
export { CLOSE_CODES, type CloseCode } from './protocol/close-codes.js';
export { PROTOCOL, type RequestId, type StreamKey, type WireValue } from './protocol/envelopes.js';
