import type { FieldDecl, FieldHandle, PlacementResult, UnitRuns } from './field.js';
import type { PageType, PageTypeName } from './memdesc.js';

/** One declared field that folio_add_new_anon_rmap() sets on a new order-0 folio: per-page fields are indexed by PFN, per-folio fields by folio id. */
export interface AnonRmapWrite {
  readonly handle: FieldHandle;
  readonly unit: 'page' | 'folio';
  readonly value: number;
}

/** What a batch of new order-0 anonymous folios gets from folio_add_new_anon_rmap() (__folio_set_anon() and the policy's fields). */
export interface NewAnonRmap {
  /** folio->index of the first folio (linear_page_index()); folio i gets index + i. */
  readonly index: number;
  readonly writes: readonly AnonRmapWrite[];
}

/**
 * Per-page state of the buddy allocator. A free block's first page records the block's order and
 * its position on the free list; the other pages of the block are untouched (the kernel's
 * page-types shows them as flags 0, count 0). struct page keeps these in page_type/private/lru;
 * a memdesc keeps them in the 8-byte word (the buddy memdesc is embedded, it has no descriptor).
 *
 * Contract: buddy_mark() writes every word buddy_clear() resets, so a clear directly followed by a
 * mark of the same page may be skipped (the per-cpu refill relies on it).
 */
export interface BuddyStore {
  buddy_mark(pfn: number, order: number, pos: number): void;
  buddy_clear(pfn: number): void;
  /** Order of the free block starting at pfn, or -1 if pfn does not start a free block. */
  buddy_order(pfn: number): number;
  buddy_pos(pfn: number): number;
  buddy_set_pos(pfn: number, pos: number): void;
}

/** Handles to the fields every folio has, indexed by folio id. */
export interface CoreFolioFields {
  flags: FieldHandle;
  refcount: FieldHandle;
  mapping: FieldHandle;
  index: FieldHandle;
  private: FieldHandle;
  memcg: FieldHandle;
}

export interface LayoutBytes {
  layout: string;
  /** Simulated kernel bytes: per-PFN memmap + descriptors + extra arrays - HVO savings. */
  total: number;
  /** The per-PFN array (struct page or memdesc words). */
  memmap: number;
  /** Descriptor arenas by descriptor type (folio, slab, ptdesc, hugetlb). */
  descriptors: Record<string, number>;
  /** Extra per-PFN / per-folio arrays for fields that had no home. */
  extra: number;
  /** Vmemmap freed by the HugeTLB vmemmap optimization. */
  hvoFreed: number;
  /** Bytes attributed to each page type (per-PFN share + the type's descriptors). */
  byType: Record<PageTypeName, number>;
}

/** PFN space description handed to a layout when a memmap attaches it. */
export interface PfnSpace {
  pfns: number;
  sections: number;
}

/**
 * A Layout owns the per-PFN storage and every descriptor. It decides what a folio id means (the head
 * PFN for struct-page, a descriptor index for memdesc) and it measures what it allocated.
 */
export interface Layout extends BuddyStore {
  readonly name: string;
  /** Bytes of per-PFN memmap the layout allocates for every present page. */
  readonly pageBytes: number;
  /**
   * True when a folio's id is its head PFN (struct page: the folio is its first page). Callers of
   * folio_alloc_bulk() may then pass one array for the folios and the PFNs.
   */
  readonly folioIdIsPfn?: boolean;
  attach(space: PfnSpace): void;
  /** Materialize host storage for a section (deferred memmap init). Idempotent. */
  online_section(section: number): void;
  section_online(section: number): boolean;
  place(decl: FieldDecl): PlacementResult;
  readonly core: CoreFolioFields;
  /**
   * Describe pfn..pfn+nrPages-1 as one object of this type (prep_new_page + prep_compound_page, or
   * alloc_page_desc). Returns the object id: for folio types, the folio id every folio field is
   * indexed by. Initializes declared fields to their init values.
   */
  object_create(type: PageType, pfn: number, nrPages: number): number;
  /**
   * Optional: the anon fault batch's object_create. pfns[0..n) were just taken off the buddy
   * allocator without buddy_clear(); each becomes an order-0 folio of `type` (a folio type) with
   * _refcount 1, its id written to out[i]. The state must be exactly that of buddy_clear(pfn),
   * object_create(type, pfn, 1) and core.refcount = 1, page by page. `runs` says where pfns[0..n)
   * breaks into runs of consecutive PFNs (the allocator's blocks).
   */
  folio_create_bulk?(type: PageType, pfns: Int32Array, n: number, out: Int32Array, runs: UnitRuns): void;
  /**
   * Optional: folio_create_bulk(PageType.anon, ...) that also makes, in the same pass, what
   * folio_add_new_anon_rmap() writes on each new folio: folio->index = anon.index + i (never across a
   * multiple of 2^32 pages: the caller takes the generic path then) and every field of anon.writes.
   * The state must be exactly that of folio_create_bulk() followed by those writes.
   */
  folio_create_bulk_anon?(pfns: Int32Array, n: number, out: Int32Array, anon: NewAnonRmap, runs: UnitRuns): void;
  object_destroy(type: PageType, id: number): void;
  /**
   * Optional, for a machine whose memmap is made at boot (MemmapOptions.eagerInit): make room, in host
   * memory, for the descriptors that many pages can need at most, so that faults do not pay the host
   * for it as they go (a layout whose descriptors are allocated with the folios: memdesc).
   */
  descriptors_reserve?(pfns: number): void;
  /**
   * page_bad_reason() for a free page (CONFIG_DEBUG_VM's free_page_is_bad()): what in its descriptor
   * differs from the pristine state object_destroy() leaves (a free block's first page may carry its
   * buddy marks), or null. memmap_check() asks it of every free PFN when the layout has it.
   */
  free_page_bad_reason?(pfn: number): string | null;
  /** page_folio()/compound_head() without counting: the id of the object that holds pfn, or -1. */
  page_object(pfn: number): number;
  page_type(pfn: number): PageType;
  object_pfn(type: PageType, id: number): number;
  object_nr_pages(type: PageType, id: number): number;
  /** Simulated kernel memory in use, by what allocated it. */
  bytes(pagesByType: ArrayLike<number>): LayoutBytes;
  /** Host memory the simulator holds for this layout (typed-array bytes). */
  host_bytes(): number;
}

export type LayoutFactory = (options?: Record<string, unknown>) => Layout;
