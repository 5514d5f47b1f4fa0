import { encodeValue, packFrame, takeBytes, type WireValue } from '@wirecall/core/internal';

/**
 * Memory for a binary frame that packFrame fills entirely: no zero-filling first. A plain
 * Uint8Array over it, not the Buffer: a connection sends a Buffer as a text frame (events' ready
 * text) and a Uint8Array as a binary one.
 */
export function allocateUnsafe(size: number): Uint8Array {
  const memory = Buffer.allocUnsafe(size);
  return new Uint8Array(memory.buffer, memory.byteOffset, memory.byteLength);
}

/** A frame ready for the socket: text, or binary when its value's bytes travel raw. */
export type OutFrame = string | Uint8Array;

/**
 * The frame that carries `value`: built by `build` as text, or, for a connection that reads binary
 * frames and a value that holds bytes, as a binary frame whose header `build` writes around the
 * value with its bytes taken out (see core's binary-frame.ts).
 */
export function valueFrame(build: (value: WireValue) => string, value: WireValue, binary: boolean): OutFrame {
  const taken = binary ? takeBytes(value) : undefined;
  return taken === undefined ? build(value) : packFrame(build(taken.value), taken.blobs, allocateUnsafe);
}

/**
 * The frame that carries `raw`, encoded for one connection: for a connection that reads binary
 * frames, its bytes go straight into the frame's body (no base64 on the way, no copy of the value).
 * For a value encoded once and sent to many (a result kept for retries, an event), see `valueFrame`.
 */
export function encodedValueFrame(build: (value: WireValue) => string, raw: unknown, binary: boolean): OutFrame {
  if (!binary) return build(encodeValue(raw));
  const blobs: Uint8Array[] = [];
  const value = encodeValue(raw, blobs);
  return blobs.length === 0 ? build(value) : packFrame(build(value), blobs, allocateUnsafe);
}

/** The size of a frame in bytes, exact for binary and bounded cheaply for text first. */
export function isLargerThan(frame: OutFrame, max: number): boolean {
  if (typeof frame !== 'string') return frame.length > max;
  // UTF-8 takes 1 to 3 bytes per UTF-16 code unit; count exactly only when the bounds disagree.
  if (frame.length * 3 <= max) return false;
  return frame.length > max || Buffer.byteLength(frame) > max;
}
