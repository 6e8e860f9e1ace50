import { PAGE_SIZE, PageType } from '@foliolab/memmap';
import { score_bool, score_num } from './metrics.js';
import type { Mm } from './mm.js';
import type { Vm } from './vm.js';

/** What one process maps at one page of an observed range. */
export interface ObservedPage {
  pfn: number;
  /** The policy's per-page mapcount (null where it has none). */
  page: number | null;
  /** The policy's folio mapcount (null where it has none). */
  folio: number | null;
  /** The truth: the kernel's per-page mapcount and folio_mapcount() (entries mapping any part). */
  oracle: { page: number; folio: number };
}

export interface ObserveRecord {
  label: string;
  pages: Array<{ index: number; procs: Record<string, ObservedPage | null> }>;
}

/**
 * The `observe` step: per page of [offset, offset+size) of a region, for each process, the PFN it
 * maps there and the policy's and the oracle's counts. A process that maps nothing there (or has no
 * such region) gets null. The queries asked are scored, each folio once per observation.
 */
export function vm_observe(vm: Vm, label: string, procs: readonly Mm[], region: string, offset: number, size: number): ObserveRecord {
  const first = offset - (offset % PAGE_SIZE);
  const n = Math.ceil((offset + size - first) / PAGE_SIZE);
  const pages: ObserveRecord['pages'] = [];
  const seen = new Set<number>();
  const pol = vm.policy;
  const q = vm.metrics.queries;
  for (let i = 0; i < n; i++) {
    const row: Record<string, ObservedPage | null> = {};
    for (const mm of procs) {
      const r = mm.regions.get(region);
      const va = r === undefined ? -1 : r.start + first + i * PAGE_SIZE;
      const pfn = va < 0 || !mm.find_vma(va) ? -1 : vm.follow_page(mm, va);
      if (pfn < 0) {
        row[mm.name] = null;
        continue;
      }
      const t = vm.layout.page_type(pfn);
      if (t !== PageType.anon && t !== PageType.file && t !== PageType.ksm) {
        row[mm.name] = { pfn, page: 0, folio: 0, oracle: { page: 0, folio: 0 } };
        continue;
      }
      const f = vm.layout.page_object(pfn);
      const head = vm.memmap.folio_pfn(f);
      const nr = vm.memmap.folio_nr_pages(f);
      const o = { page: vm.oracle.page_mapcount(pfn, head), folio: vm.oracle.folio_mapcount(head, nr) };
      const page = pol.page_mapcount(f, pfn);
      const folio = pol.folio_mapcount(f);
      if (page !== null) score_num(q.page_mapcount, page, o.page);
      if (!seen.has(f)) {
        seen.add(f);
        if (folio !== null) score_num(q.folio_mapcount, folio, o.folio);
        score_bool(q.mapped, pol.folio_mapped(f), o.folio > 0);
        score_bool(q.maybe_mapped_shared, pol.folio_maybe_mapped_shared(f), vm.oracle.folio_mms(head, nr, nr > 1 || t !== PageType.anon) > 1);
        const partial = pol.folio_partially_mapped(f);
        if (partial !== null) score_bool(q.partially_mapped, partial, vm.oracle.folio_partially_mapped(head, nr));
      }
      row[mm.name] = { pfn, page, folio, oracle: o };
    }
    pages.push({ index: i, procs: row });
  }
  return { label, pages };
}

export interface SmapsFigures {
  rss: number;
  /** Proportional set size in bytes (PSS_SHIFT fixed point resolved). */
  pss: number;
  private: number;
  shared: number;
}

/**
 * smaps_rollup of one process, as the policy computes it (smaps_account(): PSS divides each page by
 * its mapcount; a page is private when the policy says it is mapped exclusively) and as the oracle
 * does (per-page mapcount from the page tables). Each page's (mapcount, exclusive) is scored.
 */
export function vm_smaps(vm: Vm, mm: Mm): { policy: SmapsFigures; oracle: SmapsFigures } {
  const p: SmapsFigures = { rss: 0, pss: 0, private: 0, shared: 0 };
  const o: SmapsFigures = { rss: 0, pss: 0, private: 0, shared: 0 };
  const q = vm.metrics.queries.smaps;
  for (const vma of mm.vmas) {
    for (let va = vma.start; va < vma.end; va += PAGE_SIZE) {
      const pfn = vm.follow_page(mm, va);
      if (pfn < 0) continue;
      const t = vm.layout.page_type(pfn);
      if (t !== PageType.anon && t !== PageType.file) continue;
      const f = vm.layout.page_object(pfn);
      const head = vm.memmap.folio_pfn(f);
      const s = vm.policy.smaps_page(f, pfn);
      const tm = vm.oracle.page_mapcount(pfn, head);
      const texcl = tm < 2;
      score_bool(q, s.mapcount === tm && s.exclusive === texcl, true);
      p.rss += PAGE_SIZE;
      o.rss += PAGE_SIZE;
      p.pss += s.mapcount >= 2 ? PAGE_SIZE / s.mapcount : PAGE_SIZE;
      o.pss += tm >= 2 ? PAGE_SIZE / tm : PAGE_SIZE;
      if (s.exclusive) p.private += PAGE_SIZE;
      else p.shared += PAGE_SIZE;
      if (texcl) o.private += PAGE_SIZE;
      else o.shared += PAGE_SIZE;
    }
  }
  p.pss = Math.round(p.pss);
  o.pss = Math.round(o.pss);
  return { policy: p, oracle: o };
}
