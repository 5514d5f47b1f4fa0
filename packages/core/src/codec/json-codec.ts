/**
 * Frame layer: one envelope <-> one text frame. Kept apart from the value layer (the server's and
 * the client's value codecs), which decides how a value becomes JSON; this one only decides how
 * JSON becomes a frame.
 */
const textDecoder = new TextDecoder('utf-8', { fatal: true });

/** Raw frame data as the runtimes hand it over (ws: Buffer; browsers: string). */
export type RawFrame = string | ArrayBuffer | ArrayBufferView;

export function encodeFrame(envelope: object): string {
  return JSON.stringify(envelope);
}

/** Parses a frame's text. Throws on invalid UTF-8 or JSON; callers turn that into a close code. */
export function decodeFrame(data: RawFrame): unknown {
  if (typeof data === 'string') return JSON.parse(data);
  return JSON.parse(textDecoder.decode(data));
}
