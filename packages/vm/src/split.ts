import { PageType, field_add, field_set, field_set_word } from '@foliolab/memmap';
import { E_HUGE, E_PRESENT, E_WRITE, PMD_SIZE, PTRS } from './pagetable.js';
import type { Mm } from './mm.js';
import type { Vma } from './vma.js';
import type { Vm } from './vm.js';

const PAGE = 4096;

/** One present entry mapping a folio, found by the rmap walk. */
interface Mapping {
  mm: Mm;
  vma: Vma;
  /** Index in pt.ent of the PTE (or of the PMD entry when pmd). */
  at: number;
  pfn: number;
  write: number;
  pmd: boolean;
}

/**
 * rmap_walk_anon(): every entry mapping a page of an anonymous folio, in every process. An anon
 * folio's page i can only sit at linear index folio->index + i, so in each VMA with an anon_vma the
 * candidate addresses follow from vm_pgoff; the PFN in the entry confirms the match.
 */
export function rmap_walk(vm: Vm, folio: number): Mapping[] {
  const head = vm.memmap.folio_pfn(folio);
  const nr = vm.memmap.folio_nr_pages(folio);
  const idx = vm.folio_index(folio);
  const out: Mapping[] = [];
  const ent = vm.pt.ent;
  for (const mm of vm.mms.values()) {
    for (const vma of mm.vmas) {
      if (vma.anonVma === 0) continue;
      const a = Math.max(vma.start + (idx - vma.pgoff) * PAGE, vma.start);
      const b = Math.min(vma.start + (idx - vma.pgoff + nr) * PAGE, vma.end);
      for (let va = a; va < b; ) {
        const pmdn = Math.floor(va / PMD_SIZE);
        const stop = Math.min(b, (pmdn + 1) * PMD_SIZE);
        const loc = vm.pmd_loc(mm, pmdn, false);
        if (loc >= 0 && ent[loc] !== 0) {
          const e = ent[loc]!;
          if (e & E_HUGE) {
            if (e >>> 4 === head) out.push({ mm, vma, at: loc, pfn: head, write: e & E_WRITE, pmd: true });
          } else {
            const base = (e >>> 4) * PTRS;
            for (let x = va; x < stop; x += PAGE) {
              const at = base + ((x / PAGE) & 511);
              const pe = ent[at]!;
              const p = pe >>> 4;
              if (pe !== 0 && p >= head && p < head + nr) out.push({ mm, vma, at, pfn: p, write: pe & E_WRITE, pmd: false });
            }
          }
        }
        va = stop;
      }
    }
  }
  return out;
}

/**
 * split_folio() to order 0, as deferred_split_scan() does: can_split_folio() compares the policy's
 * folio_mapcount() with the refcount (a pinned folio, or a policy whose mapcount is not the number of
 * mappings, cannot be split); PMD maps are split first; then the folio is unmapped, its pages become
 * small folios, the mappings are restored (remap_page) and unmapped pages are freed.
 * Returns true if the folio was split.
 */
export function split_folio(vm: Vm, folio: number): boolean {
  const mm0 = vm.memmap;
  const nr = mm0.folio_nr_pages(folio);
  if (nr === 1) return true;
  const ref = mm0.folio_ref_count(folio);
  const mc = vm.policy.folio_mapcount(folio);
  if (mc !== ref) {
    vm.metrics.split.folioSplitFailed++;
    return false;
  }
  const head = mm0.folio_pfn(folio);
  const index = vm.folio_index(folio);
  for (const m of rmap_walk(vm, folio)) if (m.pmd) vm.split_huge_pmd(m.mm, m.vma, m.at);
  const maps = rmap_walk(vm, folio);
  // unmap_folio(): the caller holds a reference, the mappings give theirs back.
  mm0.folio_ref_add(folio, 1);
  const ent = vm.pt.ent;
  for (const m of maps) {
    ent[m.at] = 0;
    vm.oracle.unmap_ptes(m.pfn, 1, head, true, m.mm.id);
    vm.policy.folio_remove_rmap_ptes(folio, m.pfn, 1, m.vma, Math.floor(m.at / PTRS));
    field_add(vm.core.refcount, folio, -1);
  }
  vm.deferred.delete(folio);
  field_set_word(vm.deferredList, folio, 0, 0);
  // __split_folio_to_order(): every page becomes an order-0 folio with the index it had.
  const layout = vm.layout;
  layout.object_destroy(PageType.anon, folio);
  const ids = new Int32Array(nr);
  for (let j = 0; j < nr; j++) {
    const id = layout.object_create(PageType.anon, head + j, 1);
    ids[j] = id;
    field_set(vm.core.refcount, id, 0);
    vm.folio_set_index(id, index + j);
  }
  // remap_page(): each mapping comes back, reference first, then the rmap.
  for (const m of maps) {
    const id = ids[m.pfn - head]!;
    field_add(vm.core.refcount, id, 1);
    vm.policy.folio_add_rmap_ptes(id, m.pfn, 1, m.vma, Math.floor(m.at / PTRS));
    vm.oracle.map_ptes(m.pfn, 1, m.pfn, false, m.mm.id);
    ent[m.at] = m.pfn * 16 + E_PRESENT + m.write;
  }
  for (let j = 0; j < nr; j++) {
    if (mm0.folio_ref_count(ids[j]!) === 0) {
      mm0.free_object(PageType.anon, ids[j]!);
      mm0.counters.folio_free++;
    }
  }
  vm.metrics.split.folioSplit++;
  return true;
}

/** deferred_split_scan(): split every queued (partially mapped) folio. Returns how many were split. */
export function deferred_split_scan(vm: Vm): number {
  let n = 0;
  // A folio that cannot be split now (pinned, or its mapcount does not match) stays queued.
  for (const folio of [...vm.deferred]) if (split_folio(vm, folio)) n++;
  return n;
}
