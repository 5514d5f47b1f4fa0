import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DeadlineQueue } from './deadline-queue.js';

describe('DeadlineQueue', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fires each deadline once, in deadline order, whatever the scheduling order', () => {
    const queue = new DeadlineQueue();
    const fired: string[] = [];
    queue.schedule(300, () => fired.push('c'));
    queue.schedule(100, () => fired.push('a'));
    queue.schedule(200, () => fired.push('b'));
    queue.schedule(100, () => fired.push('a2'));
    vi.advanceTimersByTime(99);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual(['a', 'a2']);
    vi.advanceTimersByTime(200);
    expect(fired).toEqual(['a', 'a2', 'b', 'c']);
    vi.advanceTimersByTime(10_000);
    expect(fired).toHaveLength(4);
  });

  it('never fires a cancelled deadline, and uses one timer for all', () => {
    const queue = new DeadlineQueue();
    const fired: number[] = [];
    const deadlines = Array.from({ length: 1_000 }, (_, index) => queue.schedule(50 + index, () => fired.push(index)));
    expect(vi.getTimerCount()).toBe(1);
    for (const [index, deadline] of deadlines.entries()) if (index % 2 === 0) deadline.cancel();
    vi.advanceTimersByTime(2_000);
    expect(fired).toEqual(Array.from({ length: 500 }, (_, index) => index * 2 + 1));
    expect(vi.getTimerCount()).toBe(0);
  });

  it('drops cancelled entries instead of holding them until their deadline', () => {
    const queue = new DeadlineQueue();
    for (let index = 0; index < 10_000; index++) queue.schedule(30_000, () => {}).cancel();
    expect(queue.size).toBeLessThan(200);
  });

  it('re-arms for an earlier deadline scheduled after a later one', () => {
    const queue = new DeadlineQueue();
    const fired: string[] = [];
    queue.schedule(1_000, () => fired.push('late'));
    queue.schedule(10, () => fired.push('early'));
    vi.advanceTimersByTime(10);
    expect(fired).toEqual(['early']);
    vi.advanceTimersByTime(990);
    expect(fired).toEqual(['early', 'late']);
  });

  it('ignores a cancel after firing, and cancels scheduled from inside a callback', () => {
    const queue = new DeadlineQueue();
    const fired: string[] = [];
    const second = queue.schedule(20, () => fired.push('second'));
    const first = queue.schedule(10, () => {
      fired.push('first');
      second.cancel();
    });
    vi.advanceTimersByTime(30);
    first.cancel();
    expect(fired).toEqual(['first']);
  });
});
