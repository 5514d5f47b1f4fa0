import type { WireValue } from '@wirecall/core/internal';

/**
 * How binary frames plug into the client. The code lives in `@wirecall/client/binary`, so an app
 * that sends no bytes (or accepts them as base64 in text frames) does not ship it; this is the
 * shape both sides agree on.
 */
export interface BinaryFrames {
  /** Splits a binary frame the server sent into its envelope's JSON text and the bytes it points into. */
  unpack(frame: Uint8Array): { header: string; body: Uint8Array };
  /** Puts a binary frame's bytes back where its parsed envelope's value says (in place). */
  putBytes(value: WireValue, body: Uint8Array, frameOwned: boolean): void;
  /** The frame carrying `value`, built by `build`: binary when the value holds bytes, text otherwise. */
  frameOf(build: (value: WireValue) => string, value: WireValue): string | Uint8Array;
}
