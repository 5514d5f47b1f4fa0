/**
 * The connection badge: `connecting`, `connected`, `reconnecting in Ns` counting down to the next
 * attempt (the delay comes from onStateChange's `delayMs`), `reconnecting now` while an attempt is
 * under way, and `offline` once the client has given up. The raw state, the attempt number and the
 * delay are in data-* attributes for anyone who wants more than the text.
 */
import type { ClientState, StateChange } from '@wirecall/client';

/** How often the countdown is redrawn. */
const TICK_MS = 200;

interface Watchable {
  readonly state: ClientState;
  onStateChange(listener: (change: StateChange) => void): () => void;
}

export function watchConnection(badge: HTMLElement, client: Watchable): () => void {
  let timer: ReturnType<typeof setInterval> | undefined;
  let retryAt = 0;

  const stopCountdown = (): void => {
    clearInterval(timer);
    timer = undefined;
  };
  const drawCountdown = (): void => {
    const remainingMs = retryAt - performance.now();
    if (remainingMs > 0) {
      badge.textContent = `reconnecting in ${Math.ceil(remainingMs / 1_000)}s`;
    } else {
      badge.textContent = 'reconnecting now';
      stopCountdown();
    }
  };
  const draw = (state: ClientState, change?: StateChange): void => {
    stopCountdown();
    badge.dataset.state = state;
    badge.dataset.attempt = String(change?.attempt ?? 0);
    if (change?.delayMs === undefined) delete badge.dataset.delayMs;
    else badge.dataset.delayMs = String(change.delayMs);
    badge.title = change?.error ? `${change.error.code}: ${change.error.message}` : '';
    switch (state) {
      case 'connecting':
        badge.textContent = 'connecting';
        return;
      case 'open':
        badge.textContent = 'connected';
        return;
      case 'reconnecting':
        retryAt = performance.now() + (change?.delayMs ?? 0);
        drawCountdown();
        if (badge.textContent !== 'reconnecting now') timer = setInterval(drawCountdown, TICK_MS);
        return;
      case 'closed':
        badge.textContent = 'offline';
        return;
    }
  };

  draw(client.state);
  const off = client.onStateChange((change) => draw(change.state, change));
  return () => {
    off();
    stopCountdown();
  };
}
