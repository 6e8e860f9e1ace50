import { anon_writes_make } from './anon-rmap.js';
import { BuddyAllocator } from './buddy.js';
import { MAX_SIM_PFNS, PAGE_SIZE, PAGES_PER_SECTION, TWO32 } from './constants.js';
import { UnitRuns, field_add, field_get, field_set, field_set_u64, type FieldDecl, type PlacementResult } from './field.js';
import type { CoreFolioFields, Layout, LayoutBytes, NewAnonRmap } from './layout.js';
import { NR_PAGE_TYPES, PAGE_TYPE_NAMES, PageType, page_type_is_folio } from './memdesc.js';
import { PG_head } from './page-flags.js';

export interface MemmapOptions {
  layout: Layout;
  /** Bytes of simulated RAM (a multiple of 4 KiB). Either memory or pfns. */
  memory?: number;
  pfns?: number;
  /** CONFIG_DEBUG_VM: check refcounts on every put and let callers run memmap_check(). */
  debugVm?: boolean;
  /** Initialize every section's memmap up front instead of on demand. */
  eagerInit?: boolean;
}

export class MemmapError extends Error {
  constructor(readonly field: string, readonly reason: string) {
    super(`${field}: ${reason}`);
    this.name = 'MemmapError';
  }
}

/** Kernel bug detected by a debug check (VM_BUG_ON and friends). */
export class VmBug extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VmBug';
  }
}

export interface MemmapCounters {
  /** Every page→head translation (compound_head/page_folio), the cost seed 002 counts. */
  compound_head: number;
  folio_alloc: number;
  folio_free: number;
  folio_get: number;
  folio_put: number;
  alloc_failures: number;
}

/**
 * The PFN array and the allocator over it. Folio ids are whatever the layout says (head PFN for
 * struct-page, descriptor index for memdesc); the API never assumes either.
 *
 * Conservation invariant: every present PFN is on exactly one side, free (in a buddy block or a
 * not-yet-initialized section) or part of exactly one allocated object. pagesByType mirrors it.
 */
export class Memmap {
  readonly layout: Layout;
  readonly pfns: number;
  readonly sections: number;
  readonly buddy: BuddyAllocator;
  readonly pagesByType = new Float64Array(NR_PAGE_TYPES);
  readonly counters: MemmapCounters = { compound_head: 0, folio_alloc: 0, folio_free: 0, folio_get: 0, folio_put: 0, alloc_failures: 0 };
  readonly debugVm: boolean;
  /** Every section's memmap was initialized up front (MemmapOptions.eagerInit); per-PFN state beside it may follow. */
  readonly eagerInit: boolean;
  private readonly core: CoreFolioFields;
  private readonly placements: PlacementResult[] = [];
  /** on_free() hooks. */
  private readonly freeHooks: ((pfn: number, nr: number) => void)[] = [];
  /** folio_alloc_bulk()'s runs when the caller does not ask for them. */
  private readonly bulkRuns = new UnitRuns(64);

  constructor(opts: MemmapOptions) {
    let pfns = opts.pfns;
    if (pfns === undefined) {
      const memory = opts.memory;
      if (memory === undefined) throw new MemmapError('memory', 'either memory or pfns is required');
      if (!Number.isSafeInteger(memory) || memory <= 0 || memory % PAGE_SIZE !== 0) {
        throw new MemmapError('memory', `${memory} is not a positive multiple of ${PAGE_SIZE} bytes`);
      }
      pfns = memory / PAGE_SIZE;
    }
    if (!Number.isSafeInteger(pfns) || pfns <= 0) throw new MemmapError('pfns', `${pfns} is not a positive whole number`);
    if (pfns > MAX_SIM_PFNS) throw new MemmapError('memory', `${pfns} pages is more than the simulator's 2^28 PFNs (1 TiB)`);
    this.pfns = pfns;
    this.sections = Math.ceil(pfns / PAGES_PER_SECTION);
    this.layout = opts.layout;
    this.debugVm = opts.debugVm ?? false;
    this.layout.attach({ pfns, sections: this.sections });
    this.core = this.layout.core;
    const all = Array.from({ length: this.sections }, (_, i) => i);
    this.buddy = new BuddyAllocator(this.layout, pfns, (s) => this.layout.online_section(s), all);
    this.pagesByType[PageType.buddy] = pfns;
    this.eagerInit = opts.eagerInit ?? false;
    if (this.eagerInit) {
      this.buddy.deferred_init_all();
      this.layout.descriptors_reserve?.(pfns);
    }
  }

  /** Declare a field; the layout places it, charges for it or refuses. */
  place(decl: FieldDecl): PlacementResult {
    const p = this.layout.place(decl);
    this.placements.push(p);
    return p;
  }

  field_placements(): readonly PlacementResult[] {
    return this.placements;
  }

  /** Allocate 2^order pages as one object of the given type. Returns its id, or -1 when memory is exhausted (OOM is a result). */
  alloc_object(type: PageType, order: number): number {
    const pfn = this.buddy.alloc(order);
    if (pfn < 0) {
      this.counters.alloc_failures++;
      return -1;
    }
    const nr = 1 << order;
    this.pagesByType[PageType.buddy]! -= nr;
    this.pagesByType[type]! += nr;
    return this.layout.object_create(type, pfn, nr);
  }

  /**
   * free_pages_prepare() for per-PFN state kept outside the memmap (the vm's PG_anon_exclusive):
   * `hook(pfn, nr)` runs for every block of pages freed, before it reaches the allocator.
   */
  on_free(hook: (pfn: number, nr: number) => void): void {
    this.freeHooks.push(hook);
  }

  free_object(type: PageType, id: number): void {
    const pfn = this.layout.object_pfn(type, id);
    const nr = this.layout.object_nr_pages(type, id);
    this.layout.object_destroy(type, id);
    for (const hook of this.freeHooks) hook(pfn, nr);
    this.pagesByType[type]! -= nr;
    this.pagesByType[PageType.buddy]! += nr;
    this.buddy.free(pfn, 31 - Math.clz32(nr));
  }

  /** folio_alloc(): a folio with one reference (set_page_refcounted). */
  folio_alloc(order: number, type: PageType = PageType.anon): number {
    if (!page_type_is_folio(type)) throw new MemmapError('type', `${PAGE_TYPE_NAMES[type]} is not a folio type`);
    const f = this.alloc_object(type, order);
    if (f < 0) return -1;
    field_set(this.core.refcount, f, 1);
    this.counters.folio_alloc++;
    return f;
  }

  /**
   * alloc_pages_bulk() for order-0 folios: up to n folios of `type`, each with one reference, their ids
   * in out[0..). The state and counters are those of that many folio_alloc(0, type) calls; it stops
   * short (never failing) where the per-cpu list runs dry for good, and folio_alloc() takes over.
   * With `anon` (anon folios only), each folio also gets what folio_add_new_anon_rmap() writes on it
   * (index, the policy's fields), made while the folio is built when the layout can
   * (folio_create_bulk_anon), so that the fault batch writes each struct page once.
   * `runs` (optional) receives where pfns[0..got) breaks into runs of consecutive PFNs.
   */
  folio_alloc_bulk(n: number, type: PageType, out: Int32Array, pfns: Int32Array = out, anon?: NewAnonRmap, runs: UnitRuns = this.bulkRuns): number {
    if (!page_type_is_folio(type)) throw new MemmapError('type', `${PAGE_TYPE_NAMES[type]} is not a folio type`);
    if (anon !== undefined && type !== PageType.anon) throw new MemmapError('type', `${PAGE_TYPE_NAMES[type]} folios have no anon rmap`);
    const layout = this.layout;
    let got: number;
    // The fused build needs index + i to keep its high word: below a multiple of 2^32 pages.
    const fused = anon !== undefined && layout.folio_create_bulk_anon !== undefined && (anon.index % TWO32) + n <= TWO32;
    runs.reserve(n);
    if (fused) {
      got = this.buddy.alloc_bulk(n, pfns, false, runs);
      layout.folio_create_bulk_anon!(pfns, got, out, anon!, runs);
    } else if (layout.folio_create_bulk !== undefined) {
      // The layout clears the buddy marks in the same pass as it builds the folios.
      got = this.buddy.alloc_bulk(n, pfns, false, runs);
      layout.folio_create_bulk(type, pfns, got, out, runs);
    } else {
      got = this.buddy.alloc_bulk(n, pfns, true, runs);
      const ref = this.core.refcount;
      for (let i = 0; i < got; i++) {
        const f = layout.object_create(type, pfns[i]!, 1);
        field_set(ref, f, 1);
        out[i] = f;
      }
    }
    if (anon !== undefined && !fused) {
      // The generic path: what folio_create_bulk_anon() makes in its own pass.
      for (let i = 0; i < got; i++) field_set_u64(this.core.index, out[i]!, anon.index + i);
      anon_writes_make(anon.writes, pfns, out, got);
    }
    this.pagesByType[PageType.buddy]! -= got;
    this.pagesByType[type]! += got;
    this.counters.folio_alloc += got;
    return got;
  }

  folio_get(f: number): void {
    this.counters.folio_get++;
    const r = field_add(this.core.refcount, f, 1);
    if (this.debugVm && r <= 1) throw new VmBug(`folio_get: folio ${f} had refcount ${r - 1}`);
  }

  /** Drop a reference; the last one frees the folio back to the buddy allocator. Returns true if freed. */
  folio_put(f: number): boolean {
    this.counters.folio_put++;
    const r = field_add(this.core.refcount, f, -1);
    if (r > 0) return false;
    if (r < 0) throw new VmBug(`folio_put: folio ${f} refcount underflow (${r})`);
    this.counters.folio_free++;
    this.free_object(this.folio_type(f), f);
    return true;
  }

  folio_ref_count(f: number): number {
    return field_get(this.core.refcount, f);
  }

  folio_ref_add(f: number, n: number): void {
    field_add(this.core.refcount, f, n);
  }

  /** page_folio(): counted, like every hidden compound_head() of the page API. */
  page_folio(pfn: number): number {
    this.counters.compound_head++;
    return this.layout.page_object(pfn);
  }

  /** compound_head(): the head page's PFN. Counted. */
  compound_head(pfn: number): number {
    this.counters.compound_head++;
    const t = this.layout.page_type(pfn);
    const id = this.layout.page_object(pfn);
    return id < 0 ? pfn : this.layout.object_pfn(t, id);
  }

  folio_pfn(f: number): number {
    return this.layout.object_pfn(PageType.anon, f);
  }

  folio_page(f: number, n: number): number {
    return this.layout.object_pfn(PageType.anon, f) + n;
  }

  folio_nr_pages(f: number): number {
    return this.layout.object_nr_pages(PageType.anon, f);
  }

  folio_order(f: number): number {
    return 31 - Math.clz32(this.layout.object_nr_pages(PageType.anon, f));
  }

  folio_test_large(f: number): boolean {
    return (field_get(this.core.flags, f) & (1 << PG_head)) !== 0;
  }

  folio_type(f: number): PageType {
    return this.layout.page_type(this.layout.object_pfn(PageType.anon, f));
  }

  folio_test_flag(f: number, bit: number): boolean {
    return (field_get(this.core.flags, f) & (1 << bit)) !== 0;
  }

  folio_set_flag(f: number, bit: number): void {
    field_set(this.core.flags, f, field_get(this.core.flags, f) | (1 << bit));
  }

  folio_clear_flag(f: number, bit: number): void {
    field_set(this.core.flags, f, field_get(this.core.flags, f) & ~(1 << bit));
  }

  /** test_and_set_bit semantics: returns the old bit. */
  folio_test_set_flag(f: number, bit: number): boolean {
    const v = field_get(this.core.flags, f);
    field_set(this.core.flags, f, v | (1 << bit));
    return (v & (1 << bit)) !== 0;
  }

  page_type(pfn: number): PageType {
    return this.layout.page_type(pfn);
  }

  nr_free_pages(): number {
    return this.buddy.nr_free_pages();
  }

  bytes(): LayoutBytes {
    return this.layout.bytes(this.pagesByType);
  }

  host_bytes(): number {
    return this.layout.host_bytes() + this.buddy.host_bytes() + this.pagesByType.byteLength;
  }
}
