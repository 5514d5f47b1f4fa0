import {
  CLOSE_FORBIDDEN,
  CLOSE_MESSAGE_TOO_BIG,
  CLOSE_POLICY_VIOLATION,
  CLOSE_UNAUTHORIZED,
  WirecallError,
  type ErrorCode,
} from '@wirecall/core/internal';

/** Close codes that mean more to the application than "the connection was lost". */
const MEANINGS: Record<number, [ErrorCode, string]> = {
  [CLOSE_MESSAGE_TOO_BIG]: ['PAYLOAD_TOO_LARGE', 'The server refused a message as too large'],
  [CLOSE_UNAUTHORIZED]: ['UNAUTHORIZED', 'The server refused the connection'],
  [CLOSE_FORBIDDEN]: ['FORBIDDEN', 'The server refused the connection'],
  [CLOSE_POLICY_VIOLATION]: ['RATE_LIMITED', 'The server closed the connection'],
};

/** The error a close code means to the application, so a too-large message is not "network error". */
export function errorForClose(code: number, reason: string): WirecallError {
  const [errorCode, message] = MEANINGS[code] ?? ['CONNECTION_LOST', 'The connection closed'];
  return new WirecallError(errorCode, `${message}: ${reason === '' ? `code ${code}` : `${reason} (code ${code})`}`);
}
