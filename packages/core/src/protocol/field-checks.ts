import type { RequestId } from './envelopes.js';

/** Longest string accepted as a correlation id, event id, key or name. Keeps lookups cheap. */
export const MAX_TOKEN_LENGTH = 256;

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isRequestId(value: unknown): value is RequestId {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0;
  return typeof value === 'string' && value.length > 0 && value.length <= 64;
}

/** Longest stream key (event name plus canonical params). */
export const MAX_STREAM_KEY_LENGTH = 4096;

export function isToken(value: unknown, maxLength = MAX_TOKEN_LENGTH): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= maxLength;
}

export function isOptionalToken(value: unknown): value is string | undefined {
  return value === undefined || isToken(value);
}
