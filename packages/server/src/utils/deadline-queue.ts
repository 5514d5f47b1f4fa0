/** A scheduled expiry; `cancel()` it when the work finishes first. */
export interface Deadline {
  cancel(): void;
}

interface Entry extends Deadline {
  at: number;
  fire: () => void;
  cancelled: boolean;
}

/**
 * Many deadlines, one timer: a min-heap of expiry times with lazy cancellation, so a call costs a
 * heap push instead of a timer of its own (thousands of calls in flight share one `setTimeout`).
 * Expired callbacks run in deadline order. The timer is unref'd: deadlines never keep a process alive.
 */
export class DeadlineQueue {
  readonly #heap: Entry[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Infinity;
  /** Cancelled entries still in the heap; past half of it, the heap is rebuilt without them. */
  #cancelled = 0;
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Deadlines scheduled and not yet fired or swept (cancelled ones linger until they reach the top). */
  get size(): number {
    return this.#heap.length;
  }

  /** Runs `fire` once `delayMs` has passed, unless cancelled first. */
  schedule(delayMs: number, fire: () => void): Deadline {
    const entry: Entry = {
      at: this.#now() + delayMs,
      fire,
      cancelled: false,
      cancel: () => {
        if (entry.cancelled) return;
        entry.cancelled = true;
        // Most calls finish long before their deadline: without this, a busy connection would
        // hold every finished call's entry for the whole timeout.
        if (++this.#cancelled > 64 && this.#cancelled * 2 > this.#heap.length) this.#compact();
      },
    };
    this.#push(entry);
    if (entry.at < this.#timerAt) this.#arm(entry.at);
    return entry;
  }

  #arm(at: number): void {
    clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => this.#expire(), Math.max(0, at - this.#now()));
    (this.#timer as { unref?: () => void }).unref?.();
  }

  #expire(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = this.#now();
    let top = this.#heap[0];
    while (top !== undefined && (top.cancelled || top.at <= now)) {
      this.#pop();
      if (top.cancelled) this.#cancelled--;
      else {
        top.cancelled = true; // a late cancel() of a fired deadline must not count
        top.fire();
      }
      top = this.#heap[0];
    }
    if (top !== undefined) this.#arm(top.at);
  }

  /** Rebuilds the heap from its live entries (O(n), amortised over the cancellations that caused it). */
  #compact(): void {
    const live = this.#heap.filter((entry) => !entry.cancelled);
    this.#heap.length = 0;
    this.#cancelled = 0;
    for (const entry of live) this.#push(entry);
  }

  #push(entry: Entry): void {
    const heap = this.#heap;
    heap.push(entry);
    let index = heap.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (heap[parent]!.at <= entry.at) break;
      heap[index] = heap[parent]!;
      index = parent;
    }
    heap[index] = entry;
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    let index = 0;
    for (;;) {
      const left = index * 2 + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && heap[right]!.at < heap[left]!.at ? right : left;
      if (heap[child]!.at >= last.at) break;
      heap[index] = heap[child]!;
      index = child;
    }
    heap[index] = last;
  }
}
