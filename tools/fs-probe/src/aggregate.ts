/**
 * Combining repeated runs: per metric the median (lower median for an even count, so counts stay integers)
 * and whether every run gave exactly the same value. A histogram is taken whole from one run — the first run
 * whose total count is the median total — so it stays a histogram some run really produced and its total
 * matches the median of the matching count (data_bio_size_hist sums to the median data_bios).
 */
import type { FsMetrics } from './metrics.js';

export type MetricValue = number | Record<string, number>;

export function median_lower(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
}

function value_same(a: MetricValue | undefined, b: MetricValue | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function runs_aggregate(runs: readonly FsMetrics[]): { metrics: Record<string, MetricValue>; deterministic: Record<string, boolean> } {
  if (runs.length === 0) throw new Error('runs_aggregate: no runs');
  const metrics: Record<string, MetricValue> = {};
  const deterministic: Record<string, boolean> = {};
  const keys = Object.keys(runs[0]!) as (keyof FsMetrics)[];
  for (const key of keys) {
    const vals = runs.map((r) => r[key] as MetricValue | undefined);
    deterministic[key] = vals.every((v) => value_same(v, vals[0]));
    if (typeof vals[0] === 'number') {
      metrics[key] = median_lower(vals.map((v) => (typeof v === 'number' ? v : 0)));
    } else if (vals[0] !== undefined) {
      const totals = vals.map((v) => Object.values(v as Record<string, number>).reduce((a, b) => a + b, 0));
      const mid = median_lower(totals);
      metrics[key] = vals[totals.indexOf(mid)]!;
    }
  }
  return { metrics, deterministic };
}
