import { performance } from 'node:perf_hooks';
import { createMachine, type MachineSpec } from '@foliolab/machine';
import {
  cowCell,
  isBuiltin,
  loadBuiltin,
  loadWorkload,
  runWorkload,
  validateWorkload,
  workload_kind,
  type CowCellTag,
  type Workload,
} from '@foliolab/workloads';
import type { Composition, CowVerdict, ObserveRecord, RunKind, RunRecord } from './schema.js';

/** Where a workload comes from: a built-in name or a file path. */
export type WorkloadRef = string;

export interface RunOptions {
  /** Override the workload's machine memory (bytes). */
  memory?: number;
  /** Override the workload's seed. */
  seed?: number;
  debugVm?: boolean;
  blockSize?: number;
  folioMax?: number;
  waitTableBits?: number;
  /** Keep observe records in the result (default true). */
  observe?: boolean;
}

/** Load and validate a workload by built-in name or path (throws WorkloadError with file:line:column on bad input). */
export async function workload_load(ref: WorkloadRef): Promise<Workload> {
  const w = isBuiltin(ref) ? loadBuiltin(ref) : await loadWorkload(ref);
  validateWorkload(w);
  return w;
}

function ops_of(steps: Workload['steps'], out = new Set<string>()): Set<string> {
  for (const s of steps) {
    if (s.op === 'repeat') ops_of((s.args as { steps: Workload['steps'] }).steps, out);
    else out.add(s.op);
  }
  return out;
}

export function workload_kind_of(w: Workload): RunKind {
  return workload_kind(ops_of(w.steps)) as RunKind;
}

/**
 * A cow.c cell's verdict from its observe records (the rule of the workloads package's cow matrix):
 * a leak is a reader (or pinner) that sees the writer's PFN after the write; a stale pin is a pinned page
 * whose PFN is no longer the writer's.
 */
export function cow_verdict(tag: CowCellTag, observe: readonly ObserveRecord[]): CowVerdict {
  const find = (label: string) => observe.find((o) => o.label === label);
  const after = find(tag.writeLabel);
  const pinned = tag.pinner ? find(tag.pinLabel) : undefined;
  const v: CowVerdict = { case: tag.case, backing: tag.backing, leak: false, stalePin: false };
  if (!after) return { ...v, reason: `no "${tag.writeLabel}" observation` };
  after.pages.forEach((row, i) => {
    const w = row.procs[tag.writer];
    if (tag.check === 'pin-sees-writer') {
      const p = pinned?.pages[i]?.procs[tag.pinner!];
      if (p && w && p.pfn !== w.pfn) v.stalePin = true;
    } else if (tag.pinner) {
      const p = pinned?.pages[i]?.procs[tag.pinner];
      if (p && w && p.pfn === w.pfn) v.leak = true;
    } else if (tag.reader) {
      const r = row.procs[tag.reader];
      if (r && w && r.pfn === w.pfn) v.leak = true;
    }
  });
  if (v.leak) v.reason = `after ${tag.writer}'s write, ${tag.pinner ?? tag.reader} still maps the written page`;
  if (v.stalePin) v.reason = `after ${tag.writer}'s write, ${tag.pinner}'s pin holds a different page`;
  return v;
}

function one_line(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
}

/** Run one workload on one composition; every outcome is a record (refused, failed and OOM included). */
export async function run_one(ref: WorkloadRef | Workload, composition: Composition, opts: RunOptions = {}): Promise<RunRecord> {
  const t0 = performance.now();
  const w = typeof ref === 'string' ? await workload_load(ref) : ref;
  const kind = workload_kind_of(w);
  const seed = opts.seed ?? w.machine.seed ?? 1;
  const cell = cowCell(w.name);
  // A cow.c cell keeps its case and backing whatever happens to the run, so the matrix has one row per cell.
  const base = { workload: w.name, kind, composition, seed, ...(cell ? { cow: { case: cell.cell.case, backing: cell.cell.backing, leak: false, stalePin: false } } : {}) };
  const m = w.machine as unknown as { memory: number; thp?: MachineSpec['thp']; mthp?: number[]; blockSize?: number; folioMax?: number; readAheadKb?: number; waitTableBits?: number; debugVm?: boolean };
  const spec: MachineSpec = {
    memory: opts.memory ?? m.memory,
    seed,
    layout: composition.layout,
    ...(composition.mapcount ? { mapcount: composition.mapcount } : {}),
    ...(composition.pagewait ? { pagewait: composition.pagewait } : {}),
    ...(composition.fs ? { fs: composition.fs } : {}),
    ...(m.thp ? { thp: m.thp } : {}),
    ...(m.mthp ? { mthp: m.mthp } : {}),
    debugVm: opts.debugVm ?? m.debugVm ?? false,
    ...((opts.blockSize ?? m.blockSize) !== undefined ? { blockSize: opts.blockSize ?? m.blockSize } : {}),
    ...((opts.folioMax ?? m.folioMax) !== undefined ? { folioMax: opts.folioMax ?? m.folioMax } : {}),
    ...(m.readAheadKb !== undefined ? { readAheadKb: m.readAheadKb } : {}),
    ...((opts.waitTableBits ?? m.waitTableBits) !== undefined ? { waitTableBits: opts.waitTableBits ?? m.waitTableBits } : {}),
  };
  const composed = createMachine(spec);
  if (!composed.ok) return { ...base, status: 'refused', reason: composed.reason, durationMs: performance.now() - t0, metrics: {} };
  const machine = composed.machine;
  let observe: ObserveRecord[] = [];
  try {
    // workload_load validated it; a Workload passed in by the caller is validated by the runner.
    const r = runWorkload(w, machine.handlers as never, { seed, targetName: `the ${composition.layout} machine`, skipValidate: typeof ref === 'string' });
    observe = r.observe.map((o) => o.data as ObserveRecord);
  } catch (e) {
    const msg = one_line(e);
    const oom = /ENOMEM|out of memory|no memory/i.test(msg);
    return { ...base, status: oom ? 'oom' : 'failed', reason: msg, durationMs: performance.now() - t0, metrics: machine.metrics() };
  }
  const metrics = machine.metrics();
  const rec: RunRecord = { ...base, status: (metrics['vm.oom'] ?? 0) > 0 ? 'oom' : 'ok', durationMs: 0, metrics };
  if (rec.status === 'oom') rec.reason = `${metrics['vm.oom']} allocations failed: the machine ran out of simulated memory`;
  const d = machine.distributions();
  if (Object.keys(d).length) rec.distributions = d;
  if (opts.observe !== false && observe.length) rec.observe = observe;
  if (cell) rec.cow = cow_verdict(cell.cell, observe);
  rec.durationMs = performance.now() - t0;
  return rec;
}
