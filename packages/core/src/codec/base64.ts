/**
 * Base64 for Uint8Array without Node built-ins, so the client bundle stays browser-clean. Uses
 * `Buffer` when the runtime has one (much faster in Node) and `btoa`/`atob` otherwise.
 */
const BASE64_TEXT = /^[A-Za-z0-9+/]*={0,2}$/;
/** Characters per String.fromCharCode call; keeps the argument list under engines' limits. */
const CHUNK = 0x8000;

interface BufferLike {
  from(data: ArrayBufferLike, offset: number, length: number): { toString(encoding: 'base64'): string };
  from(data: string, encoding: 'base64'): Uint8Array;
}
const NodeBuffer = (globalThis as { Buffer?: BufferLike }).Buffer;

/** Encodes bytes as standard, padded base64 (what `base64ToBytes` reads back). */
export function bytesToBase64(bytes: Uint8Array): string {
  if (NodeBuffer) return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  let binary = '';
  for (let i = 0; i < bytes.length; i += CHUNK) {
    binary += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  }
  return btoa(binary);
}

/** Decodes strict base64; throws on anything else (Buffer alone would skip bad characters). */
export function base64ToBytes(text: string): Uint8Array {
  if (text.length % 4 !== 0 || !BASE64_TEXT.test(text)) throw new TypeError('invalid base64');
  // Copy: a Buffer may be a view into a shared pool, which must not leak to the application.
  if (NodeBuffer) return new Uint8Array(NodeBuffer.from(text, 'base64'));
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
