import type { ResolvedReconnect } from '../options.js';

/**
 * Delay before reconnect attempt `attempt` (1 for the first retry): exponential growth from
 * `minDelayMs`, capped at `maxDelayMs`, with a random share of `jitter` taken off.
 * `random` is injectable so tests can replay a sequence.
 */
export function backoffDelay(attempt: number, options: ResolvedReconnect, random: () => number): number {
  const exponential = options.minDelayMs * options.factor ** Math.max(0, attempt - 1);
  const capped = Math.min(options.maxDelayMs, exponential);
  const jitter = Math.min(1, Math.max(0, options.jitter));
  return Math.round(capped * (1 - jitter * random()));
}
