import type { SocketTuning } from './socket-tuning.js';

/** Browsers need no tuning (see socket-tuning.ts): their WebSocket batches writes on its own. */
export const socketTuning: SocketTuning | undefined = undefined;
