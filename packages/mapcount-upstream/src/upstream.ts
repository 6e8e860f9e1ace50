import { field_add, field_get, field_get_word, field_set, field_set_word, is_refusal, type AnonRmapWrite, type FieldHandle, type Memmap, type PlacementResult } from '@foliolab/memmap';
import { RMAP_PMD, cacheline_of, cachelines_of_range, policy_stats, storage_id, type MapcountPolicy, type PolicyClaims, type PolicyEnv, type RmapLevel, type Vma } from '@foliolab/vm';

export const ENTIRELY_MAPPED = 0x800000;
export const FOLIO_PAGES_MAPPED = ENTIRELY_MAPPED - 1;
/** FOLIO_MM_IDS_SHARED_BIT is bit 63 of _mm_ids: bit 31 of the high 32-bit word here. */
export const MM_IDS_SHARED = 0x8000_0000 | 0;
export const MM_ID_DUMMY = 0;

export interface UpstreamOptions {
  /** CONFIG_PAGE_MAPCOUNT (true, the default) or CONFIG_NO_PAGE_MAPCOUNT (false). */
  pageMapcount?: boolean;
}

/**
 * The current scheme (v6.15+, David Hildenbrand): `_large_mapcount` counts every page-table entry
 * mapping any part of a large folio (O(1) folio_mapcount()), `_entire_mapcount` the PMD maps, and two
 * MM-id slots (mm id + per-MM mapcount) with a "maybe mapped shared" bit, updated under a bit
 * spinlock in `_mm_ids`. With CONFIG_PAGE_MAPCOUNT the per-page `_mapcount` and `_nr_pages_mapped`
 * are kept too; with CONFIG_NO_PAGE_MAPCOUNT they are not (and a memdesc layout can host the policy).
 * Large anonymous folios can be reused on a write fault when the slots prove one MM maps them and
 * the refcount says nothing else holds them (__wp_can_reuse_large_anon_folio()).
 */
export class UpstreamPolicy implements MapcountPolicy {
  readonly name: string;
  readonly claims: PolicyClaims;
  readonly stats = policy_stats();
  readonly pmc: boolean;
  private mc!: FieldHandle;
  private large!: FieldHandle;
  private entire!: FieldHandle;
  private npm!: FieldHandle;
  private mmMap!: FieldHandle;
  private mmIds!: FieldHandle;
  private mm!: Memmap;
  private sMc = 0;
  private lines: Array<[FieldHandle, number]> = [];

  constructor(opts: UpstreamOptions = {}) {
    this.pmc = opts.pageMapcount ?? true;
    this.name = this.pmc ? 'upstream' : 'upstream-no-page-mapcount';
    this.claims = { page_mapcount: this.pmc, folio_mapcount: true, mapped: true, maybe_mapped_shared: 'no-false-negatives', partially_mapped: this.pmc };
  }

  declare(memmap: Memmap): PlacementResult[] {
    const owner = '@foliolab/mapcount-upstream';
    const ps: PlacementResult[] = [
      // Small folios keep their mapcount in page->_mapcount; with PAGE_MAPCOUNT every page has one.
      memmap.place({ owner, name: '_mapcount', scope: this.pmc ? 'page' : 'folio', init: -1 }),
      memmap.place({ owner, name: '_large_mapcount', scope: 'large-folio', init: -1, minOrder: 1 }),
      memmap.place({ owner, name: '_entire_mapcount', scope: 'large-folio', init: -1, minOrder: 1 }),
      memmap.place({ owner, name: '_mm_id_mapcount', scope: 'large-folio', words: 2, init: -1, minOrder: 1 }),
      memmap.place({ owner, name: '_mm_ids', scope: 'large-folio', words: 2, init: 0, minOrder: 1 }),
    ];
    if (this.pmc) ps.push(memmap.place({ owner, name: '_nr_pages_mapped', scope: 'large-folio', init: 0, minOrder: 1 }));
    if (ps.some((p) => is_refusal(p))) return ps;
    const h = ps.map((p) => (p as Exclude<PlacementResult, { refused: string }>).handle);
    [this.mc, this.large, this.entire, this.mmMap, this.mmIds] = h as [FieldHandle, FieldHandle, FieldHandle, FieldHandle, FieldHandle];
    if (this.pmc) this.npm = h[5]!;
    return ps;
  }

  attach(env: PolicyEnv): void {
    this.mm = env.memmap;
    this.sMc = storage_id(this.mc);
    const fs = [this.large, this.entire, this.mmMap, this.mmIds];
    if (this.pmc) fs.push(this.npm);
    this.lines = fs.map((h) => [h, storage_id(h)]);
  }

  /** Distinct lines of the large-folio fields (page[1] in struct page: one line; a grown descriptor: maybe two). */
  private folio_lines(folio: number): number {
    let n = 0;
    const seen: number[] = [];
    for (const [h, s] of this.lines) {
      const l = cacheline_of(h, s, folio);
      if (!seen.includes(l)) {
        seen.push(l);
        n++;
      }
    }
    return n;
  }

  /** Index of a small folio's _mapcount: its PFN with PAGE_MAPCOUNT (per page), else the folio id. */
  private small_idx(folio: number): number {
    return this.pmc ? this.mm.folio_pfn(folio) : folio;
  }

  /** A small folio's one mapcount (the page's _mapcount, or the folio's without page mapcounts): one atomic, one line. */
  private small_add(folio: number, d: number): void {
    this.stats.atomics++;
    this.stats.cacheLines++;
    field_add(this.mc, this.small_idx(folio), d);
  }

  // ---- MM-id slot tracking (include/linux/rmap.h) ----
  private slot_id(folio: number, i: number): number {
    return field_get_word(this.mmIds, folio, i) & 0x7fff_ffff;
  }

  private set_slot_id(folio: number, i: number, id: number): void {
    const w = field_get_word(this.mmIds, folio, i);
    field_set_word(this.mmIds, folio, i, (w & MM_IDS_SHARED) | id);
  }

  private set_shared(folio: number, on: boolean): void {
    const w = field_get_word(this.mmIds, folio, 1);
    field_set_word(this.mmIds, folio, 1, on ? w | MM_IDS_SHARED : w & ~MM_IDS_SHARED);
  }

  /** folio_test_large_maybe_mapped_shared(). */
  shared_bit(folio: number): boolean {
    return (field_get_word(this.mmIds, folio, 1) & MM_IDS_SHARED) !== 0;
  }

  /** folio_set_large_mapcount() for a new folio: slot 0 takes the whole count. */
  private set_large_mapcount(folio: number, n: number, mmId: number): void {
    field_set(this.large, folio, n - 1);
    field_set_word(this.mmMap, folio, 0, n - 1);
    this.set_slot_id(folio, 0, mmId);
  }

  /** folio_add_return_large_mapcount(): returns the new (logical) large mapcount. */
  private add_large(folio: number, diff: number, mmId: number): number {
    this.stats.atomics += 2; // bit_spin_lock / unlock of _mm_ids
    const nv = field_get(this.large, folio) + diff;
    field_set(this.large, folio, nv);
    if (this.slot_id(folio, 0) === mmId) field_set_word(this.mmMap, folio, 0, field_get_word(this.mmMap, folio, 0) + diff);
    else if (this.slot_id(folio, 1) === mmId) field_set_word(this.mmMap, folio, 1, field_get_word(this.mmMap, folio, 1) + diff);
    else if (this.slot_id(folio, 0) === MM_ID_DUMMY) {
      this.set_slot_id(folio, 0, mmId);
      field_set_word(this.mmMap, folio, 0, diff - 1);
      // We might have other mappings already.
      if (nv !== diff - 1) this.set_shared(folio, true);
    } else if (this.slot_id(folio, 1) === MM_ID_DUMMY) {
      this.set_slot_id(folio, 1, mmId);
      field_set_word(this.mmMap, folio, 1, diff - 1);
      // Slot 0 certainly has mappings as well.
      this.set_shared(folio, true);
    }
    return nv + 1;
  }

  /** folio_sub_return_large_mapcount(): returns the new (logical) large mapcount. */
  private sub_large(folio: number, diff: number, mmId: number): number {
    this.stats.atomics += 2;
    const nv = field_get(this.large, folio) - diff;
    field_set(this.large, folio, nv);
    let freed = true;
    for (let i = 0; i < 2; i++) {
      if (this.slot_id(folio, i) !== mmId) continue;
      const m = field_get_word(this.mmMap, folio, i) - diff;
      if (m >= 0) {
        field_set_word(this.mmMap, folio, i, m);
        freed = false;
      } else {
        // Valid corner cases underflow a per-MM count: free the slot.
        field_set_word(this.mmMap, folio, i, -1);
        this.set_slot_id(folio, i, MM_ID_DUMMY);
      }
      break;
    }
    // If one MM slot owns all mappings, the folio is mapped exclusively (skipped while this MM keeps its slot).
    if (freed && (field_get_word(this.mmMap, folio, 0) === nv || field_get_word(this.mmMap, folio, 1) === nv)) this.set_shared(folio, false);
    return nv + 1;
  }

  // ---- rmap ----
  folio_add_new_anon_rmap(folio: number, level: RmapLevel, vma: Vma): void {
    const nr = this.mm.folio_nr_pages(folio);
    const st = this.stats;
    if (nr === 1) {
      field_set(this.mc, this.small_idx(folio), 0);
      st.cacheLines++;
      return;
    }
    const head = this.mm.folio_pfn(folio);
    if (level === RMAP_PMD) {
      field_set(this.entire, folio, 0);
      this.set_large_mapcount(folio, 1, vma.mm.id);
      if (this.pmc) field_set(this.npm, folio, ENTIRELY_MAPPED);
    } else {
      if (this.pmc) {
        for (let j = 0; j < nr; j++) field_set(this.mc, head + j, 0);
        field_set(this.npm, folio, nr);
        st.cacheLines += cachelines_of_range(this.mc, head, nr);
      }
      this.set_large_mapcount(folio, nr, vma.mm.id);
    }
    st.cacheLines += this.folio_lines(folio);
  }

  /** The order-0 case above for a run of write faults: the memmap wrote the mapcount (new_anon_rmap_writes()). */
  folio_add_new_anon_rmap_batch(_folios: Int32Array, _pfns: Int32Array, n: number): void {
    this.stats.cacheLines += n;
  }

  new_anon_rmap_writes(): readonly AnonRmapWrite[] {
    // small_idx(): the page's _mapcount, or the folio's when there are no page mapcounts.
    return [{ handle: this.mc, unit: this.pmc ? 'page' : 'folio', value: 0 }];
  }

  folio_add_rmap_ptes(folio: number, page: number, nr: number, vma: Vma): void {
    const st = this.stats;
    if (!this.mm.folio_test_large(folio)) {
      this.small_add(folio, 1);
      return;
    }
    if (this.pmc) {
      let first = 0;
      for (let j = 0; j < nr; j++) if (field_add(this.mc, page + j, 1) === 0) first++;
      st.atomics += nr;
      st.cacheLines += cachelines_of_range(this.mc, page, nr);
      if (first) {
        st.atomics++;
        field_add(this.npm, folio, first);
      }
    }
    this.add_large(folio, nr, vma.mm.id);
    st.cacheLines += this.folio_lines(folio);
  }

  folio_remove_rmap_ptes(folio: number, page: number, nr: number, vma: Vma): boolean {
    const st = this.stats;
    if (!this.mm.folio_test_large(folio)) {
      this.small_add(folio, -1);
      return false;
    }
    st.cacheLines += this.folio_lines(folio);
    if (!this.pmc) {
      const left = this.sub_large(folio, nr, vma.mm.id);
      if (left === 0) return false;
      return left < this.mm.folio_nr_pages(folio) && field_get(this.entire, folio) + 1 === 0;
    }
    this.sub_large(folio, nr, vma.mm.id);
    let last = 0;
    for (let j = 0; j < nr; j++) if (field_add(this.mc, page + j, -1) === -1) last++;
    st.atomics += nr;
    st.cacheLines += cachelines_of_range(this.mc, page, nr);
    let n = 0;
    if (last) {
      st.atomics++;
      if (field_add(this.npm, folio, -last) < ENTIRELY_MAPPED) n = last;
    }
    return n > 0 && field_get(this.npm, folio) !== 0;
  }

  folio_dup_rmap_ptes(folio: number, page: number, nr: number, dst: Vma): void {
    const st = this.stats;
    if (!this.mm.folio_test_large(folio)) {
      this.small_add(folio, 1);
      return;
    }
    if (this.pmc) {
      for (let j = 0; j < nr; j++) field_add(this.mc, page + j, 1);
      st.atomics += nr;
      st.cacheLines += cachelines_of_range(this.mc, page, nr);
    }
    this.add_large(folio, nr, dst.mm.id);
    st.cacheLines += this.folio_lines(folio);
  }

  folio_add_rmap_pmd(folio: number, vma: Vma): void {
    const st = this.stats;
    st.atomics++;
    st.cacheLines += this.folio_lines(folio);
    const first = field_add(this.entire, folio, 1) === 0;
    if (this.pmc && first) {
      st.atomics++;
      field_add(this.npm, folio, ENTIRELY_MAPPED);
    }
    this.add_large(folio, 1, vma.mm.id);
  }

  folio_remove_rmap_pmd(folio: number, vma: Vma): boolean {
    const st = this.stats;
    st.atomics++;
    st.cacheLines += this.folio_lines(folio);
    const nrPages = this.mm.folio_nr_pages(folio);
    if (!this.pmc) {
      const last = field_add(this.entire, folio, -1) === -1;
      const left = this.sub_large(folio, 1, vma.mm.id);
      if (left === 0) return false;
      return last && left < nrPages;
    }
    this.sub_large(folio, 1, vma.mm.id);
    if (field_add(this.entire, folio, -1) !== -1) return false;
    st.atomics++;
    const v = field_add(this.npm, folio, -ENTIRELY_MAPPED);
    if (v >= ENTIRELY_MAPPED) return false;
    const nr = Math.max(0, nrPages - (v & FOLIO_PAGES_MAPPED));
    return nr > 0 && nr < nrPages;
  }

  folio_dup_rmap_pmd(folio: number, dst: Vma): void {
    this.stats.atomics++;
    this.stats.cacheLines += this.folio_lines(folio);
    field_add(this.entire, folio, 1);
    this.add_large(folio, 1, dst.mm.id);
  }

  /** Batched PTE add of all pages, then the PMD removal: _large_mapcount +511 net. */
  folio_split_pmd(folio: number, vma: Vma): void {
    this.folio_add_rmap_ptes(folio, this.mm.folio_pfn(folio), this.mm.folio_nr_pages(folio), vma);
    this.folio_remove_rmap_pmd(folio, vma);
  }

  folio_move_ptes(): void {}
  folio_move_pmd(): void {}

  // ---- queries ----
  folio_mapcount(folio: number): number {
    this.stats.cacheLines++;
    if (!this.mm.folio_test_large(folio)) return field_get(this.mc, this.small_idx(folio)) + 1;
    return field_get(this.large, folio) + 1;
  }

  /** folio_precise_page_mapcount() with PAGE_MAPCOUNT; without it there is no per-page count for large folios. */
  page_mapcount(folio: number, page: number): number | null {
    if (!this.mm.folio_test_large(folio)) return this.folio_mapcount(folio);
    if (!this.pmc) return null;
    this.stats.cacheLines += 2;
    return field_get(this.mc, page) + 1 + field_get(this.entire, folio) + 1;
  }

  folio_mapped(folio: number): boolean {
    return this.folio_mapcount(folio) >= 1;
  }

  /** folio_maybe_mapped_shared(): never a false negative. */
  folio_maybe_mapped_shared(folio: number): boolean {
    const mapcount = this.folio_mapcount(folio);
    if (!this.mm.folio_test_large(folio)) return mapcount > 1;
    if (mapcount <= 1) return false;
    return this.shared_bit(folio);
  }

  folio_partially_mapped(folio: number): boolean {
    if (!this.mm.folio_test_large(folio)) return false;
    this.stats.cacheLines++;
    const nr = this.mm.folio_nr_pages(folio);
    if (this.pmc) {
      const v = field_get(this.npm, folio);
      if (v >= ENTIRELY_MAPPED) return false;
      return v > 0 && v < nr;
    }
    // "if the average per-page mapcount in an anon THP is < 1, we know for sure that we have a partial mapping"
    const m = field_get(this.large, folio) + 1;
    return m > 0 && field_get(this.entire, folio) + 1 === 0 && m < nr;
  }

  /** __wp_can_reuse_large_anon_folio() (v6.15). */
  wp_can_reuse_large(folio: number, _page: number, _vma: Vma, refcount: number): boolean {
    this.stats.cacheLines += this.folio_lines(folio);
    const m = field_get(this.large, folio) + 1;
    // Let's just free up a large folio if only a single page is mapped.
    if (m <= 1) return false;
    if (this.shared_bit(folio)) return false;
    if (m !== refcount) return false;
    // Recheck under the large-mapcount lock.
    this.stats.atomics += 2;
    return !this.shared_bit(folio) && field_get(this.large, folio) + 1 === refcount;
  }

  pte_maybe_shared(folio: number): boolean {
    return this.folio_maybe_mapped_shared(folio);
  }

  /** folio_average_page_mapcount(). */
  average_page_mapcount(folio: number): number {
    let m = this.folio_mapcount(folio);
    if (!this.mm.folio_test_large(folio)) return m;
    if (m <= 0) return 0;
    const entire = field_get(this.entire, folio) + 1;
    if (m <= entire) return entire;
    m -= entire;
    const nr = this.mm.folio_nr_pages(folio);
    return Math.floor((m + nr / 2) / nr) + entire;
  }

  smaps_page(folio: number, page: number): { mapcount: number; exclusive: boolean } {
    if (this.pmc) {
      const m = this.page_mapcount(folio, page)!;
      return { mapcount: m, exclusive: m < 2 };
    }
    return { mapcount: this.average_page_mapcount(folio), exclusive: !this.folio_maybe_mapped_shared(folio) };
  }

  /** The MM-id slots, for tests and reports: [id0, mapcount0, id1, mapcount1, shared]. */
  slots(folio: number): { ids: [number, number]; mapcounts: [number, number]; shared: boolean } {
    return {
      ids: [this.slot_id(folio, 0), this.slot_id(folio, 1)],
      mapcounts: [field_get_word(this.mmMap, folio, 0) + 1, field_get_word(this.mmMap, folio, 1) + 1],
      shared: this.shared_bit(folio),
    };
  }
}

export const name = 'upstream';

export function createPolicy(options: UpstreamOptions = {}): UpstreamPolicy {
  return new UpstreamPolicy(options);
}
