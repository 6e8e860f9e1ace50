import { HPAGE_PMD_NR, HPAGE_PMD_ORDER, PageType } from '@foliolab/memmap';
import { score_bool } from './metrics.js';
import type { Mm } from './mm.js';
import { E_HUGE, E_PRESENT, E_WRITE, PMD_SIZE, PTRS } from './pagetable.js';
import { RMAP_PMD } from './policy.js';
import type { Vm } from './vm.js';

/** khugepaged_max_ptes_shared default: HPAGE_PMD_NR / 2. */
export const KHUGEPAGED_MAX_PTES_SHARED = 256;

/**
 * MADV_COLLAPSE over [start, start+len): every 2 MiB-aligned range inside one anonymous VMA whose
 * PMD points to a PTE table is collapsed into a new PMD-mapped THP (collapse_huge_page(): the old
 * pages are copied and unmapped, the emptied PTE table becomes the deposited one).
 *
 * On the way, khugepaged's max_ptes_shared test is asked of the policy (a PTE counts as shared when
 * the policy says so) and scored against the oracle (a page mapped by more than one mm); MADV_COLLAPSE
 * itself ignores the limit. A folio whose refcount is not what the policy's mapcount predicts
 * (is_refcount_suitable(): pinned, or a mapcount that does not count mappings) blocks the collapse.
 * Returns the number of ranges collapsed.
 */
export function madvise_collapse(vm: Vm, mm: Mm, start: number, len: number): number {
  let done = 0;
  const mm0 = vm.memmap;
  for (let s = Math.ceil(start / PMD_SIZE) * PMD_SIZE; s + PMD_SIZE <= start + len; s += PMD_SIZE) {
    const vma = mm.find_vma(s);
    if (vma === undefined || !vma.anon || vma.end < s + PMD_SIZE) continue;
    const loc = vm.pmd_loc(mm, s / PMD_SIZE, false);
    if (loc < 0) continue;
    const e = vm.pt.ent[loc]!;
    if (e === 0 || e & E_HUGE) continue;
    const slot = e >>> 4;
    const base = slot * PTRS;
    let sharedPolicy = 0;
    let sharedTruth = 0;
    let suitable = true;
    let present = 0;
    for (let i = 0; i < PTRS; i++) {
      const pe = vm.pt.ent[base + i]!;
      if (pe === 0) continue;
      const pfn = pe >>> 4;
      if (pfn === vm.zeroPfn) continue;
      present++;
      const folio = mm0.page_folio(pfn);
      if (mm0.folio_type(folio) !== PageType.anon) {
        suitable = false;
        continue;
      }
      const head = mm0.folio_pfn(folio);
      if (vm.policy.pte_maybe_shared(folio, pfn)) sharedPolicy++;
      if (vm.oracle.page_mapcount(pfn, head) > 1) sharedTruth++;
      if (vm.policy.folio_mapcount(folio) !== mm0.folio_ref_count(folio)) suitable = false;
    }
    score_bool(vm.metrics.queries.khugepaged_shared, sharedPolicy > KHUGEPAGED_MAX_PTES_SHARED, sharedTruth > KHUGEPAGED_MAX_PTES_SHARED);
    if (!suitable || present === 0) {
      vm.metrics.split.collapseFailed++;
      continue;
    }
    const folio = mm0.folio_alloc(HPAGE_PMD_ORDER, PageType.anon);
    if (folio < 0) {
      vm.metrics.oom++;
      continue;
    }
    vm.zap_pte_range(mm, vma, slot, s, s + PMD_SIZE);
    vm.deposit.set(loc, slot);
    const head = mm0.folio_pfn(folio);
    vm.folio_set_index(folio, vma.page_index(s));
    vm.pae_set_range(head, 1, true);
    vm.policy.folio_add_new_anon_rmap(folio, RMAP_PMD, vma, Math.floor(loc / PTRS));
    vm.oracle.map_pmd(head, mm.id);
    vm.pt.ent[loc] = head * 16 + E_PRESENT + E_HUGE + (vma.writable() ? E_WRITE : 0);
    mm.rssAnon += HPAGE_PMD_NR;
    vm.metrics.split.collapse++;
    done++;
  }
  return done;
}
