import { describe, expect, it } from 'vitest';
import { TokenBucket } from './token-bucket.js';

/** The rate limit on a clock the test moves. */
function bucketAt(ratePerSecond: number, burst: number): { bucket: TokenBucket; advance: (ms: number) => void } {
  let now = 0;
  return { bucket: new TokenBucket(ratePerSecond, burst, () => now), advance: (ms) => (now += ms) };
}

describe('TokenBucket', () => {
  it('grants the burst at once, then the sustained rate', () => {
    const { bucket, advance } = bucketAt(100, 5);
    expect(Array.from({ length: 6 }, () => bucket.take())).toEqual([true, true, true, true, true, false]);
    advance(10); // one token's worth at 100/s
    expect(bucket.take()).toBe(true);
    expect(bucket.take()).toBe(false);
  });

  it('finds a flood abusive although the bucket refills a token between refusals', () => {
    // The old rule ("burst refusals in a row") never fired here: every refill reset the count.
    const { bucket, advance } = bucketAt(1_000, 20);
    let abusiveAfter: number | undefined;
    for (let frame = 1; frame <= 10_000 && abusiveAfter === undefined; frame++) {
      bucket.take();
      advance(0.2); // 5,000 frames a second against 1,000 allowed
      if (bucket.abusive) abusiveAfter = frame;
    }
    expect(abusiveAfter).toBeDefined();
    expect(abusiveAfter!).toBeLessThan(200);
  });

  it('forgives a peer that overshoots now and then: refusals leak away', () => {
    const { bucket, advance } = bucketAt(100, 5);
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 8; i++) bucket.take(); // 3 over the burst each time
      expect(bucket.abusive).toBe(false);
      advance(1_000); // then quiet for a second
    }
  });

  it('tolerates a steady rate a little over the limit, but not twice the limit', () => {
    const steady = (factor: number): boolean => {
      const { bucket, advance } = bucketAt(100, 10);
      for (let i = 0; i < 100 * factor * 30; i++) {
        bucket.take();
        advance(10 / factor);
        if (bucket.abusive) return true;
      }
      return false;
    };
    expect(steady(1.2)).toBe(false);
    expect(steady(2)).toBe(true);
  });
});
