import type { ResolvedHeartbeat } from '../options.js';

/**
 * Liveness of one socket, at the protocol level because browsers cannot send ping frames. Any
 * arriving frame counts as a sign of life; after `intervalMs` of silence a ping goes out, and after
 * `timeoutMs` of silence the socket is declared dead. Two timers per socket, none per message: both
 * are re-armed lazily when they fire early.
 */
export class Heartbeat {
  readonly #options: ResolvedHeartbeat;
  readonly #sendPing: () => void;
  readonly #onDead: () => void;
  #lastSeenAt = Date.now();
  #pingTimer: ReturnType<typeof setTimeout> | undefined;
  #deadlineTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: ResolvedHeartbeat, sendPing: () => void, onDead: () => void) {
    this.#options = options;
    this.#sendPing = sendPing;
    this.#onDead = onDead;
  }

  start(): void {
    this.#lastSeenAt = Date.now();
    this.#armPing(this.#options.intervalMs);
    this.#armDeadline(this.#options.timeoutMs);
  }

  /** Something arrived: the peer is alive. */
  touch(): void {
    this.#lastSeenAt = Date.now();
  }

  stop(): void {
    clearTimeout(this.#pingTimer);
    clearTimeout(this.#deadlineTimer);
    this.#pingTimer = undefined;
    this.#deadlineTimer = undefined;
  }

  /**
   * Pings once `intervalMs` of silence has passed, measured from the last sign of life (not on a
   * fixed phase: a fixed-phase tick could see 9.9 s of silence, skip, and ping only at 20 s, as the
   * deadline struck). Re-armed lazily, like the deadline.
   */
  #armPing(delayMs: number): void {
    this.#pingTimer = setTimeout(() => {
      const silentFor = Date.now() - this.#lastSeenAt;
      if (silentFor >= this.#options.intervalMs) {
        this.#sendPing();
        this.#armPing(this.#options.intervalMs);
      } else {
        this.#armPing(this.#options.intervalMs - silentFor);
      }
    }, delayMs);
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
