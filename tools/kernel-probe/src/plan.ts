/**
 * Turns a workload into the coordinator's command lines. The workloads runner walks the steps (repeat,
 * "{i}" names, random offsets all resolved exactly as for the simulator); each handler appends one line.
 * Processes and regions become small integers; the coordinator resolves region + offset to addresses.
 */
import { runWorkload, type Target, type Workload } from '@foliolab/workloads';

export const PAGE = 4096;
export const PMD_SIZE = 2 * 1024 * 1024;

/** The steps the probe replays with real syscalls. */
export const PROBE_OPS = ['spawn', 'mmap', 'touch', 'fork', 'exit', 'munmap', 'mremap', 'mprotect', 'madvise', 'observe'] as const;

/** Linux's MADV_* and PROT_* values (x86-64 / asm-generic). */
export const MADV = { dontneed: 4, dontfork: 10, dofork: 11, hugepage: 14, nohugepage: 15, collapse: 25 } as const;
export const PROT = { none: 0, r: 1, rw: 3 } as const;

export interface PlanObserve {
  label: string;
  /** Runner step index. */
  step: number;
  region: string;
  offset: number;
  size: number;
  procs: string[];
}

export interface ProbePlan {
  workload: string;
  description?: string;
  seed: number;
  /** One coordinator command per line. */
  lines: string[];
  observes: PlanObserve[];
  procs: string[];
}

const page_up = (n: number): number => Math.ceil(n / PAGE) * PAGE;

/**
 * The alignment the kernel gives a new anonymous private mapping: `align` if asked, and a PMD boundary when
 * the length is a multiple of 2 MiB (thp_get_unmapped_area() for anonymous mappings, v6.10+) — the same
 * rule as @foliolab/vm's mmap().
 */
export function mmap_alignment(len: number, align: number | undefined): number {
  const a = align ?? PAGE;
  return len % PMD_SIZE === 0 ? Math.max(a, PMD_SIZE) : a;
}

/**
 * Where mremap puts a moved range: a fresh area of newSize bytes, PMD-aligned when newSize is a multiple
 * of 2 MiB (get_unmapped_area() for an anonymous VMA), page-aligned otherwise — @foliolab/vm's rule.
 */
export function mremap_alignment(newSize: number): number {
  return newSize % PMD_SIZE === 0 ? PMD_SIZE : PAGE;
}

/**
 * Builds the plan. A step the probe cannot replay (file or wait steps, pins, file-backed or shared
 * mappings) throws a WorkloadError naming its file:line:column, before anything runs.
 */
export function probe_plan(w: Workload): ProbePlan {
  const lines: string[] = [];
  const observes: PlanObserve[] = [];
  const procIds = new Map<string, number>();
  const regionIds = new Map<string, number>();
  const proc_id = (name: string): number => {
    const id = procIds.get(name);
    if (id === undefined) throw new Error(`process "${name}" does not exist`);
    return id;
  };
  const proc_new = (name: string): number => {
    if (procIds.has(name)) throw new Error(`process "${name}" already exists`);
    if (procIds.size >= 256) throw new Error('the kernel probe replays at most 256 processes');
    procIds.set(name, procIds.size);
    return procIds.size - 1;
  };
  const region_id = (name: string): number => {
    let id = regionIds.get(name);
    if (id === undefined) {
      if (regionIds.size >= 256) throw new Error('the kernel probe replays at most 256 region names');
      id = regionIds.size;
      regionIds.set(name, id);
    }
    return id;
  };
  const target: Target = {
    spawn: (a) => void lines.push(`spawn ${proc_new(a.proc)}`),
    mmap: (a) => {
      if (!a.anon || a.file !== undefined) throw new Error('the kernel probe replays anonymous mappings only (file mappings need the page cache)');
      if (a.shared) throw new Error('the kernel probe replays private mappings only (shared anonymous memory is shmem)');
      const len = page_up(a.size);
      const advice = a.advice === undefined ? 0 : MADV[a.advice];
      lines.push(`mmap ${proc_id(a.proc)} ${region_id(a.region)} ${len} ${mmap_alignment(len, a.align)} ${PROT[a.prot]} ${advice}`);
    },
    touch: (a) => void lines.push(`touch ${proc_id(a.proc)} ${region_id(a.region)} ${a.offset} ${a.size} ${a.write ? 1 : 0}`),
    fork: (a) => void lines.push(`fork ${proc_id(a.proc)} ${proc_new(a.child)}`),
    exit: (a) => void lines.push(`exit ${proc_id(a.proc)}`),
    munmap: (a) => void lines.push(`munmap ${proc_id(a.proc)} ${region_id(a.region)} ${a.offset} ${page_up(a.size)}`),
    mremap: (a) => {
      const len = page_up(a.size);
      const newLen = page_up(a.newSize ?? a.size);
      lines.push(`mremap ${proc_id(a.proc)} ${region_id(a.region)} ${a.offset} ${len} ${region_id(a.to)} ${newLen} ${mremap_alignment(newLen)}`);
    },
    mprotect: (a) => void lines.push(`mprotect ${proc_id(a.proc)} ${region_id(a.region)} ${a.offset} ${page_up(a.size)} ${PROT[a.prot]}`),
    madvise: (a) => void lines.push(`madvise ${proc_id(a.proc)} ${region_id(a.region)} ${a.offset} ${page_up(a.size)} ${MADV[a.advice]}`),
    observe: (a, ctx) => {
      const id = observes.length;
      observes.push({ label: a.label, step: ctx.index, region: a.region, offset: a.offset, size: a.size, procs: [...a.procs] });
      lines.push(`observe ${id} ${region_id(a.region)} ${a.offset} ${a.size} ${a.procs.length} ${a.procs.map(proc_id).join(' ')}`);
      return undefined;
    },
  };
  const run = runWorkload(w, target, { targetName: 'kernel-probe' });
  return { workload: w.name, ...(w.description !== undefined ? { description: w.description } : {}), seed: run.seed, lines, observes, procs: [...procIds.keys()] };
}
