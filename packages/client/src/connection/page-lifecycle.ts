/**
 * In a browser, a page that comes back online or becomes visible again (after sleep, or a
 * background tab whose timers were throttled) should reconnect now rather than wait out a backoff
 * computed while it was away. Outside browsers this does nothing.
 */
export function watchPageLifecycle(retryNow: () => void): () => void {
  const target = globalThis as {
    addEventListener?: (type: string, listener: () => void) => void;
    removeEventListener?: (type: string, listener: () => void) => void;
    document?: {
      visibilityState?: string;
      addEventListener?: (type: string, listener: () => void) => void;
      removeEventListener?: (type: string, listener: () => void) => void;
    };
  };
  if (typeof target.addEventListener !== 'function' || target.document === undefined) return () => {};
  const onVisible = (): void => {
    if (target.document?.visibilityState === 'visible') retryNow();
  };
  target.addEventListener('online', retryNow);
  target.document.addEventListener?.('visibilitychange', onVisible);
  return () => {
    target.removeEventListener?.('online', retryNow);
    target.document?.removeEventListener?.('visibilitychange', onVisible);
  };
}
