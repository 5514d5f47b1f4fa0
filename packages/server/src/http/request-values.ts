import type { IncomingMessage } from 'node:http';
import { WirecallError } from '@wirecall/core/internal';

/** Header names of the HTTP routes (lower case, as Node gives them). */
export const HTTP_HEADERS = {
  params: 'wirecall-params',
  timeout: 'wirecall-timeout',
  idempotencyKey: 'wirecall-idempotency-key',
} as const;

/** The cookie that carries connection params where a header cannot be set (an EventSource). */
export const PARAMS_COOKIE = 'wirecall-params';

/** A query parameter's JSON, undefined when absent; a 400 when it is not JSON. */
export function jsonParam(text: string | null, name: string): unknown {
  if (text === null) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new WirecallError('BAD_REQUEST', `The query parameter ${name} is not JSON`);
  }
}

/** A cookie's value (URL-decoded), or undefined. */
function cookieOf(request: IncomingMessage, name: string): string | undefined {
  const header = request.headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const at = part.indexOf('=');
    if (at !== -1 && part.slice(0, at).trim() === name) {
      try {
        return decodeURIComponent(part.slice(at + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/**
 * The connection params of a request, as JSON: the `wirecall-params` header, or else, with
 * `fromCookie`, the `wirecall-params` cookie. Only a read-only event stream takes the cookie (an
 * `EventSource` cannot set headers): a browser attaches cookies to a cross-site form POST too, so a
 * call taking them would act for the user on another site's behalf. A 401 when it is not JSON, as
 * a `hello` whose params fail.
 */
export function connectionParamsJson(request: IncomingMessage, fromCookie = false): unknown {
  const header = request.headers[HTTP_HEADERS.params];
  const text = typeof header === 'string' ? header : fromCookie ? cookieOf(request, PARAMS_COOKIE) : undefined;
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new WirecallError('UNAUTHORIZED', 'invalid connection params');
  }
}
