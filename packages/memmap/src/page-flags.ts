/**
 * Page flags with the kernel's names (include/linux/page-flags.h, v6.18 order for the bits that
 * matter here). PG_waiters is bit 7, in the same byte as PG_locked, so that unlock and the waiter
 * test can be a single byte operation (folio_unlock relies on it).
 */
export const PG_locked = 0;
export const PG_writeback = 1;
export const PG_referenced = 2;
export const PG_uptodate = 3;
export const PG_dirty = 4;
export const PG_lru = 5;
export const PG_head = 6;
export const PG_waiters = 7;
export const PG_active = 8;
export const PG_workingset = 9;
export const PG_owner_priv_1 = 10;
export const PG_owner_2 = 11;
export const PG_arch_1 = 12;
export const PG_reserved = 13;
export const PG_private = 14;
export const PG_private_2 = 15;
export const PG_reclaim = 16;
export const PG_swapbacked = 17;
export const PG_unevictable = 18;
export const PG_dropbehind = 19;
export const PG_mlocked = 20;
export const PG_hwpoison = 21;
export const PG_young = 22;
export const PG_idle = 23;
/** Aliases the kernel defines on top of the bits above. */
export const PG_checked = PG_owner_priv_1;
export const PG_swapcache = PG_owner_priv_1;
export const PG_mappedtodisk = PG_owner_2;
export const PG_anon_exclusive = PG_owner_2;
/** Large-folio flags live in page[1]'s flags (_flags_1 above the order byte) in struct-page layouts. */
export const PG_partially_mapped = PG_reclaim;

export const PAGE_FLAG_NAMES: readonly string[] = [
  'locked', 'writeback', 'referenced', 'uptodate', 'dirty', 'lru', 'head', 'waiters',
  'active', 'workingset', 'owner_priv_1', 'owner_2', 'arch_1', 'reserved', 'private', 'private_2',
  'reclaim', 'swapbacked', 'unevictable', 'dropbehind', 'mlocked', 'hwpoison', 'young', 'idle',
];

/** Names of the set bits of a flags word, lowest first, like %pGp without the hex prefix. */
export function page_flags_names(flags: number): string[] {
  const out: string[] = [];
  for (let bit = 0; bit < PAGE_FLAG_NAMES.length; bit++) if (flags & (1 << bit)) out.push(PAGE_FLAG_NAMES[bit]!);
  return out;
}
