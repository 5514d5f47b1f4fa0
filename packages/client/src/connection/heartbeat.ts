import type { ResolvedHeartbeat } from '../options.js';

/**
 * Liveness of one socket, at the protocol level because browsers cannot send ping frames. Any
 * arriving frame counts as a sign of life; after `intervalMs` of silence a ping goes out, and after
 * `timeoutMs` of silence the socket is declared dead. Two timers per socket, none per message: the
 * deadline timer is re-armed lazily when it fires early.
 */
export class Heartbeat {
  readonly #options: ResolvedHeartbeat;
  readonly #sendPing: () => void;
  readonly #onDead: () => void;
  #lastSeenAt = Date.now();
  #pingTimer: ReturnType<typeof setInterval> | undefined;
  #deadlineTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: ResolvedHeartbeat, sendPing: () => void, onDead: () => void) {
    this.#options = options;
    this.#sendPing = sendPing;
    this.#onDead = onDead;
  }

  start(): void {
    this.#lastSeenAt = Date.now();
    this.#pingTimer = setInterval(() => {
      if (Date.now() - this.#lastSeenAt >= this.#options.intervalMs) this.#sendPing();
    }, this.#options.intervalMs);
    this.#armDeadline(this.#options.timeoutMs);
  }

  /** Something arrived: the peer is alive. */
  touch(): void {
    this.#lastSeenAt = Date.now();
  }

  stop(): void {
    clearInterval(this.#pingTimer);
    clearTimeout(this.#deadlineTimer);
    this.#pingTimer = undefined;
    this.#deadlineTimer = undefined;
  }

  #armDeadline(delayMs: number): void {
    this.#deadlineTimer = setTimeout(() => {
      const silentFor = Date.now() - this.#lastSeenAt;
      if (silentFor >= this.#options.timeoutMs) {
        this.stop();
        this.#onDead();
      } else {
        this.#armDeadline(this.#options.timeoutMs - silentFor);
      }
    }, delayMs);
  }
}
