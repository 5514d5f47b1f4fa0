/**
 * The connection badge, from `useConnection`: `connecting`, `connected`, `reconnecting in Ns`
 * counting down to the next attempt (from the state's `retryAt`), `reconnecting now` while an
 * attempt is under way, and `offline` once the client has given up. The round-trip time is in the
 * title; the raw state and attempt are in data-* attributes.
 */
import { useEffect, useState, type ReactNode } from 'react';
import { useConnection } from './wirecall.js';

/** How often the countdown is redrawn. */
const TICK_MS = 200;

function useNow(active: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return undefined;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), TICK_MS);
    return () => clearInterval(timer);
  }, [active]);
  return now;
}

export function ConnectionBadge(): ReactNode {
  const connection = useConnection({ rttIntervalMs: 10_000 });
  const now = useNow(connection.state === 'reconnecting');
  let text: string;
  switch (connection.state) {
    case 'connecting':
      text = 'connecting';
      break;
    case 'open':
      text = 'connected';
      break;
    case 'reconnecting': {
      const remainingMs = (connection.retryAt ?? 0) - now;
      text = remainingMs > 0 ? `reconnecting in ${Math.ceil(remainingMs / 1_000)}s` : 'reconnecting now';
      break;
    }
    case 'closed':
      text = 'offline';
      break;
  }
  return (
    <span
      className="badge"
      data-testid="connection-state"
      data-state={connection.state}
      data-attempt={connection.attempt}
      title={connection.rttMs === undefined ? '' : `round trip ${connection.rttMs} ms`}
      role="status"
      aria-live="polite"
    >
      {text}
    </span>
  );
}
