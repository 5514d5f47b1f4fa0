import { isErrorCode, type ErrorCode } from './codes.js';
import { isWirecallError, WirecallError } from './wirecall-error.js';

/** What an error looks like on the wire: no stack, no cause, nothing the server did not mean to say. */
export interface ErrorShape {
  code: ErrorCode;
  message: string;
  data?: unknown;
}

const GENERIC_INTERNAL_MESSAGE = 'Internal server error';

/** The error every fault that cannot be described becomes: fixed, so building it cannot fail. */
export const INTERNAL_ERROR_SHAPE: Readonly<ErrorShape> = Object.freeze({
  code: 'INTERNAL',
  message: GENERIC_INTERNAL_MESSAGE,
});

/**
 * Normalises anything a handler threw, and never throws itself. A `WirecallError` passes through; a
 * lookalike from another realm is copied field by field into a real one; anything else, including
 * a value whose getters or Proxy traps throw while being read, becomes `INTERNAL` with a generic
 * message, keeping the original as `cause` for the server's log only.
 */
export function toWirecallError(thrown: unknown): WirecallError {
  try {
    if (thrown instanceof WirecallError) {
      // Read here, inside the guard, the fields the answer reads: a subclass could have made them
      // throwing getters.
      const { code, message } = thrown;
      void thrown.data;
      if (isErrorCode(code) && typeof message === 'string') return thrown;
    } else if (isWirecallError(thrown)) {
      // Read each field once: a getter could answer differently (or throw) the second time.
      const { code, message, data } = thrown as { code: unknown; message: unknown; data: unknown };
      if (isErrorCode(code)) {
        return new WirecallError(code, typeof message === 'string' ? message : '', { data, cause: thrown });
      }
    }
  } catch {
    // Reading the thrown value threw (a hostile getter, a revoked Proxy): it is an internal fault.
  }
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
