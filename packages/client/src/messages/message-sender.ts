import { encodeFrame, toWire, WirecallError, type MessageDef, encodeValue } from '@wirecall/core/internal';
import type { MessageContext, MessageRouter } from '../message-hooks.js';

/** Messages a client keeps while offline (for those declared `queue: true`); older ones go first. */
const MAX_QUEUED_MESSAGES = 1_000;

/**
 * `client.send.<name>(payload)`: messages without an answer. Each is checked against the contract
 * before it leaves (a bad one is reported, never sent). While offline a message is dropped (a
 * stale typing notice must not arrive after a reconnect) unless its contract says `queue: true`.
 */
export class MessageSender implements MessageRouter {
  readonly #options: MessageContext;
  readonly #queue: string[] = [];

  constructor(options: MessageContext) {
    this.#options = options;
  }

  send(name: string, def: MessageDef, payload: unknown): void {
    let frame: string;
    try {
      const checked = toWire(def.payload, payload);
      if (!checked.ok) {
        throw new WirecallError('BAD_REQUEST', `Invalid payload for ${name}`, { data: { issues: checked.issues } });
      }
      frame = encodeFrame({ t: 'msg', n: name, ...encodeValue(checked.value) });
    } catch (error) {
      const reason =
        error instanceof WirecallError
          ? (error as WirecallError)
          : new WirecallError('BAD_REQUEST', error instanceof Error ? error.message : String(error), { cause: error });
      // Reported after this call returns, like the server's answer would be.
      queueMicrotask(() => this.#options.failed(reason, name));
      return;
    }
    if (this.#options.send(frame) || def.queue !== true) return;
    if (this.#queue.push(frame) > MAX_QUEUED_MESSAGES) this.#queue.shift();
  }

  /** A socket was welcomed: what waited goes out, oldest first. */
  opened(): void {
    while (this.#queue.length > 0 && this.#options.send(this.#queue[0]!)) this.#queue.shift();
  }
}
