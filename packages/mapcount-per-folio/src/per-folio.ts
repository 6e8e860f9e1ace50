import { field_add, field_get, field_set, is_refusal, type AnonRmapWrite, type FieldHandle, type Memmap, type PlacementResult } from '@foliolab/memmap';
import { policy_stats, type MapcountPolicy, type PolicyClaims, type PolicyEnv, type RmapLevel, type Vma } from '@foliolab/vm';

export interface PerFolioOptions {
  /**
   * 'tuples' (default): Wilcox, 24 Jan 2023: the number of (vma, page table) tuples that map any page
   * of the folio. 'vmas': his follow-up: the number of VMAs that map one or more pages of it.
   */
  variant?: 'tuples' | 'vmas';
  /**
   * How a write fault decides to reuse a large folio. 'mapcount+refcount' (default): the count says
   * one tuple maps it AND the refcount equals the entries this VMA has (no pin, nobody else), the
   * same safety net upstream relies on. 'mapcount': the proposal's literal reading, "1 means only
   * us", which trusts the count alone.
   */
  reuse?: 'mapcount+refcount' | 'mapcount';
}

/**
 * One mapcount per folio, constant size whatever the folio's order ("Folio mapcount", seed 004).
 * Its definition is a count of (vma, page table) tuples, so the rmap calls must know whether a tuple
 * already maps the folio: an add of fewer pages than the folio has asks folio_has_ptes() (a scan of
 * the page table, paid in cache lines), a remove asks whether the tuple still has any. A call that
 * covers the whole folio needs no scan. Splitting a PMD keeps the count (one table before, one after);
 * mremap moves tuples. Nothing updates the count when a VMA is split or merged (mprotect, madvise,
 * partial munmap/mremap): the kernel's __split_vma() does not walk page tables, and neither does the
 * proposal, so the count can drift from its own definition there, as Hildenbrand warned.
 */
export class PerFolioPolicy implements MapcountPolicy {
  readonly name: string;
  readonly claims: PolicyClaims = { page_mapcount: false, folio_mapcount: false, mapped: false, maybe_mapped_shared: 'estimate', partially_mapped: false };
  readonly stats = policy_stats();
  readonly variant: 'tuples' | 'vmas';
  readonly reuse: 'mapcount+refcount' | 'mapcount';
  private mc!: FieldHandle;
  private mm!: Memmap;
  private env!: PolicyEnv;

  constructor(opts: PerFolioOptions = {}) {
    this.variant = opts.variant ?? 'tuples';
    this.reuse = opts.reuse ?? 'mapcount+refcount';
    this.name = (this.variant === 'tuples' ? 'per-folio' : 'per-folio-vmas') + (this.reuse === 'mapcount' ? '-trusting' : '');
  }

  declare(memmap: Memmap): PlacementResult[] {
    const p = memmap.place({ owner: '@foliolab/mapcount-per-folio', name: '_mapcount', scope: 'folio', init: -1 });
    if (!is_refusal(p)) this.mc = p.handle;
    return [p];
  }

  attach(env: PolicyEnv): void {
    this.env = env;
    this.mm = env.memmap;
  }

  /** Does this tuple (vma, pt) — or this VMA, in the 'vmas' variant — map any page of the folio now? */
  private tuple_maps(folio: number, vma: Vma, pt: number): boolean {
    return (this.variant === 'tuples' ? this.env.folio_ptes_in_table(folio, vma, pt) : this.env.folio_entries_in_vma(folio, vma)) > 0;
  }

  private inc(folio: number): void {
    this.stats.atomics++;
    this.stats.cacheLines++;
    field_add(this.mc, folio, 1);
  }

  private dec(folio: number): number {
    this.stats.atomics++;
    this.stats.cacheLines++;
    return field_add(this.mc, folio, -1);
  }

  folio_add_new_anon_rmap(folio: number, _level: RmapLevel): void {
    this.stats.cacheLines++;
    field_set(this.mc, folio, 0);
  }

  /** folio_add_new_anon_rmap() for a run of order-0 folios: the memmap wrote mapcount 0 (new_anon_rmap_writes()). */
  folio_add_new_anon_rmap_batch(_folios: Int32Array, _pfns: Int32Array, n: number): void {
    this.stats.cacheLines += n;
  }

  new_anon_rmap_writes(): readonly AnonRmapWrite[] {
    return [{ handle: this.mc, unit: 'folio', value: 0 }];
  }

  folio_add_rmap_ptes(folio: number, _page: number, nr: number, vma: Vma, pt: number): void {
    if (nr === this.mm.folio_nr_pages(folio) || !this.tuple_maps(folio, vma, pt)) this.inc(folio);
  }

  /**
   * Decrement when the tuple's last PTE of the folio went. The count cannot say whether the folio is
   * now partially mapped; a removal of part of the folio that leaves it mapped is reported as
   * "maybe partially mapped" (the deferred split queue then splits what it must not, or nothing).
   */
  folio_remove_rmap_ptes(folio: number, _page: number, nr: number, vma: Vma, pt: number): boolean {
    const whole = nr === this.mm.folio_nr_pages(folio);
    let left = field_get(this.mc, folio);
    if (whole || !this.tuple_maps(folio, vma, pt)) left = this.dec(folio);
    return !whole && left >= 0;
  }

  folio_dup_rmap_ptes(folio: number, _page: number, nr: number, dst: Vma, dstPt: number): void {
    if (nr === this.mm.folio_nr_pages(folio) || !this.tuple_maps(folio, dst, dstPt)) this.inc(folio);
  }

  folio_add_rmap_pmd(folio: number): void {
    this.inc(folio);
  }

  folio_remove_rmap_pmd(folio: number): boolean {
    this.dec(folio);
    return false;
  }

  folio_dup_rmap_pmd(folio: number): void {
    this.inc(folio);
  }

  /** "Splitting the PMD into PTEs would not change the mapcount." */
  folio_split_pmd(): void {}

  folio_move_ptes(folio: number, _page: number, nr: number, from: Vma, fromPt: number, to: Vma, toPt: number): void {
    if (nr === this.mm.folio_nr_pages(folio)) return;
    if (!this.tuple_maps(folio, from, fromPt)) this.dec(folio);
    if (!this.tuple_maps(folio, to, toPt)) this.inc(folio);
  }

  folio_move_pmd(): void {}

  folio_mapcount(folio: number): number {
    this.stats.cacheLines++;
    return field_get(this.mc, folio) + 1;
  }

  page_mapcount(): null {
    return null;
  }

  folio_mapped(folio: number): boolean {
    return this.folio_mapcount(folio) > 0;
  }

  /** 1 means only us; 2 or more may be another process, or the same one twice: "maybe". */
  folio_maybe_mapped_shared(folio: number): boolean {
    return this.folio_mapcount(folio) > 1;
  }

  folio_partially_mapped(): null {
    return null;
  }

  wp_can_reuse_large(folio: number, _page: number, vma: Vma, refcount: number): boolean {
    if (this.folio_mapcount(folio) !== 1) return false;
    if (this.reuse === 'mapcount') return true;
    return this.env.folio_entries_in_vma(folio, vma) === refcount;
  }

  pte_maybe_shared(folio: number): boolean {
    return this.folio_maybe_mapped_shared(folio);
  }

  /** smaps can only divide by the folio's count and call a page private when the count is 1. */
  smaps_page(folio: number): { mapcount: number; exclusive: boolean } {
    const m = this.folio_mapcount(folio);
    return { mapcount: m, exclusive: m <= 1 };
  }
}

export const name = 'per-folio';

export function createPolicy(options: PerFolioOptions = {}): PerFolioPolicy {
  return new PerFolioPolicy(options);
}
