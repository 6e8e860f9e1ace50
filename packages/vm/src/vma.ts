import type { Mm } from './mm.js';

export const PROT_NONE = 0;
export const PROT_READ = 1;
export const PROT_WRITE = 2;

/** vm_flags the simulator models (include/linux/mm.h names). */
export const VM_SHARED = 1 << 0;
export const VM_HUGEPAGE = 1 << 1;
export const VM_NOHUGEPAGE = 1 << 2;
export const VM_DONTCOPY = 1 << 3;

/**
 * A vm_area_struct: [start, end) with protection, flags and vm_pgoff. For anonymous memory, pgoff is
 * the linear page index of `start` when the VMA was created (addr >> PAGE_SHIFT); it follows the
 * pages when the VMA is split or moved by mremap, so that an anon folio's index (set at fault time)
 * gives its address in every VMA that can map it: address = start + (index - pgoff) * 4096. That is
 * what makes an rmap walk possible, and what the per-folio policy's folio_has_ptes() relies on.
 *
 * `id` is unique per VMA object for the life of the vm: a split creates a new VMA with a new id (the
 * (vma, page table) tuples of the per-folio policy are keyed by it).
 */
export class Vma {
  constructor(
    readonly id: number,
    readonly mm: Mm,
    public start: number,
    public end: number,
    public prot: number,
    public flags: number,
    public pgoff: number,
    /** The anon_vma (0 until the first anon fault, as anon_vma_prepare). fork gives the child a new one. */
    public anonVma: number,
    /** Backing file for file mappings (null = anonymous). */
    public file: string | null,
  ) {}

  get anon(): boolean {
    return this.file === null && (this.flags & VM_SHARED) === 0;
  }

  writable(): boolean {
    return (this.prot & PROT_WRITE) !== 0;
  }

  /** is_cow_mapping(): private and may be written. */
  cow(): boolean {
    return (this.flags & VM_SHARED) === 0;
  }

  /** linear_page_index(vma, addr). */
  page_index(addr: number): number {
    return this.pgoff + (addr - this.start) / 4096;
  }

  /** Address of linear page index idx in this VMA, or -1 if it is outside. */
  index_address(idx: number): number {
    const a = this.start + (idx - this.pgoff) * 4096;
    return a >= this.start && a < this.end ? a : -1;
  }

  /** VMAs merge (vma_merge) when contiguous in address and pgoff, with the same flags, prot, file and anon_vma. */
  can_merge(next: Vma): boolean {
    return (
      this.end === next.start &&
      this.prot === next.prot &&
      this.flags === next.flags &&
      this.file === next.file &&
      this.pgoff + (this.end - this.start) / 4096 === next.pgoff &&
      (this.anonVma === next.anonVma || this.anonVma === 0 || next.anonVma === 0)
    );
  }
}
