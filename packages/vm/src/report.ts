import { PFN_SECTION_SHIFT, PageType, is_refusal, type LayoutBytes } from '@foliolab/memmap';
import type { VmMetrics } from './metrics.js';
import type { PolicyStats } from './policy.js';
import type { Vm } from './vm.js';

export interface VmReport {
  policy: string;
  layout: string;
  metrics: VmMetrics;
  policyCost: PolicyStats;
  metadata: {
    /** Each field the policy declared, where the layout put it, and what it costs. */
    fields: Array<{ owner: string; name: string; scope: string; words: number; where: string; bytesPerUnit: number }>;
    /** Bytes the policy's fields occupy in the simulated kernel now (words × 4 × live units), wherever they live. */
    fieldBytes: number;
    /** Bytes the layout had to add for them (extra arrays, grown descriptors). */
    chargedBytes: number;
  };
  folios: { small: number; large: number };
  pagetablePages: number;
  deferredQueue: number;
  pins: number;
  memmap: LayoutBytes;
}

/**
 * The vm's figures at this moment, as plain data for the runner: the scored metrics, the policy's
 * costs and the measured metadata bytes (counting live folios with a scan of the memmap: O(PFNs)).
 */
export function vm_report(vm: Vm): VmReport {
  let small = 0;
  let large = 0;
  const layout = vm.layout;
  const mm0 = vm.memmap;
  for (let s = 0; s < mm0.sections; s++) {
    if (!layout.section_online(s)) continue;
    const end = Math.min((s + 1) << PFN_SECTION_SHIFT, mm0.pfns);
    for (let pfn = s << PFN_SECTION_SHIFT; pfn < end; ) {
      const t = layout.page_type(pfn);
      if (t !== PageType.anon && t !== PageType.file && t !== PageType.ksm) {
        pfn++;
        continue;
      }
      const nr = mm0.folio_nr_pages(layout.page_object(pfn));
      if (nr > 1) large++;
      else small++;
      pfn += nr;
    }
  }
  const fields: VmReport['metadata']['fields'] = [];
  let fieldBytes = 0;
  let chargedBytes = 0;
  for (const p of vm.placements) {
    if (is_refusal(p)) continue;
    const words = p.decl.words ?? 1;
    const units = p.decl.scope === 'page' ? mm0.pfns : p.decl.scope === 'folio' ? small + large : p.decl.scope === 'global' ? (p.decl.length ?? 1) : large;
    fieldBytes += words * 4 * units;
    const perPfn = p.where.startsWith('extra per-PFN');
    chargedBytes += p.bytesPerUnit * (perPfn || p.decl.scope === 'page' ? mm0.pfns : p.decl.scope === 'global' ? 1 : small + large);
    fields.push({ owner: p.decl.owner, name: p.decl.name, scope: p.decl.scope, words, where: p.where, bytesPerUnit: p.bytesPerUnit });
  }
  return {
    policy: vm.policy.name,
    layout: layout.name,
    metrics: structuredClone(vm.metrics),
    policyCost: { ...vm.policy.stats },
    metadata: { fields, fieldBytes, chargedBytes },
    folios: { small, large },
    pagetablePages: vm.pt.live,
    deferredQueue: vm.deferred.size,
    pins: vm.pins.length,
    memmap: mm0.bytes(),
  };
}
