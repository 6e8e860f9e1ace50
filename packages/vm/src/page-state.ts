import { PFN_SECTION_SHIFT, VmBug } from '@foliolab/memmap';
import { PFN_MASK, PfnUint8 } from './pfn-array.js';

/** PG_anon_exclusive in a PageState byte. */
export const PAE = 0x80;
/** The PTE count in a PageState byte; this value means "this many or more" (the rest is in `over`). */
export const PTES_SAT = 0x7f;

/**
 * The vm's byte per PFN: PageAnonExclusive, which the kernel keeps in page->flags (PG_anon_exclusive),
 * and the oracle's count of PTEs mapping the page. One byte holds both because a fault sets both on
 * every new page: one store per page, not one into each of two arrays.
 *
 *   bit 7      PageAnonExclusive
 *   bits 0..6  PTEs mapping the page: exact below 127; 127 means 127 plus over.get(pfn) (absent: 0)
 *
 * Invariants:
 * - a free PFN's byte is 0: no PTE maps a free page (vm_check() proves it from the page tables), and
 *   free_pages_prepare() clears PG_anon_exclusive (pae_clear_free(), the memmap's free hook). The
 *   fault batch relies on it: it stores PAE | 1 on new pages without reading them.
 * - `over` has an entry (> 0) only for a PFN whose count bits are 127.
 */
export class PageState {
  readonly bytes: PfnUint8;
  /** PTEs beyond 127 per PFN: a page mapped by more than 127 processes (a fork tree). */
  readonly over = new Map<number, number>();

  constructor(sections: number) {
    this.bytes = new PfnUint8(sections);
  }

  pae(pfn: number): boolean {
    return (this.bytes.get(pfn) & PAE) !== 0;
  }

  pae_set(pfn: number, nr: number, on: boolean): void {
    for (let j = 0; j < nr; j++) {
      const c = this.bytes.ensure(pfn + j);
      const k = (pfn + j) & PFN_MASK;
      c[k] = on ? c[k]! | PAE : c[k]! & ~PAE;
    }
  }

  /** free_pages_prepare(): the pages go back to the allocator without PG_anon_exclusive. */
  pae_clear_free(pfn: number, nr: number): void {
    const c = this.bytes.chunks[pfn >>> PFN_SECTION_SHIFT]!;
    // A free block never crosses a section.
    if (c.length === 0) return;
    const k0 = pfn & PFN_MASK;
    for (let k = k0; k < k0 + nr; k++) c[k] = c[k]! & PTES_SAT;
  }

  /** PTEs mapping the page. */
  ptes(pfn: number): number {
    const n = this.bytes.get(pfn) & PTES_SAT;
    return n === PTES_SAT ? PTES_SAT + (this.over.get(pfn) ?? 0) : n;
  }

  /** nr PTEs now map pfn..pfn+nr-1, one each (a folio never crosses a section). */
  ptes_inc(pfn: number, nr: number): void {
    const c = this.bytes.ensure(pfn);
    const k0 = pfn & PFN_MASK;
    for (let j = 0; j < nr; j++) {
      const v = c[k0 + j]!;
      if ((v & PTES_SAT) !== PTES_SAT) c[k0 + j] = v + 1;
      else this.over.set(pfn + j, (this.over.get(pfn + j) ?? 0) + 1);
    }
  }

  /** One PTE fewer maps each of pfn..pfn+nr-1. */
  ptes_dec(pfn: number, nr: number): void {
    const c = this.bytes.ensure(pfn);
    const k0 = pfn & PFN_MASK;
    for (let j = 0; j < nr; j++) {
      const v = c[k0 + j]!;
      const o = (v & PTES_SAT) === PTES_SAT ? (this.over.get(pfn + j) ?? 0) : 0;
      if (o > 1) this.over.set(pfn + j, o - 1);
      else if (o === 1) this.over.delete(pfn + j);
      else if ((v & PTES_SAT) === 0) throw new VmBug(`oracle: no PTE maps pfn ${pfn + j}, one cannot be removed`);
      else c[k0 + j] = v - 1;
    }
  }

  host_bytes(): number {
    return this.bytes.host_bytes();
  }
}
