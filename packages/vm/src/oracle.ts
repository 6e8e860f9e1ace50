import type { PageState } from './page-state.js';

/**
 * The truth about mappings, kept by the page-table primitives themselves: every time the vm writes or
 * clears a present entry that maps a folio it tells the oracle, so the oracle cannot disagree with
 * the page tables (and vm_check() proves it by recounting them from scratch).
 *
 * - PTEs mapping each page: in the vm's PageState byte per PFN (state.ptes(pfn)).
 * - pmds[head]: PMD entries mapping the folio.
 * - per (folio, mm): entries of that mm mapping the folio, and per folio the number of distinct mms.
 *   Kept for large and file folios only: a small anonymous page is mapped at most once per mm (its
 *   address in an mm follows from its index), so for it "distinct mms" is its PTE count.
 *
 * Definitions (the kernel's): page mapcount = PTEs mapping the page + PMD maps of its folio;
 * folio mapcount = page-table entries mapping any part of the folio; mapped shared = mapped by more
 * than one mm.
 */
export class Oracle {
  readonly pmds = new Map<number, number>();
  readonly perMm = new Map<number, number>();
  readonly mms = new Map<number, number>();

  constructor(readonly state: PageState) {}

  private mm_add(head: number, mm: number, d: number): void {
    const key = head * 1048576 + mm;
    const v = (this.perMm.get(key) ?? 0) + d;
    if (v === 0) {
      this.perMm.delete(key);
      const n = this.mms.get(head)! - 1;
      if (n === 0) this.mms.delete(head);
      else this.mms.set(head, n);
    } else {
      if (v === d) this.mms.set(head, (this.mms.get(head) ?? 0) + 1);
      this.perMm.set(key, v);
    }
  }

  /** nr PTEs now map pages pfn..pfn+nr-1 of the folio starting at head. `tracked`: large or file folio. */
  map_ptes(pfn: number, nr: number, head: number, tracked: boolean, mm: number): void {
    this.state.ptes_inc(pfn, nr);
    if (tracked) this.mm_add(head, mm, nr);
  }

  /** map_ptes() of one PTE mapping a small anonymous folio (untracked per mm): the fault path. */
  map_pte_small(pfn: number): void {
    this.state.ptes_inc(pfn, 1);
  }

  unmap_ptes(pfn: number, nr: number, head: number, tracked: boolean, mm: number): void {
    this.state.ptes_dec(pfn, nr);
    if (tracked) this.mm_add(head, mm, -nr);
  }

  map_pmd(head: number, mm: number): void {
    this.pmds.set(head, (this.pmds.get(head) ?? 0) + 1);
    this.mm_add(head, mm, 1);
  }

  unmap_pmd(head: number, mm: number): void {
    const v = this.pmds.get(head)! - 1;
    if (v === 0) this.pmds.delete(head);
    else this.pmds.set(head, v);
    this.mm_add(head, mm, -1);
  }

  /** PTEs mapping the page. */
  pte_count(pfn: number): number {
    return this.state.ptes(pfn);
  }

  page_mapcount(pfn: number, head: number): number {
    return this.state.ptes(pfn) + (this.pmds.get(head) ?? 0);
  }

  folio_mapcount(head: number, nr: number): number {
    let n = this.pmds.get(head) ?? 0;
    for (let j = 0; j < nr; j++) n += this.state.ptes(head + j);
    return n;
  }

  /** Distinct mms mapping any part of the folio. */
  folio_mms(head: number, nr: number, tracked: boolean): number {
    return tracked ? (this.mms.get(head) ?? 0) : this.state.ptes(head);
  }

  /** Entries of one mm mapping the folio. */
  folio_mm_entries(head: number, mm: number): number {
    return this.perMm.get(head * 1048576 + mm) ?? 0;
  }

  /** Some page mapped and some page not (a PMD map maps every page). */
  folio_partially_mapped(head: number, nr: number): boolean {
    if ((this.pmds.get(head) ?? 0) > 0 || nr === 1) return false;
    let mapped = 0;
    for (let j = 0; j < nr; j++) if (this.state.ptes(head + j) > 0) mapped++;
    return mapped > 0 && mapped < nr;
  }
}
