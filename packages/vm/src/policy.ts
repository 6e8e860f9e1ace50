import type { AnonRmapWrite, FieldHandle, Memmap, PlacementResult } from '@foliolab/memmap';
import type { Vma } from './vma.js';

/**
 * The MapcountPolicy: the rmap calls of mm/rmap.c and the queries the rest of the kernel asks.
 *
 * Call order follows the kernel: an add is made before the new entries are written to the page
 * table (folio_add_*_rmap_* then set_ptes), a remove after they were cleared (ptep_get_and_clear
 * then folio_remove_rmap_*), and a dup (fork) before the child's entries are written. The vm takes a
 * folio reference before every add and drops it after every remove (one reference per mapping).
 *
 * Arguments are numbers and the VMA object, never a freshly built object: these calls are the fault
 * path. `folio` is the layout's folio id, `page` a PFN inside it, `pt` the slot of the page table the
 * entries live in (the PTE table for PTE ranges, the PMD table for PMD maps).
 */
export interface MapcountPolicy {
  readonly name: string;
  /** Which queries this policy claims to answer exactly (scored as "wrong" only where claimed). */
  readonly claims: PolicyClaims;
  readonly stats: PolicyStats;
  /** Declare fields to the layout (memmap.place). Called once, when the machine is composed. */
  declare(memmap: Memmap): PlacementResult[];
  /** Handed the vm's services after a successful composition. */
  attach(env: PolicyEnv): void;

  /** folio_add_new_anon_rmap(): a new exclusive anon folio mapped by nr PTEs (whole folio) or one PMD. */
  folio_add_new_anon_rmap(folio: number, level: RmapLevel, vma: Vma, pt: number): void;
  /**
   * Optional: folio_add_new_anon_rmap(folios[i], RMAP_PTE, vma, pt) for i in 0..n-1, where every folio
   * is order 0 (its one page is pfns[i]) and mapped by one PTE of table pt (a run of write faults).
   * Must leave exactly the state and stats of those n calls; without it the vm makes them one by one.
   */
  folio_add_new_anon_rmap_batch?(folios: Int32Array, pfns: Int32Array, n: number, vma: Vma, pt: number): void;
  /**
   * Optional, with the batch call: every field write folio_add_new_anon_rmap(RMAP_PTE) makes on an
   * order-0 folio, as constant values. The vm hands them to the memmap, which makes them while it
   * builds the folios (one pass over each struct page); a policy that names them makes no writes in
   * its batch call, only counts (stats). Asked once, when the vm is composed.
   */
  new_anon_rmap_writes?(): readonly AnonRmapWrite[];
  folio_add_rmap_ptes(folio: number, page: number, nr: number, vma: Vma, pt: number): void;
  /** Returns partially_mapped: the kernel would queue the folio for deferred split. */
  folio_remove_rmap_ptes(folio: number, page: number, nr: number, vma: Vma, pt: number): boolean;
  /** fork: folio_try_dup_anon_rmap_ptes() for the child's mapping (the -EBUSY check is the vm's). */
  folio_dup_rmap_ptes(folio: number, page: number, nr: number, dst: Vma, dstPt: number): void;
  folio_add_rmap_pmd(folio: number, vma: Vma, pt: number): void;
  folio_remove_rmap_pmd(folio: number, vma: Vma, pt: number): boolean;
  folio_dup_rmap_pmd(folio: number, dst: Vma, dstPt: number): void;
  /** __split_huge_pmd_locked(): the PMD map becomes 512 PTE maps in table ptePt. */
  folio_split_pmd(folio: number, vma: Vma, pmdPt: number, ptePt: number): void;
  /**
   * mremap's move_ptes()/move_huge_pmd(): entries moved between page tables (and VMAs). The kernel
   * makes no rmap call here; a policy whose count depends on the page table must adjust.
   * Called after the old entries were cleared and before the new ones are written.
   */
  folio_move_ptes(folio: number, page: number, nr: number, from: Vma, fromPt: number, to: Vma, toPt: number): void;
  /** move_huge_pmd(): a PMD map moved to another PMD table (and VMA). */
  folio_move_pmd(folio: number, from: Vma, fromPt: number, to: Vma, toPt: number): void;

  // ---- queries ----
  /** folio_mapcount(), or null if the policy has no such number. */
  folio_mapcount(folio: number): number | null;
  /** The per-page mapcount (page_mapcount / folio_precise_page_mapcount), or null if the policy has none. */
  page_mapcount(folio: number, page: number): number | null;
  folio_mapped(folio: number): boolean;
  folio_maybe_mapped_shared(folio: number): boolean;
  /** Is some page of the folio unmapped while another is mapped? null if the policy cannot tell. */
  folio_partially_mapped(folio: number): boolean | null;

  // ---- decisions ----
  /** __wp_can_reuse_large_anon_folio(): may a write fault reuse this large anon folio in place? */
  wp_can_reuse_large(folio: number, page: number, vma: Vma, refcount: number): boolean;
  /** khugepaged's max_ptes_shared test for one PTE: does this page count as shared? */
  pte_maybe_shared(folio: number, page: number): boolean;
  /** smaps: the mapcount PSS divides by for this page, and whether the page counts as private. */
  smaps_page(folio: number, page: number): { mapcount: number; exclusive: boolean };
}

export const RMAP_PTE = 0;
export const RMAP_PMD = 1;
export type RmapLevel = typeof RMAP_PTE | typeof RMAP_PMD;

export interface PolicyClaims {
  page_mapcount: boolean;
  folio_mapcount: boolean;
  mapped: boolean;
  /** 'exact', 'no-false-negatives' (never says exclusive when shared) or 'estimate'. */
  maybe_mapped_shared: 'exact' | 'no-false-negatives' | 'estimate';
  partially_mapped: boolean;
}

/** What a policy spent: atomic RMW operations, distinct cache lines of metadata touched, page-table entries scanned. */
export interface PolicyStats {
  atomics: number;
  cacheLines: number;
  ptesScanned: number;
}

export function policy_stats(): PolicyStats {
  return { atomics: 0, cacheLines: 0, ptesScanned: 0 };
}

/** Services the vm gives a policy. */
export interface PolicyEnv {
  memmap: Memmap;
  /**
   * folio_has_ptes() for one (vma, page table): how many present PTEs in table `pt`, inside `vma`,
   * map a page of `folio`. Reads the page table (the cost is charged to stats.ptesScanned).
   */
  folio_ptes_in_table(folio: number, vma: Vma, pt: number): number;
  /** The same over the whole VMA (every table it spans), PMD maps included. */
  folio_entries_in_vma(folio: number, vma: Vma): number;
}

/**
 * Cache-line identity of a field unit: which 64-byte line of simulated kernel memory holds it.
 * Lines of different storages never collide (storage ids are assigned per chunk-array identity).
 */
const storageIds = new WeakMap<Int32Array[], number>();
let nextStorage = 1;
export function storage_id(h: FieldHandle): number {
  let id = storageIds.get(h.chunks);
  if (id === undefined) storageIds.set(h.chunks, (id = nextStorage++));
  return id;
}

/** Line of unit i of a field: 16 int32 slots per 64-byte line. */
export function cacheline_of(h: FieldHandle, storage: number, i: number): number {
  return storage * 2 ** 40 + (i >>> h.shift) * 2 ** 30 + Math.floor(((i & h.mask) * h.stride + h.off) / 16);
}

/** Distinct lines covered by units [i, i+n) of a field (same chunk assumed, as folios never span sections). */
export function cachelines_of_range(h: FieldHandle, i: number, n: number): number {
  const first = Math.floor(((i & h.mask) * h.stride + h.off) / 16);
  const last = Math.floor((((i + n - 1) & h.mask) * h.stride + h.off) / 16);
  return last - first + 1;
}
