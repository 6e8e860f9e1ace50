import { PAGES_PER_SECTION, PFN_SECTION_SHIFT } from './constants.js';
import { NR_PAGE_TYPES, PAGE_TYPE_NAMES, PageType } from './memdesc.js';
import { VmBug, type Memmap } from './memmap.js';
import { PCP_FLAG } from './buddy.js';

/**
 * CONFIG_DEBUG_VM for the memmap: walk every initialized section and prove the conservation
 * invariant. Every present PFN is either in exactly one free buddy block (whose first page is on
 * the free list at the position it records) or in exactly one allocated object (whose pages all
 * resolve to it); nothing is both, nothing is neither, and the per-type page counts agree.
 * O(PFNs): for tests and --debug-vm, not for hot paths.
 */
export function memmap_check(mm: Memmap): void {
  const layout = mm.layout;
  const counted = new Float64Array(NR_PAGE_TYPES);
  const listed = new Map<number, number>();
  let listedCount = 0;
  mm.buddy.for_each_free_block((pfn, order, pos) => {
    if (layout.buddy_order(pfn) !== order) throw new VmBug(`memmap_check: free list ${order} holds pfn ${pfn} whose page says order ${layout.buddy_order(pfn)}`);
    if (layout.buddy_pos(pfn) !== pos) throw new VmBug(`memmap_check: pfn ${pfn} records position ${layout.buddy_pos(pfn)} but sits at ${pos}`);
    listed.set(pfn, order);
    listedCount++;
  });
  const deferred = new Set(mm.buddy.deferred_sections());
  let free = 0;
  let used = 0;
  let heads = 0;
  for (let s = 0; s < mm.sections; s++) {
    const start = s << PFN_SECTION_SHIFT;
    const end = Math.min(start + PAGES_PER_SECTION, mm.pfns);
    if (deferred.has(s)) {
      if (layout.section_online(s)) throw new VmBug(`memmap_check: section ${s} is deferred but online`);
      free += end - start;
      continue;
    }
    if (!layout.section_online(s)) throw new VmBug(`memmap_check: section ${s} is neither deferred nor online`);
    let pfn = start;
    while (pfn < end) {
      const stored = layout.buddy_order(pfn);
      if (stored >= 0) {
        const order = stored & ~PCP_FLAG;
        const n = 1 << order;
        if ((pfn & (n - 1)) !== 0) throw new VmBug(`memmap_check: free block at ${pfn} is not aligned to order ${order}`);
        if (listed.get(pfn) !== stored) throw new VmBug(`memmap_check: free block at ${pfn} order ${order}${stored & PCP_FLAG ? ' (per-cpu)' : ''} is not on its list`);
        for (let j = 1; j < n; j++) {
          if (layout.buddy_order(pfn + j) >= 0 || layout.page_type(pfn + j) !== PageType.none) {
            throw new VmBug(`memmap_check: pfn ${pfn + j} inside free block ${pfn}/${order} is also in use`);
          }
        }
        if (layout.free_page_bad_reason !== undefined) {
          for (let j = 0; j < n; j++) {
            const bad = layout.free_page_bad_reason(pfn + j);
            if (bad !== null) throw new VmBug(`memmap_check: free pfn ${pfn + j} (block ${pfn}/${order}): ${bad}`);
          }
        }
        heads++;
        free += n;
        pfn += n;
        continue;
      }
      const t = layout.page_type(pfn);
      if (t === PageType.none) throw new VmBug(`memmap_check: pfn ${pfn} is neither free nor in use (leaked)`);
      const id = layout.page_object(pfn);
      const head = layout.object_pfn(t, id);
      const n = layout.object_nr_pages(t, id);
      if (head !== pfn) throw new VmBug(`memmap_check: pfn ${pfn} (${PAGE_TYPE_NAMES[t]}) belongs to an object starting at ${head}, not to the one starting here`);
      for (let j = 1; j < n; j++) {
        if (layout.page_object(pfn + j) !== id || layout.page_type(pfn + j) !== t) throw new VmBug(`memmap_check: tail pfn ${pfn + j} does not resolve to its head ${pfn}`);
      }
      counted[t]! += n;
      used += n;
      pfn += n;
    }
  }
  if (heads !== listedCount) throw new VmBug(`memmap_check: ${listedCount} blocks on free lists but ${heads} free blocks in the memmap`);
  if (free !== mm.buddy.nr_free_pages()) throw new VmBug(`memmap_check: ${free} free pages found, allocator says ${mm.buddy.nr_free_pages()}`);
  if (free + used !== mm.pfns) throw new VmBug(`memmap_check: free ${free} + used ${used} != ${mm.pfns} PFNs`);
  counted[PageType.buddy]! += free;
  for (let t = 0; t < NR_PAGE_TYPES; t++) {
    if (counted[t] !== mm.pagesByType[t]) throw new VmBug(`memmap_check: ${PAGE_TYPE_NAMES[t]} pages counted ${counted[t]}, accounted ${mm.pagesByType[t]}`);
  }
}
