import type { StreamKey } from './envelopes.js';

/** JSON with object keys sorted, so equal params always give the same text. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => stableStringify(item ?? null)).join(',')}]`;
  // A Date is written as JSON.stringify writes it, not as an object without keys.
  if (value instanceof Date) return JSON.stringify(value);
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    const parts: string[] = [];
    for (const key of Object.keys(record).sort()) {
      if (record[key] !== undefined) parts.push(`${JSON.stringify(key)}:${stableStringify(record[key])}`);
    }
    return `{${parts.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * The stream an event belongs to: its name plus its params in canonical JSON (of the params' wire
 * form, so Dates and Sets compare by value). Event names cannot contain a space (see defineContract),
 * so the key is unambiguous.
 */
export function streamKey(event: string, paramsJson: unknown): StreamKey {
  return paramsJson === undefined ? event : `${event} ${stableStringify(paramsJson)}`;
}
