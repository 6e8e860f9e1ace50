/**
 * A mapcount policy written outside foliolab: Matthew Wilcox's "Discworld troll" folio mapcount.
 * One count per folio that can only say Zero, One, Two or Many. It counts the (vma, page table)
 * tuples that map any page of the folio, like @foliolab/mapcount-per-folio, but saturates: once
 * it reaches Many it stays Many (a kernel would need an rmap walk to learn the real number, and this
 * policy never does one), so at most three increments ever touch the field.
 *
 * Copy this file, change it, and try it:
 *   npm run foliolab -- compare thp-fork-partial --mapcount upstream,./examples/troll-mapcount.ts
 * or compose it in your own code (examples/custom-mapcount.ts).
 *
 * The module contract the CLI checks: export createPolicy(options) returning an object with a
 * `name` and every method of the MapcountPolicy interface of @foliolab/vm.
 */
import { field_get, field_set, is_refusal, type FieldHandle, type Memmap, type PlacementResult } from '@foliolab/memmap';
import { policy_stats, type MapcountPolicy, type PolicyClaims, type PolicyEnv, type RmapLevel, type Vma } from '@foliolab/vm';

/** The four values the troll can count to. MANY is sticky. */
export const ZERO = 0;
export const ONE = 1;
export const TWO = 2;
export const MANY = 3;

export class TrollMapcountPolicy implements MapcountPolicy {
  readonly name = 'troll';
  // It answers no query exactly: Many hides the number, it has no per-page count, and, like every
  // count of tuples, it drifts when a VMA is split under a mapped folio (munmap/mprotect of part).
  readonly claims: PolicyClaims = { page_mapcount: false, folio_mapcount: false, mapped: false, maybe_mapped_shared: 'estimate', partially_mapped: false };
  readonly stats = policy_stats();
  /** Times the count was already Many when it would have gone up or down: the updates it saved. */
  saturatedUpdates = 0;
  private count!: FieldHandle;
  private mm!: Memmap;
  private env!: PolicyEnv;

  declare(memmap: Memmap): PlacementResult[] {
    // Two bits would do; the layouts place 32-bit slots, so the troll lives in one.
    const p = memmap.place({ owner: 'examples/troll-mapcount', name: '_troll_mapcount', scope: 'folio', init: ZERO });
    if (!is_refusal(p)) this.count = p.handle;
    return [p];
  }

  attach(env: PolicyEnv): void {
    this.env = env;
    this.mm = env.memmap;
  }

  private get(folio: number): number {
    this.stats.cacheLines++;
    return field_get(this.count, folio);
  }

  /** Zero -> One -> Two -> Many; Many stays. Only a change costs an atomic. */
  private up(folio: number): void {
    const v = this.get(folio);
    if (v === MANY) {
      this.saturatedUpdates++;
      return;
    }
    this.stats.atomics++;
    field_set(this.count, folio, v + 1);
  }

  /** Many cannot go down: the real number may be anything from 1 up. Returns the new value. */
  private down(folio: number): number {
    const v = this.get(folio);
    if (v === MANY) {
      this.saturatedUpdates++;
      return MANY;
    }
    if (v === ZERO) return ZERO; // an unmap the count never saw go up (cannot happen from One or Two)
    this.stats.atomics++;
    field_set(this.count, folio, v - 1);
    return v - 1;
  }

  /** Does this (vma, page table) tuple still map some page of the folio? (a page-table scan) */
  private tuple_maps(folio: number, vma: Vma, pt: number): boolean {
    return this.env.folio_ptes_in_table(folio, vma, pt) > 0;
  }

  private whole(folio: number, nr: number): boolean {
    return nr === this.mm.folio_nr_pages(folio);
  }

  folio_add_new_anon_rmap(folio: number, _level: RmapLevel): void {
    this.stats.cacheLines++;
    field_set(this.count, folio, ONE);
  }

  folio_add_rmap_ptes(folio: number, _page: number, nr: number, vma: Vma, pt: number): void {
    if (this.whole(folio, nr) || !this.tuple_maps(folio, vma, pt)) this.up(folio);
  }

  folio_remove_rmap_ptes(folio: number, _page: number, nr: number, vma: Vma, pt: number): boolean {
    const whole = this.whole(folio, nr);
    const left = whole || !this.tuple_maps(folio, vma, pt) ? this.down(folio) : this.get(folio);
    // Part of the folio went and someone still maps it: maybe partially mapped.
    return !whole && left !== ZERO;
  }

  folio_dup_rmap_ptes(folio: number, _page: number, nr: number, dst: Vma, dstPt: number): void {
    if (this.whole(folio, nr) || !this.tuple_maps(folio, dst, dstPt)) this.up(folio);
  }

  folio_add_rmap_pmd(folio: number): void {
    this.up(folio);
  }

  folio_remove_rmap_pmd(folio: number): boolean {
    this.down(folio);
    return false;
  }

  folio_dup_rmap_pmd(folio: number): void {
    this.up(folio);
  }

  /** One PMD table before, one PTE table after: the same number of tuples. */
  folio_split_pmd(): void {}

  folio_move_ptes(folio: number, _page: number, nr: number, from: Vma, fromPt: number, to: Vma, toPt: number): void {
    if (this.whole(folio, nr)) return;
    if (!this.tuple_maps(folio, from, fromPt)) this.down(folio);
    if (!this.tuple_maps(folio, to, toPt)) this.up(folio);
  }

  folio_move_pmd(): void {}

  /** The number when the troll knows it; Many is not a number. */
  folio_mapcount(folio: number): number | null {
    const v = this.get(folio);
    return v === MANY ? null : v;
  }

  page_mapcount(): number | null {
    return null;
  }

  folio_mapped(folio: number): boolean {
    return this.get(folio) !== ZERO;
  }

  /** Two or Many: maybe another process (or the same one through two tuples). */
  folio_maybe_mapped_shared(folio: number): boolean {
    return this.get(folio) >= TWO;
  }

  folio_partially_mapped(): boolean | null {
    return null;
  }

  /** Reuse only when the troll says One and every reference is one of this VMA's entries (no pin). */
  wp_can_reuse_large(folio: number, _page: number, vma: Vma, refcount: number): boolean {
    return this.get(folio) === ONE && this.env.folio_entries_in_vma(folio, vma) === refcount;
  }

  pte_maybe_shared(folio: number): boolean {
    return this.folio_maybe_mapped_shared(folio);
  }

  smaps_page(folio: number): { mapcount: number; exclusive: boolean } {
    const v = this.get(folio);
    return { mapcount: Math.max(v, ONE), exclusive: v <= ONE };
  }
}

export const name = 'troll';

/** The factory `foliolab compare --mapcount ./troll-mapcount.ts` calls. */
export function createPolicy(): TrollMapcountPolicy {
  return new TrollMapcountPolicy();
}
