import type { StreamKey } from '@wirecall/core/internal';
import type { BrokerEvent } from '../broker/broker.js';
import type { PresenceNotice } from '../presence/presence-store.js';

/**
 * What the primary and its workers say to each other over node:cluster's IPC channel. Every
 * message carries `wirecall: 1`, so an app's own IPC messages pass by untouched.
 */

/** A worker asks the primary to run one operation of the shared broker. */
export interface BrokerRequest {
  wirecall: 1;
  id: number;
  op: BrokerOp;
  args: unknown[];
}

/** The operations a worker may ask for; see primary.ts for what each does. */
export type BrokerOp =
  | 'hello'
  | 'publish'
  | 'replay'
  | 'lastId'
  | 'follow'
  | 'unfollow'
  | 'presence.set'
  | 'presence.refresh'
  | 'presence.remove'
  | 'presence.sweep'
  | 'presence.list'
  | 'signal'
  | 'idem.claim'
  | 'idem.renew'
  | 'idem.complete'
  | 'idem.release';

/** The primary's answer to a request: its value, or the message of what it threw. */
export interface BrokerReply {
  wirecall: 1;
  id: number;
  ok: boolean;
  value?: unknown;
  error?: string;
}

/** What the primary pushes to workers: an event of a followed stream, a presence notice, a signal. */
export type BrokerPush =
  | { wirecall: 1; push: 'event'; event: BrokerEvent; bytes: number }
  | { wirecall: 1; push: 'presence'; key: StreamKey; notice: PresenceNotice }
  | { wirecall: 1; push: 'signal'; message: string };

export function isWirecallMessage(message: unknown): message is { wirecall: 1 } {
  return typeof message === 'object' && message !== null && (message as { wirecall?: unknown }).wirecall === 1;
}
