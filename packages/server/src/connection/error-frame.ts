import {
  INTERNAL_ERROR_SHAPE,
  isErrorCode,
  toErrorShape,
  toWire,
  type ProcedureDef,
  type WirecallError,
  encodeValue,
} from '@wirecall/core/internal';
import type { Logger } from '../logger.js';

/** An encoded error body and the code it says (INTERNAL when the error could not be sent as it was). */
export interface EncodedError {
  code: string;
  json: string;
}

const INTERNAL: EncodedError = { code: 'INTERNAL', json: JSON.stringify(INTERNAL_ERROR_SHAPE) };

/**
 * The JSON text of an error's wire body, and the only place the server encodes one. It cannot
 * fail, and it says only what the contract allows:
 * - a code the procedure declares must carry `data` its schema accepts (sent in the schema's
 *   input side, parsed by the client); a code nobody declared is a handler bug;
 * - `data` travels like any value (`m` annotates Dates, Maps, BigInts);
 * - anything that cannot be sent (a code or data off the contract, a cycle, a getter that throws)
 *   becomes a fixed `INTERNAL`, and the original is logged: the caller always gets exactly one
 *   answer and the connection stays up.
 */
export function encodeErrorBody(
  error: WirecallError,
  logger: Logger,
  declared: ProcedureDef['errors'] | undefined = undefined,
): EncodedError {
  try {
    const { code } = error;
    let { data } = error;
    if (!isErrorCode(code)) {
      const schema = declared !== undefined && Object.hasOwn(declared, code) ? declared[code] : undefined;
      if (schema === undefined) {
        logger.error({ err: error, code }, 'a handler threw an error code its procedure does not declare');
        return INTERNAL;
      }
      const checked = toWire(schema, data);
      if (!checked.ok) {
        logger.error({ err: error, code, issues: checked.issues }, 'error data does not match its declaration');
        return INTERNAL;
      }
      data = checked.value;
    }
    return { code, json: JSON.stringify(toErrorShape(error, data, encodeValue)) };
  } catch (fault) {
    logger.error({ err: fault }, 'an error could not be encoded; answering INTERNAL');
    return INTERNAL;
  }
}
