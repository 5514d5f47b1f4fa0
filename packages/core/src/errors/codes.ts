/**
 * The single table of wirecall error codes. Every `WirecallError` carries one of these, on both ends
 * of the socket; reconnect and retry logic reads {@link RETRYABLE_CODES} and nothing else.
 *
 * Each code maps to the nearest HTTP status, for logs and for operators who map errors onto
 * HTTP dashboards; it never travels on the wire.
 */
export const ERROR_CODES = {
  /** The input (or subscription params) failed the contract's schema; `data.issues` holds zod's issues. */
  BAD_REQUEST: 400,
  /** No credentials, or credentials the server refused. */
  UNAUTHORIZED: 401,
  /** Authenticated, but not allowed to do this. */
  FORBIDDEN: 403,
  /** Unknown procedure or event, or a resource a handler could not find. */
  NOT_FOUND: 404,
  /** The call's deadline passed before a result arrived. */
  TIMEOUT: 408,
  /** A message was larger than the peer accepts. */
  PAYLOAD_TOO_LARGE: 413,
  /** Too many calls or messages; try again later. */
  RATE_LIMITED: 429,
  /** The caller aborted the call (its `AbortSignal` fired). */
  CANCELLED: 499,
  /** Something failed on the server; the details stay in the server's log. */
  INTERNAL: 500,
  /** The client cannot take the call now (for example its offline queue is full). */
  UNAVAILABLE: 503,
  /** The connection dropped while the call was in flight, and the call was not safe to retry. */
  CONNECTION_LOST: 503,
  /** The client was closed by the application; no more calls will be sent. */
  CLOSED: 503,
} as const satisfies Record<string, number>;

/** One of the documented error codes. */
export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * Codes after which the same call may succeed if sent again. Only idempotent procedures are ever
 * retried by the library, and only for these codes.
 */
export const RETRYABLE_CODES: ReadonlySet<string> = new Set<ErrorCode>(['CONNECTION_LOST', 'UNAVAILABLE']);

/** True when `value` names a documented error code (an own key of the table, not `toString`). */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}
