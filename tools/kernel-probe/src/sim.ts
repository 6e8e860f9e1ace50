/**
 * The same workload through the simulator: @foliolab/workloads' runner driving @foliolab/vm's step
 * handlers, with the per-page policy or the upstream policy (CONFIG_PAGE_MAPCOUNT on). Each observe record
 * is the vm's (PFN, the policy's page mapcount, the oracle's) plus the folio facts /proc/kpageflags gives the
 * kernel side: THP-ness, head/tail and folio size.
 */
import { Memmap, PageType } from '@foliolab/memmap';
import { StructPageLayout } from '@foliolab/layout-struct-page';
import { createPolicy as perPagePolicy } from '@foliolab/mapcount-per-page';
import { createPolicy as upstreamPolicy } from '@foliolab/mapcount-upstream';
import { vm_compose, vmSteps, type MapcountPolicy, type Vm } from '@foliolab/vm';
import { runWorkload, type Target, type TargetOp, type Workload } from '@foliolab/workloads';
import { PROBE_OPS } from './plan.js';

/** The policies whose page mapcount must equal /proc/kpagecount on a CONFIG_PAGE_MAPCOUNT=y kernel. */
export const SIM_POLICIES = ['per-page', 'upstream'] as const;
/** Plus upstream with CONFIG_NO_PAGE_MAPCOUNT: no per-page count for large folios (a control: it must differ). */
export type SimPolicy = (typeof SIM_POLICIES)[number] | 'upstream-no-page-mapcount';

export interface SimPage {
  pfn: number;
  /** The policy's page mapcount (null where it has none). */
  page: number | null;
  /** The oracle's page mapcount: PTEs mapping the page plus PMD maps of its folio. */
  oracle: number;
  thp: boolean;
  compound: 'head' | 'tail' | 'none';
  folioPages: number;
}

export interface SimObserve {
  label: string;
  pages: { index: number; procs: Record<string, SimPage | null> }[];
}

function policy_create(p: SimPolicy): MapcountPolicy {
  return p === 'per-page' ? perPagePolicy() : upstreamPolicy({ pageMapcount: p === 'upstream' });
}

/** The kpageflags view of a simulated page: KPF_THP for large anon folios and the huge zero page. */
function folio_facts(vm: Vm, pfn: number): Pick<SimPage, 'thp' | 'compound' | 'folioPages'> {
  if (pfn === vm.hugeZeroPfn) return { thp: true, compound: pfn % 512 === 0 ? 'head' : 'tail', folioPages: 512 };
  const t = vm.layout.page_type(pfn);
  if (t !== PageType.anon && t !== PageType.file) return { thp: false, compound: 'none', folioPages: 1 };
  const f = vm.layout.page_object(pfn);
  const nr = vm.memmap.folio_nr_pages(f);
  if (nr === 1) return { thp: false, compound: 'none', folioPages: 1 };
  return { thp: true, compound: vm.memmap.folio_pfn(f) === pfn ? 'head' : 'tail', folioPages: nr };
}

/** Runs the workload in the simulator; returns its observe records with folio facts. */
export function simulate(w: Workload, policy: SimPolicy): SimObserve[] {
  const memmap = new Memmap({ layout: new StructPageLayout(), memory: w.machine.memory });
  const composed = vm_compose({ memmap, policy: policy_create(policy), thp: w.machine.thp, mthp: w.machine.mthp, debugVm: w.machine.debugVm ?? false });
  if (!composed.ok) throw new Error(`${policy}: refused by the layout: ${composed.refusals.map((r) => `${r.field}: ${r.reason}`).join('; ')}`);
  const vm = composed.vm;
  const steps = vmSteps(vm);
  const target: Target = {};
  for (const op of PROBE_OPS) {
    if (op === 'observe') continue;
    (target as Record<string, (a: Record<string, unknown>) => void>)[op satisfies TargetOp] = (a) => void steps.run(op, a);
  }
  target.observe = (a) => {
    const rec = steps.run('observe', a as unknown as Record<string, unknown>)!;
    const out: SimObserve = { label: rec.label, pages: [] };
    for (const p of rec.pages) {
      const procs: Record<string, SimPage | null> = {};
      for (const [name, c] of Object.entries(p.procs)) procs[name] = c === null ? null : { pfn: c.pfn, page: c.page, oracle: c.oracle.page, ...folio_facts(vm, c.pfn) };
      out.pages.push({ index: p.index, procs });
    }
    return out;
  };
  const run = runWorkload(w, target, { targetName: `vm (${policy})` });
  return run.observe.map((o) => o.data as SimObserve);
}
