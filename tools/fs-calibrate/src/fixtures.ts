import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { DeviceProfile } from '@foliolab/pagecache';

/** A bad fixture or option: names the file and field; the CLI exits 2 with this one line. */
export class CalibrateError extends Error {
  readonly exitCode = 2;
  constructor(readonly file: string, readonly field: string, readonly reason: string) {
    super(`${file}: ${field}: ${reason}`);
    this.name = 'CalibrateError';
  }
}

/** The recorded kernel fixtures of tools/fs-probe (inside this repository). */
export const FIXTURE_DIR = fileURLToPath(new URL('../../fs-probe/fixtures/', import.meta.url));

/** The queue limits the probe recorded (`/sys/block/loopN/queue/*` and the bdi's read_ahead_kb). */
export interface FixtureQueue {
  max_sectors_kb: number;
  max_segments: number;
  max_segment_size: number;
  logical_block_size: number;
  read_ahead_kb: number;
  bdi_read_ahead_kb?: number;
}

export type MetricValue = number | Record<string, number>;

/** The part of a `foliolab/fs-probe@1` result the calibration reads. */
export interface KernelFixture {
  file: string;
  fs: string;
  workload: string;
  kernel: string;
  queue: FixtureQueue;
  metrics: Record<string, MetricValue>;
  deterministic: Record<string, boolean>;
  /** The median run's supporting detail (mapping calls by path, ioend counts, ...). */
  detail: Record<string, unknown>;
  /** Physical extents of the data files after each run (FIEMAP, merged). */
  dataExtents: number[];
}

function need_number(file: string, field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new CalibrateError(file, field, `${JSON.stringify(v)} is not a number >= 0`);
  return v;
}

function need_object(file: string, field: string, v: unknown): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new CalibrateError(file, field, 'is missing or not an object');
  return v as Record<string, unknown>;
}

/** Validate a parsed fixture (text from `file`) and keep what the calibration needs. */
export function fixture_parse(file: string, text: string): KernelFixture {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new CalibrateError(file, '(json)', e instanceof Error ? e.message : String(e));
  }
  const o = need_object(file, '(root)', raw);
  if (o.schema !== 'foliolab/fs-probe@1') throw new CalibrateError(file, 'schema', `${JSON.stringify(o.schema)} is not "foliolab/fs-probe@1"`);
  for (const k of ['fs', 'workload', 'kernel'] as const) if (typeof o[k] !== 'string') throw new CalibrateError(file, k, 'is missing or not a string');
  const q = need_object(file, 'queue', o.queue);
  const queue: FixtureQueue = {
    max_sectors_kb: need_number(file, 'queue.max_sectors_kb', q.max_sectors_kb),
    max_segments: need_number(file, 'queue.max_segments', q.max_segments),
    max_segment_size: need_number(file, 'queue.max_segment_size', q.max_segment_size),
    logical_block_size: need_number(file, 'queue.logical_block_size', q.logical_block_size),
    read_ahead_kb: need_number(file, 'queue.read_ahead_kb', q.read_ahead_kb),
    ...(q.bdi_read_ahead_kb !== undefined ? { bdi_read_ahead_kb: need_number(file, 'queue.bdi_read_ahead_kb', q.bdi_read_ahead_kb) } : {}),
  };
  const m = need_object(file, 'metrics', o.metrics);
  const metrics: Record<string, MetricValue> = {};
  for (const [k, v] of Object.entries(m)) {
    if (typeof v === 'number') metrics[k] = need_number(file, `metrics.${k}`, v);
    else {
      const h = need_object(file, `metrics.${k}`, v);
      const out: Record<string, number> = {};
      for (const [b, n] of Object.entries(h)) out[b] = need_number(file, `metrics.${k}.${b}`, n);
      metrics[k] = out;
    }
  }
  const d = need_object(file, 'deterministic', o.deterministic);
  const deterministic: Record<string, boolean> = {};
  for (const [k, v] of Object.entries(d)) {
    if (typeof v !== 'boolean') throw new CalibrateError(file, `deterministic.${k}`, 'is not true or false');
    deterministic[k] = v;
  }
  if (!Array.isArray(o.runs) || o.runs.length === 0) throw new CalibrateError(file, 'runs', 'is missing or empty');
  const runs = o.runs.map((r, i) => need_object(file, `runs[${i}]`, r));
  const dataExtents = runs.map((r, i) => need_number(file, `runs[${i}].data_extents`, r.data_extents));
  // The run whose data_bios is the fixture's median carries the detail the median came from.
  const median = runs.find((r) => (r.metrics as Record<string, unknown> | undefined)?.data_bios === metrics.data_bios) ?? runs[0]!;
  return {
    file,
    fs: o.fs as string,
    workload: o.workload as string,
    kernel: o.kernel as string,
    queue,
    metrics,
    deterministic,
    detail: need_object(file, 'runs[].detail', median.detail),
    dataExtents,
  };
}

/** Read tools/fs-probe/fixtures/<fs>/<workload>.json. */
export function fixture_load(fs: string, workload: string, dir = FIXTURE_DIR): KernelFixture {
  const file = `${dir}${fs}/${workload}.json`;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CalibrateError(file, '(file)', `cannot be read (${e instanceof Error ? e.message.replace(/^[A-Z]+: /, '') : String(e)})`);
  }
  const fx = fixture_parse(file, text);
  if (fx.fs !== fs) throw new CalibrateError(file, 'fs', `is "${fx.fs}", expected "${fs}"`);
  if (fx.workload !== workload) throw new CalibrateError(file, 'workload', `is "${fx.workload}", expected "${workload}"`);
  return fx;
}

/**
 * The simulator's device profile from recorded queue limits: max_sectors_kb -> 512-byte sectors,
 * and the bdi's read_ahead_kb (what readahead uses) when recorded, else the queue's.
 */
export function device_from_queue(q: FixtureQueue): Omit<DeviceProfile, 'name'> & { name: string } {
  return {
    name: 'fixture-loop',
    maxSectors: q.max_sectors_kb * 2,
    maxSegments: q.max_segments,
    maxSegmentSize: q.max_segment_size,
    logicalBlockSize: q.logical_block_size,
    readAheadKb: q.bdi_read_ahead_kb ?? q.read_ahead_kb,
  };
}
