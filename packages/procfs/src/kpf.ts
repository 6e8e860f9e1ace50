/**
 * KPF_* bit numbers of /proc/kpageflags.
 *
 * 0..26 are the stable ABI of include/uapi/linux/kernel-page-flags.h; 32..42 are the kernel-internal
 * "hacking assistance" bits of include/linux/kernel-page-flags.h (fs/proc/page.c sets them).
 * KPF_OWNER_2 (34) was KPF_MAPPEDTODISK before PG_mappedtodisk became PG_owner_2; anon pages use the same
 * bit as PG_anon_exclusive. 47..63 are not kernel ABI: tools/mm/page-types picks these free slots to show
 * overloaded bits expanded (anon_exclusive, readahead, slub_frozen, slub_debug) and pagemap bits.
 */
export const KPF = {
  LOCKED: 0,
  ERROR: 1,
  REFERENCED: 2,
  UPTODATE: 3,
  DIRTY: 4,
  LRU: 5,
  ACTIVE: 6,
  SLAB: 7,
  WRITEBACK: 8,
  RECLAIM: 9,
  BUDDY: 10,
  MMAP: 11,
  ANON: 12,
  SWAPCACHE: 13,
  SWAPBACKED: 14,
  COMPOUND_HEAD: 15,
  COMPOUND_TAIL: 16,
  HUGE: 17,
  UNEVICTABLE: 18,
  HWPOISON: 19,
  NOPAGE: 20,
  KSM: 21,
  THP: 22,
  OFFLINE: 23,
  ZERO_PAGE: 24,
  IDLE: 25,
  PGTABLE: 26,
  // kernel-internal
  RESERVED: 32,
  MLOCKED: 33,
  OWNER_2: 34,
  PRIVATE: 35,
  PRIVATE_2: 36,
  OWNER_PRIVATE: 37,
  ARCH: 38,
  UNCACHED: 39,
  SOFTDIRTY: 40,
  ARCH_2: 41,
  ARCH_3: 42,
  // page-types' expansion slots (not kernel ABI)
  ANON_EXCLUSIVE: 47,
  READAHEAD: 48,
  SLUB_FROZEN: 50,
  SLUB_DEBUG: 51,
  FILE: 61,
  SWAP: 62,
  MMAP_EXCLUSIVE: 63,
} as const;

/** The old name of bit 34, used by the `file` classification rule. */
export const KPF_MAPPEDTODISK = KPF.OWNER_2;

/**
 * A u64 flag word is held as two u32 halves (lo = bits 0..31, hi = bits 32..63), the way a Uint32Array
 * view over the little-endian kpageflags array presents it. These give the mask of a bit within its half.
 */
export function kpfLo(bit: number): number {
  if (bit >= 32) throw new RangeError(`KPF bit ${bit} is in the high word`);
  return (1 << bit) >>> 0;
}
export function kpfHi(bit: number): number {
  if (bit < 32) throw new RangeError(`KPF bit ${bit} is in the low word`);
  return (1 << (bit - 32)) >>> 0;
}
