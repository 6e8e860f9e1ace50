/**
 * The probe's output document (schema "foliolab/fs-probe@1") and a validator used by the fixture tests and by
 * consumers that load fixtures. `metrics` holds the per-metric median over `repeats` runs, `deterministic`
 * whether all runs agreed exactly, `runs` every run's own metrics and supporting detail.
 */
import { release, version, arch } from 'node:os';
import { runs_aggregate, type MetricValue } from './aggregate.js';
import { METRIC_KEYS } from './metrics.js';
import { FS_CONFIGS, FS_NAMES, IMAGE_BYTES, type FsName, type RunRecord } from './probe.js';
import type { TracingCapabilities } from './tracing.js';
import type { WorkloadPlan } from './workloads.js';

export const RESULT_SCHEMA = 'foliolab/fs-probe@1';

export interface ProbeResult {
  schema: typeof RESULT_SCHEMA;
  kernel: string;
  kernel_version: string;
  arch: string;
  fs: FsName;
  fs_setup: { mkfs: string[]; mount_options: string; image_bytes: number; block_bytes: number; loop: string };
  workload: string;
  description: string;
  seed: number;
  repeats: number;
  queue: Record<string, number | string>;
  metrics: Record<string, MetricValue>;
  deterministic: Record<string, boolean>;
  expect: { write_bytes: number; read_bytes: number };
  offsets?: number[];
  tracing: { events: string[]; capabilities: TracingCapabilities };
  runs: Omit<RunRecord, 'queue' | 'mount_options' | 'events_enabled'>[];
}

export function result_build(
  fs: FsName,
  plan: WorkloadPlan,
  description: string,
  runs: readonly RunRecord[],
  capabilities: TracingCapabilities,
): ProbeResult {
  const { metrics, deterministic } = runs_aggregate(runs.map((r) => r.metrics));
  const first = runs[0]!;
  const r: ProbeResult = {
    schema: RESULT_SCHEMA,
    kernel: release(),
    kernel_version: version(),
    arch: arch(),
    fs,
    fs_setup: {
      mkfs: [...FS_CONFIGS[fs].mkfs],
      mount_options: first.mount_options,
      image_bytes: IMAGE_BYTES,
      block_bytes: FS_CONFIGS[fs].block_bytes,
      loop: 'losetup --direct-io=on, sparse image file under /tmp',
    },
    workload: plan.name,
    description,
    seed: plan.seed,
    repeats: runs.length,
    queue: first.queue,
    metrics,
    deterministic,
    expect: plan.expect,
    tracing: { events: first.events_enabled, capabilities },
    runs: runs.map(({ queue: _q, mount_options: _m, events_enabled: _e, ...rest }) => rest),
  };
  if (plan.offsets) r.offsets = plan.offsets;
  return r;
}

/** Problems with a parsed result document; empty when it is well formed. */
export function result_validate(doc: unknown): string[] {
  const errs: string[] = [];
  if (typeof doc !== 'object' || doc === null) return ['not an object'];
  const d = doc as Record<string, unknown>;
  if (d['schema'] !== RESULT_SCHEMA) errs.push(`schema: expected ${RESULT_SCHEMA}`);
  for (const k of ['kernel', 'workload']) if (typeof d[k] !== 'string' || (d[k] as string).length === 0) errs.push(`${k}: missing`);
  if (!(FS_NAMES as readonly unknown[]).includes(d['fs'])) errs.push(`fs: ${String(d['fs'])} is not one of ${FS_NAMES.join(', ')}`);
  if (!Number.isInteger(d['seed'])) errs.push('seed: not an integer');
  const repeats = d['repeats'];
  if (!Number.isInteger(repeats) || (repeats as number) < 1) errs.push('repeats: not a positive integer');
  const runs = d['runs'];
  if (!Array.isArray(runs) || runs.length !== repeats) errs.push('runs: length differs from repeats');
  const queue = d['queue'] as Record<string, unknown> | undefined;
  for (const k of ['max_sectors_kb', 'max_segments', 'max_segment_size', 'logical_block_size', 'read_ahead_kb', 'bdi_read_ahead_kb']) {
    if (typeof queue?.[k] !== 'number') errs.push(`queue.${k}: missing`);
  }
  const metrics = d['metrics'] as Record<string, unknown> | undefined;
  const det = d['deterministic'] as Record<string, unknown> | undefined;
  if (!metrics || !det) return [...errs, 'metrics/deterministic: missing'];
  for (const k of Object.keys(metrics)) {
    if (!(METRIC_KEYS as readonly string[]).includes(k)) errs.push(`metrics.${k}: not an FS-METRICS name`);
    const v = metrics[k];
    const ok = typeof v === 'number'
      ? Number.isInteger(v) && v >= 0
      : typeof v === 'object' && v !== null && Object.entries(v).every(([hk, hv]) => /^\d+$/.test(hk) && Number.isInteger(hv) && (hv as number) > 0);
    if (!ok) errs.push(`metrics.${k}: not a non-negative integer or histogram of positive counts`);
    if (typeof det[k] !== 'boolean') errs.push(`deterministic.${k}: missing`);
  }
  for (const k of METRIC_KEYS) {
    if (k !== 'iomap_folio_state_bytes' && !(k in metrics)) errs.push(`metrics.${k}: missing`);
  }
  return errs;
}
