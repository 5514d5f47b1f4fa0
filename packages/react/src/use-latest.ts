import { useEffect, useLayoutEffect, useRef } from 'react';

/** `useLayoutEffect` in browsers, `useEffect` on the server (where neither runs, and React 18 warns about the first). */
export const useIsomorphicLayoutEffect = typeof document === 'undefined' ? useEffect : useLayoutEffect;

/**
 * A ref that holds the latest committed `value`: what subscriptions call, so that a new handler
 * each render does not resubscribe (React's own advice until `useEffectEvent` is everywhere).
 */
export function useLatest<T>(value: T): { readonly current: T } {
  const ref = useRef(value);
  useIsomorphicLayoutEffect(() => {
    ref.current = value;
  });
  return ref;
}
