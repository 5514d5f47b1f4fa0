// Each close code is a constant of its own, which a bundler inlines where it is used: the browser
// client's bundle holds the numbers it reads, not the whole table. CLOSE_CODES names them all.

/** The application closed the connection on purpose. */
export const CLOSE_NORMAL = 1000;
/** The server is shutting down or restarting; reconnect at once, elsewhere if you can. */
export const CLOSE_GOING_AWAY = 1001;
/** The peer sent a frame that is not a wirecall envelope (not JSON, not an object, no type). */
export const CLOSE_PROTOCOL_ERROR = 1002;
/** The peer sent a binary frame; protocol v1 speaks text frames only. */
export const CLOSE_UNSUPPORTED_DATA = 1003;
/** A text frame was not valid UTF-8 (sent by `ws` itself, before wirecall sees the frame). */
export const CLOSE_INVALID_PAYLOAD = 1007;
/** The connection ended without a close frame (never sent, only observed). */
export const CLOSE_ABNORMAL = 1006;
/** Sustained abuse (message rate) or a policy the server enforces. */
export const CLOSE_POLICY_VIOLATION = 1008;
/** A frame was larger than `maxPayloadBytes`. */
export const CLOSE_MESSAGE_TOO_BIG = 1009;
/** The server hit an unexpected condition. */
export const CLOSE_INTERNAL_ERROR = 1011;
/**
 * Sent by the client: it drops this connection to make a new one (`reconnect()`, a missed
 * heartbeat), so the server keeps its presence for the grace period instead of a leave.
 */
export const CLOSE_CLIENT_RECONNECTING = 4000;
/**
 * The client did not read fast enough: its send buffer passed `maxBufferedBytes`. wirecall's own,
 * with no HTTP analogue; the client reconnects (and resumes its streams) with backoff.
 */
export const CLOSE_SLOW_CONSUMER = 4001;
/** The first frame was not a valid `hello`. */
export const CLOSE_BAD_HELLO = 4400;
/** The connection params were refused, or the credentials expired. */
export const CLOSE_UNAUTHORIZED = 4401;
/** The connection is not allowed. */
export const CLOSE_FORBIDDEN = 4403;
/** No `hello` arrived within the handshake timeout. */
export const CLOSE_HANDSHAKE_TIMEOUT = 4408;
/** The client's contract differs from the server's and the server runs with `strictContract`. */
export const CLOSE_CONTRACT_MISMATCH = 4409;

/**
 * Every close code a wirecall server sends, and what the client does about it. The client's
 * reconnect logic reads {@link closeCodeBehavior} and nothing else.
 *
 * Standard codes (RFC 6455 §7.4.1) keep their meaning; 4xxx codes are wirecall's own and mirror the
 * HTTP status of the same reason (4401 ~ 401), so they read naturally in logs.
 */
export const CLOSE_CODES = {
  NORMAL: CLOSE_NORMAL,
  GOING_AWAY: CLOSE_GOING_AWAY,
  PROTOCOL_ERROR: CLOSE_PROTOCOL_ERROR,
  UNSUPPORTED_DATA: CLOSE_UNSUPPORTED_DATA,
  INVALID_PAYLOAD: CLOSE_INVALID_PAYLOAD,
  ABNORMAL: CLOSE_ABNORMAL,
  POLICY_VIOLATION: CLOSE_POLICY_VIOLATION,
  MESSAGE_TOO_BIG: CLOSE_MESSAGE_TOO_BIG,
  INTERNAL_ERROR: CLOSE_INTERNAL_ERROR,
  CLIENT_RECONNECTING: CLOSE_CLIENT_RECONNECTING,
  SLOW_CONSUMER: CLOSE_SLOW_CONSUMER,
  BAD_HELLO: CLOSE_BAD_HELLO,
  UNAUTHORIZED: CLOSE_UNAUTHORIZED,
  FORBIDDEN: CLOSE_FORBIDDEN,
  HANDSHAKE_TIMEOUT: CLOSE_HANDSHAKE_TIMEOUT,
  CONTRACT_MISMATCH: CLOSE_CONTRACT_MISMATCH,
} as const;

export type CloseCode = (typeof CLOSE_CODES)[keyof typeof CLOSE_CODES];

/**
 * How the client reacts to a close code:
 * - `reconnect`: a network failure; back off and reconnect.
 * - `reconnect-now`: the server is going away; reconnect without waiting for the first attempt.
 * - `refused`: the server refused us (auth, contract, protocol); reconnecting with the same state
 *   would loop, so back off and stop after a bounded number of refusals.
 * - `stop`: do not reconnect.
 */
export type CloseBehavior = 'reconnect' | 'reconnect-now' | 'refused' | 'stop';

export function closeCodeBehavior(code: number): CloseBehavior {
  switch (code) {
    case CLOSE_NORMAL:
      return 'stop';
    case CLOSE_GOING_AWAY:
      return 'reconnect-now';
    case CLOSE_PROTOCOL_ERROR:
    case CLOSE_UNSUPPORTED_DATA:
    case CLOSE_INVALID_PAYLOAD:
    case CLOSE_MESSAGE_TOO_BIG:
    case CLOSE_POLICY_VIOLATION:
    case CLOSE_BAD_HELLO:
    case CLOSE_UNAUTHORIZED:
    case CLOSE_FORBIDDEN:
    case CLOSE_CONTRACT_MISMATCH:
      return 'refused';
    default:
      return 'reconnect';
  }
}
