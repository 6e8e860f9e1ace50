/**
 * The kernel-probe result (schema foliolab/kernel-probe@1): the observe records of foliolab/run@1, with
 * what the live kernel says per page instead of a policy's answers.
 */

export const PROBE_SCHEMA = 'foliolab/kernel-probe@1';

/** What one process maps at one observed page, as /proc/PID/pagemap, /proc/kpagecount and /proc/kpageflags report it. */
export interface KernelPage {
  /** pagemap bits 0-54 of a present entry. */
  pfn: number;
  /** /proc/kpagecount: folio_precise_page_mapcount() with CONFIG_PAGE_MAPCOUNT (page _mapcount + 1 + entire mapcount). */
  kpagecount: number;
  /** KPF_THP: the page belongs to a large rmappable (anon/file THP or mTHP) folio, or is the huge zero page. */
  thp: boolean;
  /** KPF_COMPOUND_HEAD / KPF_COMPOUND_TAIL. */
  compound: 'head' | 'tail' | 'none';
  /** Pages of the folio, from the run of COMPOUND_TAIL pages after its head (1 for a small folio). */
  folioPages: number;
  /** pagemap PM_MMAP_EXCLUSIVE (bit 56). Recorded, not compared. */
  exclusive: boolean;
}

/** A folio of N pages starts at a PFN aligned to N (the buddy allocator hands out naturally aligned blocks). */
export function folio_head(c: { pfn: number; folioPages: number }): number {
  return c.folioPages > 1 ? c.pfn - (c.pfn % c.folioPages) : c.pfn;
}

export interface KernelObservePage {
  index: number;
  /** null: the process maps nothing there (not present, no such region, or the process has exited). */
  procs: Record<string, KernelPage | null>;
}

export interface KernelObserve {
  label: string;
  /** The runner's step index of the observe step. */
  step: number;
  region: string;
  offset: number;
  size: number;
  pages: KernelObservePage[];
}

/** THP settings the probe ran with (the values written for the run, restored afterwards). */
export interface ProbeMachine {
  thp: string;
  /** Per hugepages-<size>kB directory: the `enabled` value during the run. */
  sizes: Record<string, string>;
  khugepagedScanSleepMs: number;
}

/** Per-field agreement of repeated runs (fixtures are recorded with several). */
export interface Determinism {
  runs: number;
  /** Cells (observe × page × process) compared. */
  cells: number;
  /** For each field, the number of cells whose value differed between runs (0 = deterministic). */
  differing: {
    mapped: number;
    kpagecount: number;
    thp: number;
    compound: number;
    folioPages: number;
    /** Which processes share a PFN with which, and which observed pages lie in one folio. */
    sharing: number;
    pfn: number;
  };
}

export interface ProbeResult {
  schema: typeof PROBE_SCHEMA;
  /** uname -srvm. */
  kernel: string;
  workload: string;
  description?: string;
  seed: number;
  machine: ProbeMachine;
  /** /proc/vmstat THP counters over the run (after - before). thp_collapse_alloc must be 0 (khugepaged held off). */
  vmstat: Record<string, number>;
  observe: KernelObserve[];
  determinism?: Determinism;
}

/**
 * A PFN-free view of one observe: for each mapped cell (key `${index}:${proc}`), the first cell (in page
 * order, then process order) that holds the same PFN, and the first that lies in the same folio. Two
 * records have the same sharing structure iff these representatives are equal cell for cell; a single
 * differing cell changes only its own representative (and those that pointed at it).
 */
export interface SharingView {
  pfnRep: Map<string, string>;
  folioRep: Map<string, string>;
}

export function sharing_view(pages: readonly { index: number; procs: Record<string, { pfn: number; folioPages: number } | null> }[], procs: readonly string[]): SharingView {
  const byPfn = new Map<number, string>();
  const byHead = new Map<number, string>();
  const pfnRep = new Map<string, string>();
  const folioRep = new Map<string, string>();
  for (const p of pages) {
    for (const name of procs) {
      const v = p.procs[name];
      if (!v) continue;
      const key = `${p.index}:${name}`;
      const head = folio_head(v);
      if (!byPfn.has(v.pfn)) byPfn.set(v.pfn, key);
      if (!byHead.has(head)) byHead.set(head, key);
      pfnRep.set(key, byPfn.get(v.pfn)!);
      folioRep.set(key, byHead.get(head)!);
    }
  }
  return { pfnRep, folioRep };
}

/** Compares repeated runs of one workload field by field. */
export function runs_determinism(runs: readonly ProbeResult[]): Determinism {
  const d: Determinism = { runs: runs.length, cells: 0, differing: { mapped: 0, kpagecount: 0, thp: 0, compound: 0, folioPages: 0, sharing: 0, pfn: 0 } };
  const base = runs[0];
  if (base === undefined) return d;
  for (let o = 0; o < base.observe.length; o++) {
    const ob = base.observe[o]!;
    const procs = Object.keys(ob.pages[0]?.procs ?? {});
    const views = runs.map((r) => sharing_view(r.observe[o]!.pages, procs));
    for (let i = 0; i < ob.pages.length; i++) {
      for (const name of procs) {
        d.cells++;
        const cells = runs.map((r) => r.observe[o]!.pages[i]!.procs[name] ?? null);
        const c0 = cells[0]!;
        const key = `${ob.pages[i]!.index}:${name}`;
        const differs = (f: (c: KernelPage) => unknown): boolean => cells.some((c) => (c === null) !== (c0 === null) || (c !== null && c0 !== null && f(c) !== f(c0)));
        if (cells.some((c) => (c === null) !== (c0 === null))) d.differing.mapped++;
        if (differs((c) => c.kpagecount)) d.differing.kpagecount++;
        if (differs((c) => c.thp)) d.differing.thp++;
        if (differs((c) => c.compound)) d.differing.compound++;
        if (differs((c) => c.folioPages)) d.differing.folioPages++;
        if (differs((c) => c.pfn)) d.differing.pfn++;
        if (views.some((v) => v.pfnRep.get(key) !== views[0]!.pfnRep.get(key) || v.folioRep.get(key) !== views[0]!.folioRep.get(key))) d.differing.sharing++;
      }
    }
  }
  return d;
}

/** Checks the shape of a recorded fixture; returns the first problem or null. */
export function result_problem(v: unknown): string | null {
  if (typeof v !== 'object' || v === null) return 'not an object';
  const r = v as Partial<ProbeResult>;
  if (r.schema !== PROBE_SCHEMA) return `schema is ${JSON.stringify(r.schema)}, expected ${PROBE_SCHEMA}`;
  if (typeof r.kernel !== 'string' || typeof r.workload !== 'string') return 'kernel and workload must be strings';
  if (!Array.isArray(r.observe)) return 'observe must be a list';
  for (const [i, o] of r.observe.entries()) {
    if (typeof o.label !== 'string' || !Array.isArray(o.pages)) return `observe[${i}] needs a label and pages`;
    for (const p of o.pages) {
      for (const [name, c] of Object.entries(p.procs)) {
        if (c === null) continue;
        if (!Number.isSafeInteger(c.pfn) || !Number.isSafeInteger(c.kpagecount) || typeof c.thp !== 'boolean') {
          return `observe[${i}] "${o.label}" page ${p.index} proc ${name}: pfn, kpagecount and thp are required`;
        }
      }
    }
  }
  return null;
}

/** JSON with one observed page per line: small diffs between recordings, readable fixtures. */
export function result_stringify(r: ProbeResult): string {
  const { observe, ...head } = r;
  const top = JSON.stringify(head, null, 1).slice(0, -2);
  const obs = observe.map((o) => {
    const { pages, ...meta } = o;
    const m = JSON.stringify(meta).slice(0, -1);
    return `  ${m},"pages":[\n${pages.map((p) => `   ${JSON.stringify(p)}`).join(',\n')}\n  ]}`;
  });
  return `${top},\n "observe": [\n${obs.join(',\n')}\n ]\n}\n`;
}
