/**
 * What the value decoder and binary frames share: what `m` looks like, the name bytes travel
 * under, and superjson's path syntax with its bounds (binary frames follow these paths to put
 * bytes back). The allow-list itself is the decoder's (`value-decode.ts`).
 */
import { WirecallError } from '../errors/wirecall-error.js';

/** superjson's annotation metadata, as it arrives from a peer: untrusted until the decoder checks it. */
export interface SuperJsonMeta {
  values?: unknown;
  v?: number;
  [key: string]: unknown;
}

/** Name under which Uint8Array travels (base64), in superjson's custom-annotation form. */
export const UINT8ARRAY_ANNOTATION = 'u8';

const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
/** Segments of one annotation path (a value nested this deep in plain objects is no contract's). */
const MAX_PATH_SEGMENTS = 256;

function refuse(reason: string): never {
  throw new WirecallError('BAD_REQUEST', `Malformed value: ${reason}`);
}

/** superjson's path syntax: segments joined by `.`, with `\.` and `\\` escapes. */
export function parsePath(path: string): string[] {
  // Most paths have no escapes: split them (a character loop costs several times more).
  const segments: string[] = path.includes('\\') ? unescapedSegments(path) : path.split('.');
  if (segments.length > MAX_PATH_SEGMENTS) refuse('annotation path too long');
  for (const key of segments) if (FORBIDDEN_KEYS.has(key)) refuse(`forbidden key ${key}`);
  return segments;
}

function unescapedSegments(path: string): string[] {
  const segments: string[] = [];
  let segment = '';
  for (let i = 0; i < path.length; i++) {
    const char = path[i];
    if (char === '\\') {
      const next = path[i + 1];
      if (next !== '.' && next !== '\\') refuse('bad path escape');
      segment += next;
      i++;
    } else if (char === '.') {
      segments.push(segment);
      segment = '';
    } else {
      segment += char;
    }
  }
  segments.push(segment);
  return segments;
}
