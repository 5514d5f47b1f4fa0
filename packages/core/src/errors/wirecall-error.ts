import type { ErrorCode } from './codes.js';
import type { ErrorDataFor, KnownErrorCode } from './declared-errors.js';

/** Options accepted by {@link WirecallError}'s constructor. */
export interface WirecallErrorOptions<TData = unknown> {
  /**
   * Structured details sent to the caller (for `BAD_REQUEST`, `{ issues }`). For a code the
   * procedure declares, checked against its schema; values travel like any other (Dates, Maps).
   */
  data?: TData;
  /** The underlying error; logged on the server, never sent over the wire. */
  cause?: unknown;
}

/** A code a procedure may declare: SCREAMING_SNAKE, like the built-in ones. */
const ERROR_CODE_PATTERN = /^[A-Z][A-Z0-9_]{0,63}$/;

/** True for a built-in code or one a contract could declare (the wire carries either). */
export function isErrorCodeName(value: unknown): value is string {
  return typeof value === 'string' && ERROR_CODE_PATTERN.test(value);
}

/**
 * The one error type of wirecall. A handler throws it to send a typed error to the caller; the client
 * rejects with it for remote errors and for transport failures (`TIMEOUT`, `CONNECTION_LOST`, ...).
 * `code` is a built-in {@link ErrorCode} or one the procedure declares in its `errors`.
 *
 * @example
 * throw new WirecallError('NOT_FOUND', 'no such user');
 * throw new WirecallError('OUT_OF_STOCK', 'sold out', { data: { sku, left: 0 } });
 */
export class WirecallError<TCode extends string = ErrorCode | (string & {}), TData = unknown> extends Error {
  override readonly name = 'WirecallError';
  readonly code: TCode;
  readonly data: TData;

  constructor(code: TCode & KnownErrorCode, message: string, options: WirecallErrorOptions<ErrorDataFor<TCode>> = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.data = options.data as TData;
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
  return candidate.name === 'WirecallError' && isErrorCodeName(candidate.code);
}
