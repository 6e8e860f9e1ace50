/**
 * Kernel vs simulator, page for page. PFNs differ between the two machines, so PFN values are never
 * compared; what is compared per cell (observe × page × process):
 *   - mapped: both sides map something there, or neither does;
 *   - mapcount: the simulator's page mapcount equals /proc/kpagecount (CONFIG_PAGE_MAPCOUNT=y:
 *     folio_precise_page_mapcount() = page _mapcount + 1 + entire mapcount);
 *   - thp, compound (head/tail/none) and folio size;
 *   - sharing: cells that hold one PFN in the kernel hold one PFN in the simulator and vice versa, and
 *     likewise for folios (representative cells, see sharing_view()).
 */
import { sharing_view, type KernelObserve, type KernelPage, type ProbeResult } from './result.js';
import type { SimObserve, SimPage } from './sim.js';

export const CHECKS = ['mapped', 'mapcount', 'thp', 'compound', 'folioPages', 'sharing'] as const;
export type Check = (typeof CHECKS)[number];

export interface CellMismatch {
  label: string;
  index: number;
  proc: string;
  checks: Check[];
  kernel: KernelPage | null;
  sim: SimPage | null;
}

export interface ObserveComparison {
  label: string;
  /** Cells (page × process) compared. */
  cells: number;
  /** Cells mapped on the kernel side (the pages whose kpagecount was compared). */
  mapped: number;
  /** Cells where every check agrees. */
  matches: number;
  /** Per check, the cells where it failed. */
  failed: Record<Check, number>;
}

export interface Comparison {
  workload: string;
  observes: ObserveComparison[];
  cells: number;
  matches: number;
  /** The first mismatching cells (at most `limit`). */
  mismatches: CellMismatch[];
  /** A problem with the records themselves (different observe labels, page counts or processes); null if none. */
  structural: string | null;
}

/** Which value the simulator contributes as "page mapcount": the policy's answer (default) or the oracle's. */
export type SimCount = 'policy' | 'oracle';

function procs_of(o: KernelObserve | SimObserve): string[] {
  return Object.keys(o.pages[0]?.procs ?? {});
}

/**
 * Compares a kernel probe result with the simulator's observe records of the same workload.
 * `simCount` picks the policy's page mapcount (what is being validated) or the oracle's.
 */
export function compareProbeWithSim(probe: ProbeResult, simObserve: readonly SimObserve[], opts: { simCount?: SimCount; limit?: number } = {}): Comparison {
  const simCount = opts.simCount ?? 'policy';
  const limit = opts.limit ?? 20;
  const out: Comparison = { workload: probe.workload, observes: [], cells: 0, matches: 0, mismatches: [], structural: null };
  if (probe.observe.length !== simObserve.length) {
    out.structural = `the kernel recorded ${probe.observe.length} observes, the simulator ${simObserve.length}`;
    return out;
  }
  for (let o = 0; o < probe.observe.length; o++) {
    const k = probe.observe[o]!;
    const s = simObserve[o]!;
    const procs = procs_of(k);
    if (k.label !== s.label) {
      out.structural = `observe ${o}: label "${k.label}" in the kernel record, "${s.label}" in the simulator's`;
      return out;
    }
    if (k.pages.length !== s.pages.length || procs.join(',') !== procs_of(s).join(',')) {
      out.structural = `observe "${k.label}": kernel has ${k.pages.length} pages of [${procs.join(', ')}], simulator ${s.pages.length} of [${procs_of(s).join(', ')}]`;
      return out;
    }
    const kv = sharing_view(k.pages, procs);
    const sv = sharing_view(s.pages.map((p) => ({ index: p.index, procs: Object.fromEntries(Object.entries(p.procs).map(([n, c]) => [n, c === null ? null : { pfn: c.pfn, folioPages: c.folioPages }])) })), procs);
    const oc: ObserveComparison = { label: k.label, cells: 0, mapped: 0, matches: 0, failed: { mapped: 0, mapcount: 0, thp: 0, compound: 0, folioPages: 0, sharing: 0 } };
    for (let i = 0; i < k.pages.length; i++) {
      const kp = k.pages[i]!;
      const sp = s.pages[i]!;
      for (const proc of procs) {
        const kc = kp.procs[proc] ?? null;
        const sc = sp.procs[proc] ?? null;
        const key = `${kp.index}:${proc}`;
        const failed: Check[] = [];
        oc.cells++;
        if (kc !== null) oc.mapped++;
        if ((kc === null) !== (sc === null)) failed.push('mapped');
        else if (kc !== null && sc !== null) {
          const count = simCount === 'policy' ? sc.page : sc.oracle;
          if (count !== kc.kpagecount) failed.push('mapcount');
          if (sc.thp !== kc.thp) failed.push('thp');
          if (sc.compound !== kc.compound) failed.push('compound');
          if (sc.folioPages !== kc.folioPages) failed.push('folioPages');
          if (kv.pfnRep.get(key) !== sv.pfnRep.get(key) || kv.folioRep.get(key) !== sv.folioRep.get(key)) failed.push('sharing');
        }
        for (const f of failed) oc.failed[f]++;
        if (failed.length === 0) oc.matches++;
        else if (out.mismatches.length < limit) out.mismatches.push({ label: k.label, index: kp.index, proc, checks: failed, kernel: kc, sim: sc });
      }
    }
    out.observes.push(oc);
    out.cells += oc.cells;
    out.matches += oc.matches;
  }
  return out;
}

/** One line per mismatch, for test failure messages and the CLI. */
export function comparison_describe(c: Comparison): string {
  if (c.structural) return `${c.workload}: ${c.structural}`;
  const head = `${c.workload}: ${c.matches}/${c.cells} cells match`;
  const lines = c.mismatches.map((m) => {
    const k = m.kernel ? `kpagecount ${m.kernel.kpagecount}, ${m.kernel.thp ? 'thp' : 'small'} ${m.kernel.compound} of ${m.kernel.folioPages}` : 'unmapped';
    const s = m.sim ? `page ${m.sim.page} (oracle ${m.sim.oracle}), ${m.sim.thp ? 'thp' : 'small'} ${m.sim.compound} of ${m.sim.folioPages}` : 'unmapped';
    return `  ${m.label} page ${m.index} ${m.proc}: ${m.checks.join('+')}: kernel ${k}; simulator ${s}`;
  });
  return [head, ...lines].join('\n');
}
