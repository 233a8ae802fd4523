// Small statistics for noisy machines: medians and nearest-rank percentiles, never means.

export function median(values: number[]): number {
  return percentile(values, 50);
}

/** Nearest-rank percentile (p in 0–100); NaN for an empty list. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  if (p === 50 && sorted.length % 2 === 0) {
    const hi = sorted.length / 2;
    return ((sorted[hi - 1] as number) + (sorted[hi] as number)) / 2;
  }
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

/** `median 12.3 (p10 11.0, p90 15.2, n=40)` for a detail line. */
export function spread(values: number[], unit: string, digits = 1): string {
  const f = (v: number) => v.toFixed(digits);
  return `median ${f(median(values))} ${unit} (p10 ${f(percentile(values, 10))}, p90 ${f(
    percentile(values, 90),
  )}, n=${values.length})`;
}

export function ms(since: number): number {
  return performance.now() - since;
}
