import type { ItemEnvelope, WirecallError } from '@wirecall/core/internal';
import type { CallRequest, PendingCall, RequestManager } from './request-manager.js';

/**
 * How streaming calls plug into the client. The code that runs them lives in
 * `@wirecall/client/streams`, so an app without streaming procedures does not ship it; these are
 * only the shapes both sides agree on.
 */

/** The items side of a streaming call, as the request manager routes `item` frames to it. */
export interface StreamReceiver {
  /** Items received so far (a drop reports it in `CONNECTION_LOST`'s `data.received`). */
  readonly received: number;
  /** The id of the last item received (resumable streams): a reopened call goes on after it. */
  readonly lastItemId: string | undefined;
  item(envelope: ItemEnvelope): void;
  /** The credits to announce when the call is sent (again, for a resumable stream after a drop). */
  openCredits(): number;
}

/** The caller's input stream of a call, as the request manager routes `credit` frames to it. */
export interface StreamSender {
  grant(n: number): void;
  /** The call ended: stop, and close the source. */
  stop(): void;
}

/** What makes a call: how it settles, and its streams if it has any. */
export interface CallParts {
  resolve: (value: unknown) => void;
  reject: (error: WirecallError) => void;
  stream?: StreamReceiver | undefined;
  /** Builds the sender once the call exists (its id is needed for its frames). */
  upload?: ((call: PendingCall) => StreamSender) | undefined;
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
  'start' | 'failCall' | 'sendFrame' | 'frameOf' | 'tooLarge' | 'maxPayloadBytes' | 'setDeadline'
>;
