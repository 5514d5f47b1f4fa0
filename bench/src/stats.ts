/** The few statistics the benchmark reports: medians of repetitions, percentiles of latencies. */

/** The median of `values` (the mean of the two middle ones for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((x, y) => x - y);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * The `p`-th percentile (0-100) of values already sorted ascending, by the nearest-rank method:
 * the smallest value with at least p% of the values at or below it.
 */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** Nanoseconds between two `process.hrtime.bigint()` readings, in seconds. */
export function seconds(startNs: bigint, endNs: bigint): number {
  return Number(endNs - startNs) / 1e9;
}
