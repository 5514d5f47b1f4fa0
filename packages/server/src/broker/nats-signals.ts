import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { SignalBus } from '../presence/presence-store.js';

/**
 * Messages between the nodes of one prefix on a plain NATS subject (`<prefix>.signals`): not
 * stored, delivered at most once to every node, this one included (see {@link SignalBus}).
 */
export class NatsSignals implements SignalBus {
  readonly #connection: Promise<NatsConnection>;
  readonly #subject: string;
  readonly #listeners = new Set<(message: string) => void>();
  #subscription: Subscription | undefined;

  constructor(connection: Promise<NatsConnection>, subject: string) {
    this.#connection = connection;
    this.#subject = subject;
  }

  /** Subscribes this node; resolves once signals sent afterwards reach it. */
  async start(): Promise<void> {
    const nc = await this.#connection;
    this.#subscription = nc.subscribe(this.#subject, {
      callback: (error, message) => {
        if (error) return;
        const text = message.string();
        // A throwing listener must not end the subscription, nor keep the signal from the others.
        for (const listener of this.#listeners) {
          try {
            listener(text);
          } catch {
            // the server's listener guards itself and logs; nothing else listens
          }
        }
      },
    });
    await nc.flush(); // the server has the subscription
  }

  /** Resolves once the NATS server has it: a later send from any node is delivered after it. */
  async send(message: string): Promise<void> {
    const nc = await this.#connection;
    nc.publish(this.#subject, message);
    await nc.flush();
  }

  listen(listener: (message: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): void {
    this.#listeners.clear();
    this.#subscription?.unsubscribe();
  }
}
