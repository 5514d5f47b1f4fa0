import type { AnyContract, inferMessage, MessageDef, MessageName } from '@wirecall/core';
import type { ConnectionInfo } from '../connection/connection-info.js';

/** What a message handler receives. */
export interface MessageArgs<TPayload, TContext> {
  /** The payload, parsed by the message's schema. */
  payload: TPayload;
  /** The connection's context. */
  ctx: TContext;
  /** The connection the message came on. */
  connection: ConnectionInfo;
  /** Facts about this message. */
  meta: { message: string };
}

/**
 * One handler per client message of the contract. A message has no answer: what the handler
 * returns is ignored; a `WirecallError` it throws (a refusal) reaches the client's `onMessageError`,
 * anything else as `INTERNAL` (and is logged).
 */
export type MessageHandlers<TContract extends AnyContract, TContext> = {
  [TName in MessageName<TContract>]: (args: MessageArgs<inferMessage<TContract, TName>, TContext>) => unknown;
};

/** `messages` is required when the contract declares client messages (one handler each). */
export type MessagesField<TContract extends AnyContract, TContext> = [MessageName<TContract>] extends [never]
  ? { messages?: MessageHandlers<TContract, TContext> }
  : {
      /** One handler per message the client sends without an answer. */
      messages: MessageHandlers<TContract, TContext>;
    };

/** A message ready to handle: its schema and its handler. */
export interface MessageEntry {
  name: string;
  def: MessageDef;
  handler: (args: MessageArgs<unknown, unknown>) => unknown;
}

/** The contract's messages with their handlers; a missing one is refused at startup. */
export function buildMessages(
  contract: AnyContract,
  handlers: Record<string, MessageEntry['handler']> | undefined,
): Map<string, MessageEntry> {
  const entries = new Map<string, MessageEntry>();
  for (const [name, def] of Object.entries(contract.messages as Record<string, MessageDef>)) {
    const handler = handlers !== undefined && Object.hasOwn(handlers, name) ? handlers[name] : undefined;
    if (typeof handler !== 'function') throw new TypeError(`wirecall: no handler for message ${name}`);
    entries.set(name, { name, def, handler });
  }
  return entries;
}
