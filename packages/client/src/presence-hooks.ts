import type { ErrorShape, EventDef, PresenceEnvelope, RequestId, WirecallError } from '@wirecall/core/internal';

/**
 * How presence plugs into the client. The code lives in `@wirecall/client/presence`, so an app
 * whose contract declares no presence does not ship it; these are the shapes both sides agree on.
 */

/** What the presence module gets from the client. */
export interface PresenceContext {
  /** Sends a frame; false while not connected (it is sent again on the next connection). */
  send(text: string): boolean;
  nextId(): number;
  /** Where listener exceptions and refusals without a handler go. */
  reportError(error: unknown, context: string): void;
}

/** The client's presence router, made once per client by {@link PresenceSupport}. */
export interface PresenceRouter {
  /** `client.presence(name, params, options)`. */
  open(spec: { event: string; def: EventDef; params: unknown; options: PresenceOptions }): unknown;
  /** A new connection is open: observe (and join) everything again. */
  opened(): void;
  /** The connection is gone. */
  lost(): void;
  received(envelope: PresenceEnvelope): void;
  /** An `error` for id `id`: true when it was a presence's. */
  refused(id: RequestId, shape: ErrorShape, op: 'pset' | undefined): boolean;
  /** The client closed for good. */
  close(): void;
}

export interface PresenceOptions {
  /** Observing or joining was refused (`FORBIDDEN`, `BAD_REQUEST`), or member data failed the contract. */
  onError?: (error: WirecallError) => void;
}

/**
 * Presence support: pass `presence` from `@wirecall/client/presence` to `createClient` when the
 * contract has events that declare `presence`.
 */
export interface PresenceSupport {
  create(context: PresenceContext): PresenceRouter;
}
