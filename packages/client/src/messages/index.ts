/**
 * @module @wirecall/client/messages: client messages (`client.send.<name>(payload)`, no answer to
 * wait for) for `createClient`. A separate entry point, so apps whose contract declares no
 * messages do not ship it.
 */
import type { MessageSupport } from '../message-hooks.js';
import { MessageSender } from './message-sender.js';

/** Pass it to `createClient` as `messages` when the contract declares `messages`. */
export const messages: MessageSupport = { create: (context) => new MessageSender(context) };

export type { MessageSupport } from '../message-hooks.js';
