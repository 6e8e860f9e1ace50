import type { AnonRmapWrite, Memmap, PlacementResult } from '@foliolab/memmap';
import { policy_stats, type MapcountPolicy, type PolicyClaims } from './policy.js';

/**
 * A policy that keeps no mapcount at all: no fields, no work. It answers conservatively (never
 * reuse a large folio, always "maybe shared", never partially mapped) and exists as the baseline
 * that shows what the vm costs before any mapcount scheme is added.
 */
export class NoMapcountPolicy implements MapcountPolicy {
  readonly name = 'none';
  readonly claims: PolicyClaims = { page_mapcount: false, folio_mapcount: false, mapped: false, maybe_mapped_shared: 'estimate', partially_mapped: false };
  readonly stats = policy_stats();
  declare(_memmap: Memmap): PlacementResult[] {
    return [];
  }
  attach(): void {}
  folio_add_new_anon_rmap(): void {}
  folio_add_new_anon_rmap_batch(): void {}
  new_anon_rmap_writes(): readonly AnonRmapWrite[] {
    return [];
  }
  folio_add_rmap_ptes(): void {}
  folio_remove_rmap_ptes(): boolean {
    return false;
  }
  folio_dup_rmap_ptes(): void {}
  folio_add_rmap_pmd(): void {}
  folio_remove_rmap_pmd(): boolean {
    return false;
  }
  folio_dup_rmap_pmd(): void {}
  folio_split_pmd(): void {}
  folio_move_ptes(): void {}
  folio_move_pmd(): void {}
  folio_mapcount(): number | null {
    return null;
  }
  page_mapcount(): number | null {
    return null;
  }
  folio_mapped(): boolean {
    return true;
  }
  folio_maybe_mapped_shared(): boolean {
    return true;
  }
  folio_partially_mapped(): boolean | null {
    return null;
  }
  wp_can_reuse_large(): boolean {
    return false;
  }
  pte_maybe_shared(): boolean {
    return true;
  }
  smaps_page(): { mapcount: number; exclusive: boolean } {
    return { mapcount: 1, exclusive: false };
  }
}
