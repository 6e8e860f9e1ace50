import { createRequire } from 'node:module';
import { release, type as osType, machine as osMachine } from 'node:os';
import { Tinypool } from 'tinypool';
import { FS_BACKENDS, LAYOUTS, MAPCOUNT_POLICIES, PAGEWAIT_POLICIES, is_external_spec, register_external } from '@foliolab/machine';
import { run_one, workload_kind_of, workload_load, type RunOptions } from './run-one.js';
import { COMPARE_SCHEMA, type CompareResult, type Composition, type CowMatrixRow, type RunKind, type RunRecord } from './schema.js';

export class CompareError extends Error {
  constructor(readonly field: string, readonly reason: string) {
    super(`${field}: ${reason}`);
    this.name = 'CompareError';
  }
}

/** The choices to compare. Omitted lists mean every registered implementation (layouts: every layout). */
export interface CompareChoices {
  layout?: readonly string[];
  mapcount?: readonly string[];
  pagewait?: readonly string[];
  fs?: readonly string[];
}

export interface CompareOptions extends RunOptions {
  workloads: readonly string[];
  choices?: CompareChoices;
  /** Worker threads (default: 2). 1 runs in this thread. */
  jobs?: number;
  seed?: number;
  /** Called as each run finishes. */
  onProgress?: (done: number, total: number, last: RunRecord) => void;
  /** Base directory for policies given as relative paths. */
  cwd?: string;
}

export interface Job {
  workload: string;
  composition: Composition;
  options: RunOptions;
  /** External policy specs the worker must register before running. */
  external: Array<{ kind: 'mapcount' | 'pagewait' | 'fs'; spec: string; cwd: string }>;
}

/** Every composition a workload of this kind is run under: only the choices that matter for it vary. */
export function compositions_for(kind: RunKind, c: Required<CompareChoices>): Composition[] {
  const layouts = c.layout;
  switch (kind) {
    case 'mapcount':
      return layouts.flatMap((layout) => c.mapcount.map((mapcount) => ({ layout, mapcount })));
    case 'fs':
      return c.fs.map((fs) => ({ layout: layouts[0]!, fs }));
    case 'pagewait':
      return c.pagewait.flatMap((pagewait) => layouts.map((layout) => ({ layout, pagewait })));
    case 'mixed':
      return layouts.flatMap((layout) => c.mapcount.flatMap((mapcount) => c.fs.map((fs) => ({ layout, mapcount, fs, pagewait: c.pagewait[0]! }))));
    default:
      return [{ layout: layouts[0]! }];
  }
}

function check_names(option: string, names: readonly string[], known: readonly string[]): void {
  if (names.length === 0) throw new CompareError(option, 'needs at least one name');
  for (const n of names) if (!known.includes(n) && !is_external_spec(n)) throw new CompareError(option, `unknown ${option.slice(2)} "${n}" (known: ${known.join(', ')}, or a path to your own policy)`);
}

export function choices_resolve(c: CompareChoices = {}): Required<CompareChoices> {
  const out = {
    layout: c.layout ?? LAYOUTS.map((l) => l.name),
    mapcount: c.mapcount ?? MAPCOUNT_POLICIES.map((p) => p.name),
    pagewait: c.pagewait ?? PAGEWAIT_POLICIES.map((p) => p.name),
    fs: c.fs ?? FS_BACKENDS.map((p) => p.name),
  };
  check_names('--layout', out.layout, LAYOUTS.map((l) => l.name));
  for (const l of out.layout) if (is_external_spec(l)) throw new CompareError('--layout', `"${l}": layouts come from the registry only (known: ${LAYOUTS.map((x) => x.name).join(', ')})`);
  check_names('--mapcount', out.mapcount, MAPCOUNT_POLICIES.map((p) => p.name));
  check_names('--pagewait', out.pagewait, PAGEWAIT_POLICIES.map((p) => p.name));
  check_names('--fs', out.fs, FS_BACKENDS.map((p) => p.name));
  return out;
}

/** The matrix: every workload (loaded and validated up front, so bad input fails before any run) × its compositions. */
export async function matrix_build(opts: CompareOptions): Promise<Job[]> {
  const choices = choices_resolve(opts.choices);
  const cwd = opts.cwd ?? process.cwd();
  const external = (['mapcount', 'pagewait', 'fs'] as const).flatMap((kind) => choices[kind].filter(is_external_spec).map((spec) => ({ kind, spec, cwd })));
  const runOpts: RunOptions = { ...opts };
  delete (runOpts as Partial<CompareOptions>).workloads;
  delete (runOpts as Partial<CompareOptions>).choices;
  delete (runOpts as Partial<CompareOptions>).onProgress;
  delete (runOpts as Partial<CompareOptions>).jobs;
  const jobs: Job[] = [];
  for (const ref of opts.workloads) {
    const w = await workload_load(ref);
    for (const composition of compositions_for(workload_kind_of(w), choices)) jobs.push({ workload: ref, composition, options: runOpts, external });
  }
  return jobs;
}

/** Run one job; used by the worker and by the in-thread path. */
export async function job_run(job: Job): Promise<RunRecord> {
  for (const e of job.external) await register_external(e.kind, e.spec, e.cwd);
  try {
    return await run_one(job.workload, job.composition, job.options);
  } catch (e) {
    return {
      workload: job.workload,
      kind: 'control',
      composition: job.composition,
      status: 'failed',
      reason: (e instanceof Error ? e.message : String(e)).split('\n')[0]!,
      seed: job.options.seed ?? 0,
      durationMs: 0,
      metrics: {},
    };
  }
}

function worker_pool(jobs: number): Tinypool {
  const source = import.meta.url.endsWith('.ts');
  const filename = new URL(source ? './worker-source.mjs' : './worker.js', import.meta.url).href;
  const execArgv = source ? ['--conditions=@foliolab/source'] : [];
  return new Tinypool({ filename, minThreads: 1, maxThreads: jobs, execArgv, isolateWorkers: false });
}

const VERSIONED = [
  '@foliolab/memmap', '@foliolab/layout-struct-page', '@foliolab/layout-memdesc', '@foliolab/vm', '@foliolab/mapcount-per-page',
  '@foliolab/mapcount-per-folio', '@foliolab/mapcount-upstream', '@foliolab/pagecache', '@foliolab/fs-buffer-head', '@foliolab/fs-iomap',
  '@foliolab/pagewait', '@foliolab/pagewait-hashed', '@foliolab/pagewait-attached', '@foliolab/workloads', '@foliolab/machine', '@foliolab/compare',
];

/** The version of every foliolab package in this run, as results must name them. */
export function package_versions(): Record<string, string> {
  const require = createRequire(import.meta.url);
  const out: Record<string, string> = {};
  for (const p of VERSIONED) {
    try {
      out[p] = (require(`${p}/package.json`) as { version: string }).version;
    } catch {
      out[p] = 'unknown';
    }
  }
  return out;
}

function cow_rows(runs: readonly RunRecord[]): CowMatrixRow[] | undefined {
  const rows = new Map<string, CowMatrixRow>();
  for (const r of runs) {
    if (!r.cow) continue;
    const key = `${r.cow.case}\u0000${r.cow.backing}`;
    let row = rows.get(key);
    if (!row) rows.set(key, (row = { case: r.cow.case, backing: r.cow.backing, results: {} }));
    const who = r.composition.layout === 'struct-page' || !r.composition.mapcount ? (r.composition.mapcount ?? r.composition.layout) : `${r.composition.mapcount}@${r.composition.layout}`;
    row.results[who] = { leak: r.cow.leak, stalePin: r.cow.stalePin, status: r.status, ...(r.reason ?? r.cow.reason ? { reason: r.reason ?? r.cow.reason } : {}) };
  }
  return rows.size ? [...rows.values()] : undefined;
}

/**
 * Run the matrix, each run in a worker thread, up to `jobs` at once. A run that fails, is refused or
 * runs out of simulated memory is a record with its reason; the others finish.
 */
export async function compare(opts: CompareOptions): Promise<CompareResult> {
  const jobs = opts.jobs ?? 2;
  if (!Number.isInteger(jobs) || jobs < 1) throw new CompareError('--jobs', `${opts.jobs} is not a whole number of at least 1`);
  const matrix = await matrix_build(opts);
  for (const e of matrix[0]?.external ?? []) await register_external(e.kind, e.spec, e.cwd);
  const runs: RunRecord[] = new Array(matrix.length);
  let done = 0;
  const finish = (i: number, r: RunRecord) => {
    runs[i] = r;
    opts.onProgress?.(++done, matrix.length, r);
  };
  if (jobs === 1) {
    for (let i = 0; i < matrix.length; i++) finish(i, await job_run(matrix[i]!));
  } else {
    const pool = worker_pool(jobs);
    try {
      await Promise.all(matrix.map((job, i) => (pool.run(job) as Promise<RunRecord>).then((r) => finish(i, r))));
    } finally {
      await pool.destroy();
    }
  }
  const choices = choices_resolve(opts.choices);
  const first = runs[0];
  const result: CompareResult = {
    schema: COMPARE_SCHEMA,
    generatedAt: new Date().toISOString(),
    seed: opts.seed ?? first?.seed ?? 1,
    memory: opts.memory ?? 0,
    versions: package_versions(),
    host: { node: process.version, kernel: `${osType()} ${release()} ${osMachine()}` },
    baseline: { layout: choices.layout[0]!, mapcount: choices.mapcount[0]!, pagewait: choices.pagewait[0]!, fs: choices.fs[0]! },
    runs,
  };
  const cow = cow_rows(runs);
  if (cow) result.cowMatrix = cow;
  return result;
}
