import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SERVER_DEFAULTS } from '../options.js';
import { IdempotencyCache, type Outcome } from './idempotency-cache.js';

const ok = (value: unknown): Outcome => ({ ok: true, value: { v: value } });
const failed: Outcome = { ok: false, error: '{"code":"INTERNAL","message":"boom"}' };

/** A retry's answer callback that records what it was told, and how often. */
function retry(): { answers: Outcome[]; answer: (outcome: Outcome) => void } {
  const answers: Outcome[] = [];
  return { answers, answer: (outcome) => answers.push(outcome) };
}

const noAnswer = (): void => {
  throw new Error('a first attempt is never answered through join');
};

/** Runs call `key` to completion as its first attempt. */
function finish(cache: IdempotencyCache, key: string, outcome: Outcome): void {
  expect(cache.join(key, noAnswer), `${key} is a first attempt`).toBe(false);
  cache.complete(key, outcome, true);
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('IdempotencyCache', () => {
  describe('joining an attempt', () => {
    it('registers the first attempt, and a retry while it runs waits for its outcome', () => {
      const cache = new IdempotencyCache();
      expect(cache.join('k', noAnswer)).toBe(false);
      const first = retry();
      const second = retry();
      expect(cache.join('k', first.answer)).toBe(true);
      expect(cache.join('k', second.answer)).toBe(true);
      expect(first.answers).toEqual([]);

      cache.complete('k', ok(1), true);
      expect(first.answers).toEqual([ok(1)]);
      expect(second.answers).toEqual([ok(1)]);
      cache.complete('k', ok(2), true); // a second completion answers nobody twice
      expect(first.answers).toEqual([ok(1)]);
    });

    it('answers a retry after the first attempt finished at once, from the kept outcome', () => {
      const cache = new IdempotencyCache();
      finish(cache, 'k', failed);
      const late = retry();
      expect(cache.join('k', late.answer)).toBe(true);
      expect(late.answers).toEqual([failed]);
      expect(cache.size).toBe(1);
    });

    it('keeps keys apart', () => {
      const cache = new IdempotencyCache();
      finish(cache, 'a', ok('A'));
      expect(cache.join('b', noAnswer)).toBe(false);
      const forA = retry();
      cache.join('a', forA.answer);
      expect(forA.answers).toEqual([ok('A')]);
    });

    it('does nothing for a key it does not hold', () => {
      const cache = new IdempotencyCache();
      cache.complete('unknown', ok(1), true);
      expect(cache.size).toBe(0);
    });
  });

  describe('an outcome that must not be reused (the attempt was aborted)', () => {
    it('still answers the retries that waited, then forgets the key: the next retry runs again', () => {
      const cache = new IdempotencyCache();
      cache.join('k', noAnswer);
      const waiting = retry();
      cache.join('k', waiting.answer);
      cache.complete('k', failed, false);

      expect(waiting.answers).toEqual([failed]);
      expect(cache.size).toBe(0);
      expect(cache.join('k', noAnswer)).toBe(false);
    });
  });

  describe('the window', () => {
    it('keeps an answer for windowMs after the call finished, not after it started', () => {
      const cache = new IdempotencyCache({ windowMs: 1_000 });
      cache.join('k', noAnswer);
      vi.advanceTimersByTime(5_000); // a slow handler: the window starts when it finishes
      cache.complete('k', ok(1), true);

      vi.advanceTimersByTime(999);
      const inTime = retry();
      expect(cache.join('k', inTime.answer)).toBe(true);
      expect(inTime.answers).toEqual([ok(1)]);

      vi.advanceTimersByTime(1);
      expect(cache.join('k', noAnswer)).toBe(false); // expired: this retry is a new first attempt
    });

    it('drops expired answers as new calls arrive, so the cache does not grow with traffic', () => {
      const cache = new IdempotencyCache({ windowMs: 100 });
      for (let i = 0; i < 50; i++) {
        finish(cache, `k${i}`, ok(i));
        vi.advanceTimersByTime(10);
      }
      // Each join dropped what had expired: only the last window's answers are kept.
      expect(cache.size).toBeLessThanOrEqual(11);
      vi.advanceTimersByTime(100);
      finish(cache, 'last', ok('last'));
      expect(cache.size).toBe(1);
    });

    it('defaults to 60 s and 10,000 entries', () => {
      expect(SERVER_DEFAULTS.idempotency).toEqual({ windowMs: 60_000, maxEntries: 10_000 });
      const cache = new IdempotencyCache();
      finish(cache, 'k', ok(1));
      vi.advanceTimersByTime(59_999);
      expect(cache.join('k', retry().answer)).toBe(true);
      vi.advanceTimersByTime(1);
      expect(cache.join('k', noAnswer)).toBe(false);
    });
  });

  describe('the size bound', () => {
    it('past maxEntries drops the oldest finished answers first', () => {
      const cache = new IdempotencyCache({ maxEntries: 3 });
      for (const key of ['a', 'b', 'c']) finish(cache, key, ok(key));
      finish(cache, 'd', ok('d'));
      expect(cache.size).toBe(3);

      const newest = retry();
      expect(cache.join('d', newest.answer)).toBe(true);
      expect(newest.answers).toEqual([ok('d')]);
      expect(cache.join('a', noAnswer)).toBe(false); // the oldest went: its retry runs again
    });

    it('never drops a call still running: its retries must join it, not run it twice', () => {
      const cache = new IdempotencyCache({ maxEntries: 2 });
      cache.join('running', noAnswer);
      finish(cache, 'b', ok('b'));
      finish(cache, 'c', ok('c'));
      finish(cache, 'd', ok('d'));
      expect(cache.size).toBe(2);

      const waiting = retry();
      expect(cache.join('running', waiting.answer)).toBe(true);
      cache.complete('running', ok('done'), true);
      expect(waiting.answers).toEqual([ok('done')]);
    });

    it('goes past maxEntries rather than forget running calls', () => {
      const cache = new IdempotencyCache({ maxEntries: 2 });
      for (const key of ['a', 'b', 'c']) expect(cache.join(key, noAnswer)).toBe(false);
      expect(cache.size).toBe(3);
      for (const key of ['a', 'b', 'c']) expect(cache.join(key, retry().answer), key).toBe(true);
    });
  });

  describe('eviction around running calls', () => {
    it('drops expired answers even behind a call that is still running', () => {
      const cache = new IdempotencyCache({ windowMs: 1_000 });
      expect(cache.join('long', noAnswer)).toBe(false); // runs for the whole test
      finish(cache, 'k', ok(1));
      vi.advanceTimersByTime(5_000);
      expect(cache.join('k', noAnswer), 'the answer is past its window: a new first attempt').toBe(false);
      expect(cache.size).toBe(2);
    });

    it('answers a retry from a full cache instead of evicting the answer it came for', () => {
      const cache = new IdempotencyCache({ maxEntries: 2 });
      finish(cache, 'a', ok('a'));
      finish(cache, 'b', ok('b'));
      const again = retry();
      expect(cache.join('a', again.answer)).toBe(true);
      expect(again.answers).toEqual([ok('a')]);
    });
  });
});
