/**
 * The items of scenario F, the same for every peer: the servers make them here, and the clients'
 * checks (scenarios/f-streams.ts) compare what arrives with them, so a lost, reordered or
 * corrupted item fails the run.
 */
import { instantOf } from './payloads.js';
import type { Payload, StreamItem } from './types.js';

/** Pads an item to ~70 bytes of JSON: `{"seq":123456,"text":"…","at":…}`. */
export const ITEM_TEXT = 'wirecall-stream-item-text';

/** A binary slice: 64 KiB, a common chunk size for files and media. */
export const SLICE_BYTES = 64 * 1024;

/** Every slice's bytes but its first four (the sequence number): a pattern, so corruption shows. */
export const SLICE_TEMPLATE = Uint8Array.from({ length: SLICE_BYTES }, (_, index) => (index * 31 + 7) & 0xff);

/** Item `seq`: its `at` is EPOCH_MS + seq, a Date or a number (see payloads.ts). */
export function streamItem(seq: number, payload: Payload): StreamItem {
  return { seq, text: ITEM_TEXT, at: instantOf(payload, seq) };
}

/**
 * Slice `seq`: a fresh copy each time, as a producer reading a file would hand out, and because a
 * socket may still hold a slice it was given when the next one is made.
 */
export function streamSlice(seq: number): Uint8Array<ArrayBuffer> {
  const slice = new Uint8Array(SLICE_TEMPLATE);
  new DataView(slice.buffer).setUint32(0, seq);
  return slice;
}

/** The sequence number of a slice (its first four bytes, big-endian). */
export function sliceSeq(slice: Uint8Array): number {
  return new DataView(slice.buffer, slice.byteOffset, slice.byteLength).getUint32(0);
}
