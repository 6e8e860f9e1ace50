/**
 * The foliolab/compare@1 result, as notes/COMPARE-SCHEMA.md defines it. Defined here until
 * @foliolab/compare owns it (it will then be re-exported from there under the same names).
 */

export const COMPARE_SCHEMA = 'foliolab/compare@1';

/**
 * COMPARE-SCHEMA.md names the first four; @foliolab/compare also emits 'mixed' (layout × mapcount × fs)
 * and 'control' (layout only) workloads, so the report reads those too (they appear in the tables, and
 * control runs in the memmap charts).
 */
export const RUN_KINDS = ['mapcount', 'fs', 'pagewait', 'memmap', 'mixed', 'control'] as const;
export type RunKind = (typeof RUN_KINDS)[number];

export const RUN_STATUSES = ['ok', 'refused', 'failed', 'oom'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** The four design choices; a run names only the ones that matter for its kind. */
export interface Composition {
  layout?: string;
  mapcount?: string;
  pagewait?: string;
  fs?: string;
}
export type CompositionKey = keyof Composition;

export interface Baseline {
  layout: string;
  mapcount: string;
  pagewait: string;
  fs: string;
}

/** [value, count] pairs, for histograms. */
export type Distribution = Array<[number, number]>;

export interface CompareRun {
  workload: string;
  kind: RunKind;
  composition: Composition;
  status: RunStatus;
  /** For refused/failed/oom: one line. */
  reason?: string;
  durationMs: number;
  /** The run's seed (@foliolab/compare records it per run; the header shows the result's). */
  seed?: number;
  /** Flat, numbers only (mapcount.*, fs.*, pagewait.*, memmap.*). */
  metrics: Record<string, number>;
  /** Optional, e.g. "pagewait.walk": entries walked per wake. */
  distributions?: Record<string, Distribution>;
  /** The run's observe records (foliolab/run@1 shape); the report does not read them. */
  observe?: unknown[];
}

export interface MemmapLayoutBytes {
  name: string;
  bytes: number;
  /** bytes as a percentage of the machine's RAM. */
  percent: number;
  byType: Record<string, number>;
}

export interface CompareMemmap {
  source: string;
  pfns: number;
  layouts: MemmapLayoutBytes[];
}

export interface CowResult {
  leak: boolean;
  stalePin: boolean;
  /** The run's status when @foliolab/compare records it: anything but ok means the cell was not run. */
  status?: RunStatus;
  reason?: string;
}

export interface CowMatrixRow {
  case: string;
  backing: string;
  /** By mapcount policy; a policy missing here was not run on this cell. */
  results: Record<string, CowResult>;
}

export interface CompareResult {
  schema: typeof COMPARE_SCHEMA;
  generatedAt: string;
  seed: number;
  /** Simulated RAM per machine, bytes. */
  memory: number;
  versions: Record<string, string>;
  host: { node: string; kernel: string };
  baseline: Baseline;
  runs: CompareRun[];
  memmap?: CompareMemmap;
  cowMatrix?: CowMatrixRow[];
}
