import {
  messageEntries,
  valueAt,
  type AnyContract,
  type inferMessage,
  type MessageDef,
  type MessageName,
} from '@wirecall/core/internal';
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
} & GroupMessageHandlers<TContract['groups'], TContext>;

/** The message handlers of a contract's groups that declare messages, one object per group. */
type GroupMessageHandlers<TGroups, TContext> = 0 extends 1 & TGroups
  ? unknown
  : {
      [
        TGroup in keyof TGroups as TGroups[TGroup] extends AnyContract
          ? HasMessages<TGroups[TGroup]> extends true
            ? TGroup
            : never
          : never
      ]: TGroups[TGroup] extends AnyContract ? MessageHandlers<TGroups[TGroup], TContext> : never;
    };

/** Whether a contract or one of its groups declares client messages. */
export type HasMessages<TContract extends AnyContract> = [MessageName<TContract>] extends [never]
  ? [GroupMessageNames<TContract['groups']>] extends [never]
    ? false
    : true
  : true;

/** The names of the messages of a contract's groups, and of their groups. */
type GroupMessageNames<TGroups> = 0 extends 1 & TGroups
  ? string
  : {
      [TGroup in keyof TGroups]: TGroups[TGroup] extends AnyContract
        ? MessageName<TGroups[TGroup]> | GroupMessageNames<TGroups[TGroup]['groups']>
        : never;
    }[keyof TGroups];

/** `messages` is required when the contract declares client messages (one handler each). */
export type MessagesField<TContract extends AnyContract, TContext> =
  HasMessages<TContract> extends false
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
export function buildMessages(contract: AnyContract, handlers: object | undefined): Map<string, MessageEntry> {
  const entries = new Map<string, MessageEntry>();
  for (const { name, path, def } of messageEntries(contract)) {
    const handler = valueAt(handlers, path);
    if (typeof handler !== 'function') throw new TypeError(`wirecall: no handler for message ${name}`);
    entries.set(name, { name, def, handler: handler as MessageEntry['handler'] });
  }
  return entries;
}
