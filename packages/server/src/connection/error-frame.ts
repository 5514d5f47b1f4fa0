import { INTERNAL_ERROR_SHAPE, toErrorShape, type WirecallError } from '@wirecall/core';
import type { Logger } from '../logger.js';

const INTERNAL_ERROR_JSON = JSON.stringify(INTERNAL_ERROR_SHAPE);

/**
 * The JSON text of an error's wire body, and the only place the server encodes one. It cannot
 * fail: an error whose data cannot become JSON (a BigInt, a cycle, a getter that throws) is sent
 * as a fixed `INTERNAL` instead and the original is logged, so the caller always gets exactly one
 * answer and the connection stays up.
 */
export function encodeErrorBody(error: WirecallError, logger: Logger): string {
  try {
    return JSON.stringify(toErrorShape(error));
  } catch (fault) {
    logger.error({ err: fault }, 'an error could not be encoded; answering INTERNAL');
    return INTERNAL_ERROR_JSON;
  }
}
