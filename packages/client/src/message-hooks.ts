import type { MessageDef, WirecallError } from '@wirecall/core/internal';

/**
 * How client messages (`client.send.<name>`) plug into the client. The code lives in
 * `@wirecall/client/messages`, so an app whose contract declares no messages does not ship it;
 * these are the shapes both sides agree on.
 */

/** What the messages module gets from the client. */
export interface MessageContext {
  /** Sends a frame if the socket is open; false when it is not. */
  send(frame: string): boolean;
  /** Where a message the client refused, or the server did, is reported. */
  failed(error: WirecallError, message: string): void;
}

/** The client's message sender, made once per client by {@link MessageSupport}. */
export interface MessageRouter {
  /** `client.send.<name>(payload)`. */
  send(name: string, def: MessageDef, payload: unknown): void;
  /** A socket was welcomed: what waited goes out. */
  opened(): void;
}

/**
 * Client messages: pass `messages` from `@wirecall/client/messages` to `createClient` when the
 * contract declares `messages`.
 */
export interface MessageSupport {
  create(context: MessageContext): MessageRouter;
}
