import { isPlainJson } from '../codec/plain-json.js';
import { checkSchema } from '../contract/check-schema.js';
import type { SchemaLike } from '../contract/types.js';
import type { WireValue } from '../protocol/envelopes.js';
import { isErrorCode, type ErrorCode } from './codes.js';
import { isErrorCodeName, isWirecallError, WirecallError } from './wirecall-error.js';

/** What an error looks like on the wire: no stack, no cause, nothing the server did not mean to say. */
export interface ErrorShape {
  /** A built-in {@link ErrorCode} or one the procedure declares. */
  code: string;
  message: string;
  data?: unknown;
  /** Annotations of `data` (Dates, Maps, BigInts), as a value's `m`. */
  m?: WireValue['m'];
}

const GENERIC_INTERNAL_MESSAGE = 'Internal server error';

/**
 * The error every fault that cannot be described becomes: fixed, so building it cannot fail. Marked
 * pure, so a bundle that never reads it (the browser client's, which only rebuilds errors) drops it.
 */
export const INTERNAL_ERROR_SHAPE: Readonly<ErrorShape> = /* @__PURE__ */ Object.freeze({
  code: 'INTERNAL',
  message: GENERIC_INTERNAL_MESSAGE,
});

/**
 * Normalises anything a handler threw, and never throws itself. The answer is always a fresh
 * `WirecallError` built from fields read once, with the original as `cause` for the server's log:
 * what the server reads afterwards (code, message, data) is plain data, whatever the handler's
 * object does (getters that throw, a Proxy, a subclass). A `WirecallError` (also one from another
 * realm or copy of the library) keeps its code, message and data; anything else, and anything
 * that cannot be read, becomes `INTERNAL` with a generic message.
 */
export function toWirecallError(thrown: unknown): WirecallError {
  try {
    if (thrown instanceof WirecallError || isWirecallError(thrown)) {
      const { code, message, data } = thrown as { code: unknown; message: unknown; data: unknown };
      if (isErrorCodeName(code)) {
        return new WirecallError(code as ErrorCode, typeof message === 'string' ? message : '', {
          data: data as never,
          cause: thrown,
        });
      }
    }
  } catch {
    // Reading the thrown value threw (a hostile getter, a revoked Proxy): it is an internal fault.
  }
  return new WirecallError('INTERNAL', GENERIC_INTERNAL_MESSAGE, { cause: thrown });
}

/** Without a value codec only plain JSON goes out: never a Date or a Map without its annotation. */
function plainOnly(value: unknown): WireValue {
  if (isPlainJson(value)) return { v: value };
  throw new TypeError('wirecall cannot send this error data: it is not plain JSON and no value codec was given');
}

/**
 * The wire shape of an error: the one place that decides what leaves the server. `data` travels
 * like any value: JSON in `data`, annotations (Dates, Maps, BigInts) in `m`, as `encode` splits
 * them (the server passes its value codec, which lives in the server package). Throws a TypeError
 * for data that cannot be sent (a cycle); the server answers INTERNAL then.
 */
export function toErrorShape(
  error: WirecallError,
  data: unknown = error.data,
  encode: (value: unknown) => WireValue = plainOnly,
): ErrorShape {
  const shape: ErrorShape = { code: error.code, message: error.message };
  if (data === undefined) return shape;
  const wire = encode(data);
  shape.data = wire.v;
  if (wire.m !== undefined) shape.m = wire.m;
  return shape;
}

const malformed = (): WirecallError => new WirecallError('INTERNAL', 'Malformed error from server');

/**
 * Rebuilds a `WirecallError` from an untrusted wire shape. The code must be built-in or one of
 * `declared` (the called procedure's errors), whose schema then parses `data`; anything malformed
 * becomes `INTERNAL`. `decode` rebuilds annotated data (the client passes its own value codec).
 */
export function fromErrorShape(
  shape: unknown,
  declared: Record<string, SchemaLike> | undefined = undefined,
  decode: (wire: WireValue) => unknown = (wire) => wire.v,
): WirecallError {
  if (typeof shape !== 'object' || shape === null) return malformed();
  const { code, message, data, m } = shape as Record<string, unknown>;
  if (typeof code !== 'string' || typeof message !== 'string') return malformed();
  const schema = declared !== undefined && Object.hasOwn(declared, code) ? declared[code] : undefined;
  if (schema === undefined && !isErrorCode(code)) return malformed();
  let value: unknown;
  try {
    value = decode(m === undefined ? { v: data } : { v: data, m: m as WireValue['m'] });
  } catch {
    return malformed();
  }
  if (schema !== undefined) {
    // Declared data travels in its schema's input side; parsing it here gives the caller its type.
    const checked = checkSchema(schema, value);
    if (!checked.ok) {
      return new WirecallError('INTERNAL', `The data of error ${code} does not match the contract`, {
        data: { issues: checked.issues },
      });
    }
    value = checked.value;
  }
  return new WirecallError(code as ErrorCode, message, { data: value as never });
}
