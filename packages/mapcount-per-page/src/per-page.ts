import { field_add, field_get, field_set, is_refusal, type AnonRmapWrite, type FieldHandle, type Memmap, type PlacementResult } from '@foliolab/memmap';
import { RMAP_PMD, cacheline_of, cachelines_of_range, policy_stats, storage_id, type MapcountPolicy, type PolicyClaims, type PolicyEnv, type RmapLevel, type Vma } from '@foliolab/vm';

/** mm/internal.h: the PMD-mapped bit of _nr_pages_mapped, and the mask of PTE-mapped pages. */
export const ENTIRELY_MAPPED = 0x800000;
export const FOLIO_PAGES_MAPPED = ENTIRELY_MAPPED - 1;

export interface PerPageOptions {
  /** Reserved for symmetry with the other policies; the legacy scheme has no variants here. */
  readonly [k: string]: unknown;
}

/**
 * The legacy scheme of v6.2–v6.9 (Hugh Dickins' rework, Willy's renames): every page has its own
 * `_mapcount` (PTE maps of that page, starting at -1), a large folio has `_entire_mapcount` (PMD
 * maps) and `_nr_pages_mapped` (pages with at least one PTE map, plus ENTIRELY_MAPPED while any PMD
 * map exists). There is no `_large_mapcount`: folio_mapcount() is the O(n) loop over every page.
 * Large anonymous folios are never reused on a write fault (that came in v6.15).
 */
export class PerPagePolicy implements MapcountPolicy {
  readonly name = 'per-page';
  readonly claims: PolicyClaims = { page_mapcount: true, folio_mapcount: true, mapped: true, maybe_mapped_shared: 'estimate', partially_mapped: true };
  readonly stats = policy_stats();
  private mc!: FieldHandle;
  private entire!: FieldHandle;
  private npm!: FieldHandle;
  private mm!: Memmap;
  private sMc = 0;
  private sEntire = 0;
  private sNpm = 0;

  declare(memmap: Memmap): PlacementResult[] {
    const owner = '@foliolab/mapcount-per-page';
    const ps = [
      memmap.place({ owner, name: '_mapcount', scope: 'page', init: -1 }),
      memmap.place({ owner, name: '_entire_mapcount', scope: 'large-folio', init: -1, minOrder: 1 }),
      memmap.place({ owner, name: '_nr_pages_mapped', scope: 'large-folio', init: 0, minOrder: 1 }),
    ];
    if (ps.every((p) => !is_refusal(p))) {
      const [a, b, c] = ps as Array<Exclude<PlacementResult, { refused: string }>>;
      this.mc = a!.handle;
      this.entire = b!.handle;
      this.npm = c!.handle;
    }
    return ps;
  }

  attach(env: PolicyEnv): void {
    this.mm = env.memmap;
    this.sMc = storage_id(this.mc);
    this.sEntire = storage_id(this.entire);
    this.sNpm = storage_id(this.npm);
  }

  /** page[1] (or the descriptor) lines holding entire/nr_pages_mapped. */
  private folio_lines(folio: number): number {
    const a = cacheline_of(this.entire, this.sEntire, folio);
    const b = cacheline_of(this.npm, this.sNpm, folio);
    return a === b ? 1 : 2;
  }

  folio_add_new_anon_rmap(folio: number, level: RmapLevel, _vma: Vma, _pt: number): void {
    const head = this.mm.folio_pfn(folio);
    const nr = this.mm.folio_nr_pages(folio);
    const st = this.stats;
    if (nr === 1) {
      field_set(this.mc, head, 0);
      st.cacheLines++;
      return;
    }
    if (level === RMAP_PMD) {
      field_set(this.entire, folio, 0);
      field_set(this.npm, folio, ENTIRELY_MAPPED);
    } else {
      for (let j = 0; j < nr; j++) field_set(this.mc, head + j, 0);
      field_set(this.npm, folio, nr);
      st.cacheLines += cachelines_of_range(this.mc, head, nr);
    }
    st.cacheLines += this.folio_lines(folio);
  }

  /** The order-0 case above for a run of write faults: one line of _mapcount per page, written by the memmap (new_anon_rmap_writes()). */
  folio_add_new_anon_rmap_batch(_folios: Int32Array, _pfns: Int32Array, n: number): void {
    this.stats.cacheLines += n;
  }

  new_anon_rmap_writes(): readonly AnonRmapWrite[] {
    return [{ handle: this.mc, unit: 'page', value: 0 }];
  }

  folio_add_rmap_ptes(folio: number, page: number, nr: number): void {
    const st = this.stats;
    st.atomics += nr;
    st.cacheLines += cachelines_of_range(this.mc, page, nr);
    if (!this.mm.folio_test_large(folio)) {
      field_add(this.mc, page, 1);
      return;
    }
    for (let j = 0; j < nr; j++) {
      if (field_add(this.mc, page + j, 1) === 0) {
        st.atomics++;
        field_add(this.npm, folio, 1);
      }
    }
    st.cacheLines += 1;
  }

  folio_remove_rmap_ptes(folio: number, page: number, nr: number): boolean {
    const st = this.stats;
    st.atomics += nr;
    st.cacheLines += cachelines_of_range(this.mc, page, nr);
    if (!this.mm.folio_test_large(folio)) {
      field_add(this.mc, page, -1);
      return false;
    }
    let unmapped = 0;
    for (let j = 0; j < nr; j++) {
      if (field_add(this.mc, page + j, -1) === -1) {
        st.atomics++;
        if (field_add(this.npm, folio, -1) < ENTIRELY_MAPPED) unmapped++;
      }
    }
    st.cacheLines += 1;
    return unmapped > 0 && field_get(this.npm, folio) !== 0;
  }

  folio_dup_rmap_ptes(folio: number, page: number, nr: number): void {
    // __folio_dup_file_rmap / __folio_try_dup_anon_rmap (v6.9): only the per-page counts move.
    void folio;
    this.stats.atomics += nr;
    this.stats.cacheLines += cachelines_of_range(this.mc, page, nr);
    for (let j = 0; j < nr; j++) field_add(this.mc, page + j, 1);
  }

  folio_add_rmap_pmd(folio: number): void {
    const st = this.stats;
    st.atomics++;
    st.cacheLines += this.folio_lines(folio);
    if (field_add(this.entire, folio, 1) === 0) {
      st.atomics++;
      field_add(this.npm, folio, ENTIRELY_MAPPED);
    }
  }

  folio_remove_rmap_pmd(folio: number): boolean {
    const st = this.stats;
    st.atomics++;
    st.cacheLines += this.folio_lines(folio);
    if (field_add(this.entire, folio, -1) !== -1) return false;
    st.atomics++;
    const v = field_add(this.npm, folio, -ENTIRELY_MAPPED);
    if (v >= ENTIRELY_MAPPED) return false;
    const nrPmdMapped = this.mm.folio_nr_pages(folio);
    const nr = Math.max(0, nrPmdMapped - (v & FOLIO_PAGES_MAPPED));
    return nr > 0 && nr < nrPmdMapped;
  }

  folio_dup_rmap_pmd(folio: number): void {
    this.stats.atomics++;
    this.stats.cacheLines += 1;
    field_add(this.entire, folio, 1);
  }

  /** __split_huge_pmd_locked(): 512 PTE maps added, then the PMD map removed: the total rises by 511. */
  folio_split_pmd(folio: number, vma: Vma, pmdPt: number, ptePt: number): void {
    const head = this.mm.folio_pfn(folio);
    this.folio_add_rmap_ptes(folio, head, this.mm.folio_nr_pages(folio));
    this.folio_remove_rmap_pmd(folio);
    void vma;
    void pmdPt;
    void ptePt;
  }

  folio_move_ptes(): void {}
  folio_move_pmd(): void {}

  /** folio_mapcount() of v6.9: entire + Σ per-page, an O(nr_pages) loop that touches every struct page. */
  folio_mapcount(folio: number): number {
    const head = this.mm.folio_pfn(folio);
    const nr = this.mm.folio_nr_pages(folio);
    if (nr === 1) {
      this.stats.cacheLines++;
      return field_get(this.mc, head) + 1;
    }
    let n = field_get(this.entire, folio) + 1;
    for (let j = 0; j < nr; j++) n += field_get(this.mc, head + j) + 1;
    this.stats.cacheLines += cachelines_of_range(this.mc, head, nr) + 1;
    return n;
  }

  /** page_mapcount(): the page's PTE maps plus the folio's PMD maps. */
  page_mapcount(folio: number, page: number): number {
    this.stats.cacheLines++;
    const n = field_get(this.mc, page) + 1;
    if (!this.mm.folio_test_large(folio)) return n;
    this.stats.cacheLines++;
    return n + field_get(this.entire, folio) + 1;
  }

  folio_mapped(folio: number): boolean {
    this.stats.cacheLines++;
    if (!this.mm.folio_test_large(folio)) return field_get(this.mc, this.mm.folio_pfn(folio)) >= 0;
    return field_get(this.npm, folio) > 0;
  }

  /** folio_likely_mapped_shared() of v6.9: page_mapcount(first page) > 1: an estimate, wrong both ways. */
  folio_maybe_mapped_shared(folio: number): boolean {
    return this.page_mapcount(folio, this.mm.folio_pfn(folio)) > 1;
  }

  folio_partially_mapped(folio: number): boolean {
    if (!this.mm.folio_test_large(folio)) return false;
    this.stats.cacheLines++;
    const v = field_get(this.npm, folio);
    if (v >= ENTIRELY_MAPPED) return false;
    return v > 0 && v < this.mm.folio_nr_pages(folio);
  }

  /** Before v6.15 large anonymous folios were consistently not reused: the write fault copies one page. */
  wp_can_reuse_large(): boolean {
    return false;
  }

  /** khugepaged (v6.9): a PTE counts as shared when page_mapcount(page) > 1. */
  pte_maybe_shared(folio: number, page: number): boolean {
    return this.page_mapcount(folio, page) > 1;
  }

  smaps_page(folio: number, page: number): { mapcount: number; exclusive: boolean } {
    const m = this.page_mapcount(folio, page);
    return { mapcount: m, exclusive: m < 2 };
  }
}

export const name = 'per-page';

export function createPolicy(_options: PerPageOptions = {}): PerPagePolicy {
  return new PerPagePolicy();
}
