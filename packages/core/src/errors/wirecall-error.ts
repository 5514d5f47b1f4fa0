import { isErrorCode, type ErrorCode } from './codes.js';

/** Options accepted by {@link WirecallError}'s constructor. */
export interface WirecallErrorOptions {
  /** Structured, JSON-safe details sent to the caller (for `BAD_REQUEST`, `{ issues }`). */
  data?: unknown;
  /** The underlying error; logged on the server, never sent over the wire. */
  cause?: unknown;
}

/**
 * The one error type of wirecall. A handler throws it to send a typed error to the caller; the client
 * rejects with it for remote errors and for transport failures (`TIMEOUT`, `CONNECTION_LOST`, ...).
 *
 * @example
 * throw new WirecallError('NOT_FOUND', 'no such user');
 */
export class WirecallError extends Error {
  override readonly name = 'WirecallError';
  readonly code: ErrorCode;
  readonly data: unknown;

  constructor(code: ErrorCode, message: string, options: WirecallErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.data = options.data;
  }
}

/**
 * True for a `WirecallError`, also one created by another copy of the library or another realm
 * (an iframe, a worker), where `instanceof` would say no.
 */
export function isWirecallError(value: unknown): value is WirecallError {
  if (value instanceof WirecallError) return true;
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as { name?: unknown; code?: unknown };
  return candidate.name === 'WirecallError' && isErrorCode(candidate.code);
}
