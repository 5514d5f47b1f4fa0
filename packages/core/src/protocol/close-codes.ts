/**
 * Every close code a wirecall server sends, and what the client does about it. The client's
 * reconnect logic reads {@link closeCodeBehavior} and nothing else.
 *
 * Standard codes (RFC 6455 §7.4.1) keep their meaning; 4xxx codes are wirecall's own and mirror the
 * HTTP status of the same reason (4401 ~ 401), so they read naturally in logs.
 */
export const CLOSE_CODES = {
  /** The application closed the connection on purpose. */
  NORMAL: 1000,
  /** The server is shutting down or restarting; reconnect at once, elsewhere if you can. */
  GOING_AWAY: 1001,
  /** The peer sent a frame that is not a wirecall envelope (not JSON, not an object, no type). */
  PROTOCOL_ERROR: 1002,
  /** The peer sent a binary frame; protocol v1 speaks text frames only. */
  UNSUPPORTED_DATA: 1003,
  /** A text frame was not valid UTF-8 (sent by `ws` itself, before wirecall sees the frame). */
  INVALID_PAYLOAD: 1007,
  /** The connection ended without a close frame (never sent, only observed). */
  ABNORMAL: 1006,
  /** Sustained abuse (message rate) or a policy the server enforces. */
  POLICY_VIOLATION: 1008,
  /** A frame was larger than `maxPayloadBytes`. */
  MESSAGE_TOO_BIG: 1009,
  /** The server hit an unexpected condition. */
  INTERNAL_ERROR: 1011,
  /**
   * Sent by the client: it drops this connection to make a new one (`reconnect()`, a missed
   * heartbeat), so the server keeps its presence for the grace period instead of a leave.
   */
  CLIENT_RECONNECTING: 4000,
  /**
   * The client did not read fast enough: its send buffer passed `maxBufferedBytes`. wirecall's own,
   * with no HTTP analogue; the client reconnects (and resumes its streams) with backoff.
   */
  SLOW_CONSUMER: 4001,
  /** The first frame was not a valid `hello`. */
  BAD_HELLO: 4400,
  /** The connection params were refused, or the credentials expired. */
  UNAUTHORIZED: 4401,
  /** The connection is not allowed. */
  FORBIDDEN: 4403,
  /** No `hello` arrived within the handshake timeout. */
  HANDSHAKE_TIMEOUT: 4408,
  /** The client's contract differs from the server's and the server runs with `strictContract`. */
  CONTRACT_MISMATCH: 4409,
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
    case CLOSE_CODES.NORMAL:
      return 'stop';
    case CLOSE_CODES.GOING_AWAY:
      return 'reconnect-now';
    case CLOSE_CODES.PROTOCOL_ERROR:
    case CLOSE_CODES.UNSUPPORTED_DATA:
    case CLOSE_CODES.INVALID_PAYLOAD:
    case CLOSE_CODES.MESSAGE_TOO_BIG:
    case CLOSE_CODES.POLICY_VIOLATION:
    case CLOSE_CODES.BAD_HELLO:
    case CLOSE_CODES.UNAUTHORIZED:
    case CLOSE_CODES.FORBIDDEN:
    case CLOSE_CODES.CONTRACT_MISMATCH:
      return 'refused';
    default:
      return 'reconnect';
  }
}
