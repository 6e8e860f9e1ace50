import type { Vma } from './vma.js';

/** A named address range of a process: what a workload's `region` refers to. */
export interface Region {
  start: number;
  size: number;
}

/**
 * An mm_struct: the address space of one process. `id` is the MM id of v6.15 (mm_alloc_id(): the
 * smallest free id >= 1, released in __mmdrop()), which the upstream mapcount policy stores in a
 * folio's two MM-id slots. VMAs are kept sorted by start and never overlap.
 */
export class Mm {
  readonly vmas: Vma[] = [];
  readonly regions = new Map<string, Region>();
  /** MMF_HAS_PINNED: set once any FOLL_PIN was taken in this mm; fork then checks for pinned pages. */
  hasPinned = false;
  /** Anonymous pages mapped (RSS anon), counted per page. */
  rssAnon = 0;
  rssFile = 0;
  /** Page-table pages owned (mm_pgtables_bytes / 4096). */
  pgtables = 0;
  exited = false;

  constructor(
    readonly name: string,
    readonly id: number,
    /** Slot of the PGD table. */
    readonly pgd: number,
  ) {}

  /** find_vma_intersection: the VMA containing addr, or undefined. Binary search. */
  find_vma(addr: number): Vma | undefined {
    const v = this.vmas;
    let lo = 0;
    let hi = v.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const m = v[mid]!;
      if (addr < m.start) hi = mid - 1;
      else if (addr >= m.end) lo = mid + 1;
      else return m;
    }
    return undefined;
  }

  /** Index of the first VMA whose end is above addr. */
  vma_index_after(addr: number): number {
    const v = this.vmas;
    let lo = 0;
    let hi = v.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (v[mid]!.end <= addr) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  insert_vma(vma: Vma): void {
    const i = this.vma_index_after(vma.start);
    this.vmas.splice(i, 0, vma);
  }

  remove_vma(vma: Vma): void {
    const i = this.vmas.indexOf(vma);
    if (i >= 0) this.vmas.splice(i, 1);
  }

  /** True if some VMA intersects [start, end). */
  any_vma_in(start: number, end: number): boolean {
    const i = this.vma_index_after(start);
    return i < this.vmas.length && this.vmas[i]!.start < end;
  }
}

/** IDA over [1, 2^31 - 1]: mm_alloc_id() takes the smallest free id. */
export class MmIdAllocator {
  private used = new Set<number>();

  alloc(): number {
    let id = 1;
    while (this.used.has(id)) id++;
    this.used.add(id);
    return id;
  }

  free(id: number): void {
    this.used.delete(id);
  }
}
