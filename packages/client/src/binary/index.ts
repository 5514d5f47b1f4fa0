/**
 * @module @wirecall/client/binary: binary frames for `createClient`, so bytes (`Uint8Array`) in
 * inputs, results, events and stream items travel raw instead of as base64 in text frames. A
 * separate entry point, so apps that send no bytes do not ship the frame codec.
 */
import { packFrame, putBytes, takeBytes, unpackFrame } from '@wirecall/core/internal';
import type { BinaryFrames } from '../binary-hooks.js';

/**
 * Pass it to `createClient` as `binary`: the client then asks the server for binary frames, and
 * sends a value holding bytes as one binary frame. Without it, bytes travel as base64 in text.
 */
export function binaryFrames(): BinaryFrames {
  return {
    unpack: unpackFrame,
    putBytes,
    frameOf(build, value) {
      const taken = takeBytes(value);
      return taken === undefined ? build(value) : packFrame(build(taken.value), taken.blobs);
    },
  };
}

export type { BinaryFrames } from '../binary-hooks.js';
