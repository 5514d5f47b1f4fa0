import { describe, expect, it } from 'vitest';
import { CLIENT_DEFAULTS, type ResolvedReconnect } from '../options.js';
import { backoffDelay } from './backoff.js';

const options = (overrides: Partial<ResolvedReconnect> = {}): ResolvedReconnect => ({
  ...CLIENT_DEFAULTS.reconnect,
  minDelayMs: 500,
  maxDelayMs: 30_000,
  factor: 2,
  jitter: 1,
  ...overrides,
});

/** mulberry32: a seeded generator in [0, 1), so a failing case can be replayed. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

describe('backoffDelay', () => {
  it('without jitter is exactly min * factor^(attempt - 1), capped', () => {
    const noJitter = options({ jitter: 0 });
    const delays = Array.from({ length: 10 }, (_, i) => backoffDelay(i + 1, noJitter, () => 0.99));
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000, 30_000]);
  });

  it('follows factor and minDelayMs', () => {
    const custom = options({ jitter: 0, minDelayMs: 100, factor: 3, maxDelayMs: 10_000 });
    const delays = Array.from({ length: 6 }, (_, i) => backoffDelay(i + 1, custom, Math.random));
    expect(delays).toEqual([100, 300, 900, 2700, 8100, 10_000]);
  });

  it('with full jitter and random 0.5 is half the exponential', () => {
    const delays = Array.from({ length: 8 }, (_, i) => backoffDelay(i + 1, options(), () => 0.5));
    expect(delays).toEqual([250, 500, 1000, 2000, 4000, 8000, 15_000, 15_000]);
  });

  it('with full jitter spans [0, delay]: random 0 gives the full delay, random near 1 almost none', () => {
    expect(backoffDelay(3, options(), () => 0)).toBe(2000);
    expect(backoffDelay(3, options(), () => 0.999_999)).toBe(0);
  });

  it('takes only the jitter share off', () => {
    // jitter 0.2: between 80% and 100% of the exponential delay.
    expect(backoffDelay(1, options({ jitter: 0.2 }), () => 0.5)).toBe(450);
    expect(backoffDelay(4, options({ jitter: 0.2 }), () => 0)).toBe(4000);
    expect(backoffDelay(4, options({ jitter: 0.2 }), () => 0.999_999)).toBe(3200);
  });

  it('clamps jitter outside [0, 1]', () => {
    expect(backoffDelay(2, options({ jitter: 5 }), () => 0.5)).toBe(backoffDelay(2, options({ jitter: 1 }), () => 0.5));
    expect(backoffDelay(2, options({ jitter: -1 }), () => 0.5)).toBe(1000);
  });

  it('treats attempt 0 (and below) like the first attempt', () => {
    const noJitter = options({ jitter: 0 });
    expect(backoffDelay(0, noJitter, Math.random)).toBe(500);
    expect(backoffDelay(-3, noJitter, Math.random)).toBe(500);
  });

  it('stays capped for attempts far past the cap (no Infinity or NaN)', () => {
    const noJitter = options({ jitter: 0 });
    expect(backoffDelay(10_000, noJitter, Math.random)).toBe(30_000);
    expect(backoffDelay(Number.MAX_SAFE_INTEGER, noJitter, Math.random)).toBe(30_000);
  });

  it('is always an integer in [0, maxDelayMs] for random in [0, 1)', () => {
    const random = seeded(0xc0ffee);
    const configs = [
      options(),
      options({ jitter: 0.3 }),
      options({ jitter: 0, maxDelayMs: 7_777 }),
      options({ minDelayMs: 1, factor: 1.5, maxDelayMs: 1_000 }),
      options({ minDelayMs: 1_000, maxDelayMs: 1_000 }),
    ];
    for (const config of configs) {
      for (let attempt = 1; attempt <= 60; attempt++) {
        for (let i = 0; i < 20; i++) {
          const delay = backoffDelay(attempt, config, random);
          expect(Number.isInteger(delay)).toBe(true);
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThanOrEqual(config.maxDelayMs);
        }
      }
    }
  });

  it('spreads delays over the window with full jitter', () => {
    const random = seeded(42);
    const delays = Array.from({ length: 1000 }, () => backoffDelay(20, options(), random));
    const mean = delays.reduce((sum, delay) => sum + delay, 0) / delays.length;
    expect(mean).toBeGreaterThan(13_000);
    expect(mean).toBeLessThan(17_000);
    expect(Math.min(...delays)).toBeLessThan(1_000);
    expect(Math.max(...delays)).toBeGreaterThan(29_000);
  });
});
