import { isErrorCode, type ErrorCode } from './codes.js';
import { isWirecallError, WirecallError } from './wirecall-error.js';

/** What an error looks like on the wire: no stack, no cause, nothing the server did not mean to say. */
export interface ErrorShape {
  code: ErrorCode;
  message: string;
  data?: unknown;
}

const GENERIC_INTERNAL_MESSAGE = 'Internal server error';

/**
 * Normalises anything a handler threw. A `WirecallError` passes through; any other value becomes
 * `INTERNAL` with a generic message, keeping the original as `cause` for the server's log only.
 */
export function toWirecallError(thrown: unknown): WirecallError {
  if (isWirecallError(thrown)) return thrown;
  return new WirecallError('INTERNAL', GENERIC_INTERNAL_MESSAGE, { cause: thrown });
}

/** The wire shape of an error: the one place that decides what leaves the server. */
export function toErrorShape(error: WirecallError): ErrorShape {
  return error.data === undefined
    ? { code: error.code, message: error.message }
    : { code: error.code, message: error.message, data: error.data };
}

/** Rebuilds a `WirecallError` from an untrusted wire shape; anything malformed becomes `INTERNAL`. */
export function fromErrorShape(shape: unknown): WirecallError {
  if (typeof shape !== 'object' || shape === null) {
    return new WirecallError('INTERNAL', 'Malformed error from server');
  }
  const { code, message, data } = shape as Record<string, unknown>;
  if (!isErrorCode(code) || typeof message !== 'string') {
    return new WirecallError('INTERNAL', 'Malformed error from server');
  }
  return new WirecallError(code, message, { data });
}
