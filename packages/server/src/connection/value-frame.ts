import { packFrame, takeBytes, type WireValue } from '@wirecall/core/internal';

/** A frame ready for the socket: text, or binary when its value's bytes travel raw. */
export type OutFrame = string | Uint8Array;

/**
 * The frame that carries `value`: built by `build` as text, or, for a connection that reads binary
 * frames and a value that holds bytes, as a binary frame whose header `build` writes around the
 * value with its bytes taken out (see core's binary-frame.ts).
 */
export function valueFrame(build: (value: WireValue) => string, value: WireValue, binary: boolean): OutFrame {
  const taken = binary ? takeBytes(value) : undefined;
  return taken === undefined ? build(value) : packFrame(build(taken.value), taken.blobs);
}

/** The size of a frame in bytes, exact for binary and bounded cheaply for text first. */
export function isLargerThan(frame: OutFrame, max: number): boolean {
  if (typeof frame !== 'string') return frame.length > max;
  // UTF-8 takes 1 to 3 bytes per UTF-16 code unit; count exactly only when the bounds disagree.
  if (frame.length * 3 <= max) return false;
  return frame.length > max || Buffer.byteLength(frame) > max;
}
