import { CLOSE_CODES, WirecallError } from '@wirecall/core';

/** The error a close code means to the application, so a too-large message is not "network error". */
export function errorForClose(code: number, reason: string): WirecallError {
  const detail = reason === '' ? `code ${code}` : `${reason} (code ${code})`;
  switch (code) {
    case CLOSE_CODES.MESSAGE_TOO_BIG:
      return new WirecallError('PAYLOAD_TOO_LARGE', `The server refused a message as too large: ${detail}`);
    case CLOSE_CODES.UNAUTHORIZED:
      return new WirecallError('UNAUTHORIZED', `The server refused the connection: ${detail}`);
    case CLOSE_CODES.FORBIDDEN:
      return new WirecallError('FORBIDDEN', `The server refused the connection: ${detail}`);
    case CLOSE_CODES.POLICY_VIOLATION:
      return new WirecallError('RATE_LIMITED', `The server closed the connection: ${detail}`);
    default:
      return new WirecallError('CONNECTION_LOST', `The connection closed: ${detail}`);
  }
}
