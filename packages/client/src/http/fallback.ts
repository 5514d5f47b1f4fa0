import { CLOSE_NORMAL, closeCodeBehavior, PROTOCOL } from '@wirecall/core/internal';
import type { PolicyLink, SocketConstructor, SocketLike, TransportPolicy } from '../connection/connection-manager.js';
import type { FallbackOptions } from '../options.js';

export const FALLBACK_DEFAULTS = { afterFailures: 2, retryWebSocketMs: 60_000 } as const;

/** While waiting to move back to a WebSocket: how often to look for a moment without calls. */
const IDLE_CHECK_MS = 1_000;

/**
 * The fallback rule of `transport: 'auto'` (docs/reconnection.md, "When the WebSocket cannot get
 * through"); with `http`, every attempt goes over HTTP.
 *
 * ```
 *   websocket ──afterFailures attempts in a row fail like a blocked upgrade──► http (at once)
 *   http (open) ──every retryWebSocketMs: a probe WebSocket opens──► websocket (when no call is in flight)
 *   http (down) ──retryWebSocketMs since the switch──► one websocket attempt (one failure: http again)
 * ```
 */
export class FallbackPolicy implements TransportPolicy {
  readonly #Http: SocketConstructor;
  readonly #mode: 'http' | 'auto';
  readonly #afterFailures: number;
  readonly #retryWebSocketMs: number;
  #onHttp: boolean;
  #httpSince = 0;
  /** WebSocket attempts in a row that failed like a blocked upgrade. */
  #failures = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(Http: SocketConstructor, mode: 'http' | 'auto', fallback: FallbackOptions = {}) {
    this.#Http = Http;
    this.#mode = mode;
    this.#afterFailures = fallback.afterFailures ?? FALLBACK_DEFAULTS.afterFailures;
    this.#retryWebSocketMs = fallback.retryWebSocketMs ?? FALLBACK_DEFAULTS.retryWebSocketMs;
    this.#onHttp = mode === 'http';
  }

  next(): { Socket: SocketConstructor | undefined; http: boolean } {
    if (this.#mode === 'auto' && this.#onHttp && Date.now() - this.#httpSince >= this.#retryWebSocketMs) {
      this.#onHttp = false;
      // One more failure and it is back on HTTP.
      this.#failures = this.#afterFailures - 1;
    }
    return this.#onHttp ? { Socket: this.#Http, http: true } : { Socket: undefined, http: false };
  }

  /**
   * A WebSocket attempt counts when it failed the way a blocking proxy makes it fail: the socket
   * never opened (an upgrade refused with any HTTP status, which a proxy may answer with 403 too;
   * no answer; the connect timeout), or it opened and dropped before `welcome` with a code the
   * client would retry (frames cut). The server's own refusals after the upgrade do not count.
   */
  ended(attempt: { http: boolean; opened: boolean; welcomed: boolean; code: number }): boolean {
    if (this.#mode !== 'auto' || attempt.http) return false;
    const blocked = !attempt.welcomed && (!attempt.opened || closeCodeBehavior(attempt.code) === 'reconnect');
    if (!blocked) {
      this.#failures = 0;
      return false;
    }
    if (++this.#failures < this.#afterFailures) return false;
    this.#failures = 0;
    this.#onHttp = true;
    this.#httpSince = Date.now();
    return true;
  }

  opened(http: boolean, link: PolicyLink): void {
    if (http && this.#mode === 'auto') this.#probeLater(link);
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Opens a probe WebSocket after a while; when one opens (the upgrade got through) it is closed
   * and the client moves to a WebSocket at the first moment no call is in flight (subscriptions
   * resume after their last event, as after any reconnect).
   */
  #probeLater(link: PolicyLink): void {
    this.#timer = setTimeout(() => {
      if (!link.current()) return;
      let probe: SocketLike;
      try {
        probe = new link.WebSocket(link.url, PROTOCOL);
      } catch {
        this.#probeLater(link);
        return;
      }
      probe.onerror = () => undefined;
      probe.onclose = () => {
        probe.onclose = null;
        if (link.current()) this.#probeLater(link);
      };
      probe.onopen = () => {
        probe.onclose = probe.onopen = null;
        probe.close(CLOSE_NORMAL, 'probe');
        this.#onHttp = false;
        this.#failures = 0;
        this.#moveWhenIdle(link);
      };
    }, this.#retryWebSocketMs);
  }

  #moveWhenIdle(link: PolicyLink): void {
    if (!link.current()) return;
    if (link.idle()) link.reconnect();
    else this.#timer = setTimeout(() => this.#moveWhenIdle(link), IDLE_CHECK_MS);
  }
}
