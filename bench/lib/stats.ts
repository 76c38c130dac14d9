/**
 * Order statistics for latency samples. Percentiles use the nearest-rank method: p99 of 100
 * samples is the 99th smallest, so a figure is always one that was actually observed.
 * @module
 */

export interface Summary {
  count: number;
  median: number;
  p99: number;
  max: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = Float64Array.from(samples).sort();
  const list = Array.from(sorted);
  return { count: list.length, median: percentile(list, 50), p99: percentile(list, 99), max: list.at(-1) ?? NaN };
}

export function median(samples: readonly number[]): number {
  return summarize(samples).median;
}
