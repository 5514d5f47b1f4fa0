import type { CreditEnvelope, ItemEnvelope, WirecallError } from '@wirecall/core/internal';
import type { CallRequest, PendingCall, RequestManager } from './request-manager.js';

/**
 * How streaming calls plug into the client. The code that runs them lives in
 * `@wirecall/client/streams`, so an app without streaming procedures does not ship it; these are
 * only the shapes both sides agree on.
 */

/**
 * A streaming call's side (its items, its input stream, or both), as the request manager drives
 * it: what the call frame announces, where `item` and `credit` frames go, and what a drop, a
 * timeout or the call's end mean for it.
 */
export interface StreamingCall {
  /**
   * The fields of the call frame, each time it is sent (again, for a resumable stream after a
   * drop): the credits it opens with, and the last item it got. No `tm`: a stream's timeout is the
   * client's, per item.
   */
  open(): { cr?: number | undefined; after?: string | undefined };
  /** An `item` or a `credit` frame of this call. */
  received(envelope: ItemEnvelope | CreditEnvelope): void;
  /** Sent again after a drop (like an idempotent call): a resumable stream goes on after its last item. */
  readonly resumable: boolean;
  /** The error a drop fails it with: a stream's says how many items arrived (`data.received`). */
  cut(error: WirecallError): WirecallError;
  /** How its timeout reads: for a stream of items, it bounds the wait for the next one. */
  readonly timedOut: string;
  /** The call ended: its input stream stops, and closes its source. */
  stop(): void;
}

/** What makes a call: how it settles, and its streaming side if it has one. */
export interface CallParts {
  resolve: (value: unknown) => void;
  reject: (error: WirecallError) => void;
  /** Builds the streaming side once the call exists (its id is needed for its frames). */
  streaming?: ((call: PendingCall) => StreamingCall) | undefined;
}

/**
 * Streaming support: pass `streams` from `@wirecall/client/streams` to `createClient` when the
 * contract has procedures with a `stream` or an `inputStream`.
 */
export interface StreamSupport {
  /** Starts a streaming call: a `CallStream` for a procedure with items, a promise for an upload. */
  call(manager: StreamCallHost, request: CallRequest): unknown;
}

/**
 * What streaming calls use of the client's request manager. Its public members only, not the class:
 * each entry point's .d.ts declares its own copy of a class, and a class with private fields is a
 * different type in each copy, so `streams` would not fit `createClient`'s option for npm users.
 */
export type StreamCallHost = Pick<
  RequestManager,
  'start' | 'fail' | 'sendFrame' | 'frameOf' | 'oversized' | 'setDeadline'
>;
