import type { KernelFixture, MetricValue } from './fixtures.js';
import type { SimResult } from './simulate.js';

/**
 * The data-path metrics compared, in table order. `writeback_map_calls` is the probe's writeback
 * mapping count, kept apart from mapping_calls as FS-METRICS does: ext4 `mapping_by_path.writeback_map`
 * (ext4_map_blocks from mpage_map_and_submit_extent), XFS `iomap_add_to_ioend` (->writeback_range calls).
 */
export const COMPARED_METRICS = [
  'mapping_calls',
  'get_block_calls',
  'iomap_begin_calls',
  'writeback_map_calls',
  'delalloc_reservations',
  'extents_allocated',
  'data_bios',
  'data_bio_bytes',
  'data_bio_size_hist',
  'folios_added_by_order',
  'buffer_heads_allocated',
  'iomap_folio_state_bytes',
  'readahead_calls',
  'requests',
  'request_bytes',
] as const;
export type ComparedMetric = (typeof COMPARED_METRICS)[number];

/** Relative tolerance where the kernel itself varied between runs. */
export const TOLERANCE = 0.1;

export type Verdict = 'equal' | 'within' | 'explained' | 'unexplained';

export interface Cell {
  workload: string;
  fs: string;
  metric: ComparedMetric;
  kernel: MetricValue;
  sim: MetricValue;
  deterministic: boolean;
  /** |sim - kernel| / kernel; for histograms the summed bucket differences over the kernel's total. */
  deviation: number;
  verdict: Verdict;
  /** Why the numbers differ (explained cells). */
  why?: string;
}

/** Relative distance: scalars |s-k|/k (0 only when equal if k is 0); histograms Σ|s_b-k_b| / Σk_b. */
export function deviation_of(k: MetricValue, s: MetricValue): number {
  if (typeof k === 'number' && typeof s === 'number') {
    if (k === s) return 0;
    return k === 0 ? Infinity : Math.abs(s - k) / k;
  }
  if (typeof k === 'number' || typeof s === 'number') return Infinity;
  let diff = 0;
  let total = 0;
  for (const b of new Set([...Object.keys(k), ...Object.keys(s)])) {
    diff += Math.abs((s[b] ?? 0) - (k[b] ?? 0));
    total += k[b] ?? 0;
  }
  if (diff === 0) return 0;
  return total === 0 ? Infinity : diff / total;
}

/** The kernel value of a compared metric (writeback mapping from the run's detail). */
export function kernel_value(fx: KernelFixture, metric: ComparedMetric): { value: MetricValue; deterministic: boolean } | undefined {
  if (metric === 'writeback_map_calls') {
    const d = fx.detail;
    const byPath = d.mapping_by_path as Record<string, number> | undefined;
    const v = fx.fs.startsWith('xfs') ? (d.iomap_add_to_ioend as number | undefined) : (byPath?.writeback_map ?? 0);
    // Derived from the detail of one run: deterministic when the run-level counts it depends on were.
    return typeof v === 'number' ? { value: v, deterministic: fx.deterministic.mapping_calls ?? false } : undefined;
  }
  const v = fx.metrics[metric];
  if (v === undefined) return undefined;
  return { value: v, deterministic: fx.deterministic[metric] ?? false };
}

/** An explanation of a difference that the comparison accepts, with a check of its own arithmetic. */
export interface Explanation {
  workload: string;
  fs: string;
  metrics: readonly ComparedMetric[];
  why: string;
  /** Returns true when the numbers are what the explanation says (e.g. kernel - sim = extra extents). */
  holds(kernel: MetricValue, sim: MetricValue, fx: KernelFixture, s: SimResult): boolean;
}

/** Compare one fixture with one simulation: a cell per metric the kernel recorded. */
export function compare_run(fx: KernelFixture, s: SimResult, explanations: readonly Explanation[]): Cell[] {
  const cells: Cell[] = [];
  for (const metric of COMPARED_METRICS) {
    const kv = kernel_value(fx, metric);
    const sim = s.metrics[metric];
    if (kv === undefined || sim === undefined) continue;
    const dev = deviation_of(kv.value, sim);
    let verdict: Verdict = dev === 0 ? 'equal' : !kv.deterministic && dev <= TOLERANCE ? 'within' : 'unexplained';
    let why: string | undefined;
    if (verdict === 'unexplained') {
      const e = explanations.find((x) => x.workload === fx.workload && x.fs === fx.fs && x.metrics.includes(metric));
      if (e && e.holds(kv.value, sim, fx, s)) {
        verdict = 'explained';
        why = e.why;
      }
    }
    cells.push({ workload: fx.workload, fs: fx.fs, metric, kernel: kv.value, sim, deterministic: kv.deterministic, deviation: dev, verdict, ...(why ? { why } : {}) });
  }
  return cells;
}
