/**
 * @module @wirecall/client/streams: streaming procedures (items from the server, uploads, duplex)
 * for `createClient`. A separate entry point, so apps without them do not ship the code.
 */
export { streams } from './stream-calls.js';
export type { CallStream } from './call-stream.js';
