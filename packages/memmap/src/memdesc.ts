import { TWO32 } from './constants.js';
/**
 * What a page is used for, and the memdesc word that says so.
 *
 * PageType is the simulator's vocabulary for "what is this page" (the classes a census of
 * /proc/kpageflags produces). MemdescTag is the 4-bit tag of Wilcox's 8-byte memdesc word
 * ("State Of The Page, August 2022", seed 000): the tag says what the other 60 bits are: a
 * 16-byte-aligned descriptor address, or, for undescribed memory, one of 2^28 subtypes, or, for
 * buddy pages, the free block's order and its place on the free list (the buddy is embedded).
 */
export const PageType = {
  none: 0,
  hwpoison: 1,
  offline: 2,
  reserved: 3,
  buddy: 4,
  slab: 5,
  pagetable: 6,
  zero_page: 7,
  hugetlb: 8,
  ksm: 9,
  anon: 10,
  file: 11,
  unknown: 12,
} as const;
export type PageType = (typeof PageType)[keyof typeof PageType];
export const PAGE_TYPE_NAMES = [
  'none', 'hwpoison', 'offline', 'reserved', 'buddy', 'slab', 'pagetable', 'zero_page', 'hugetlb',
  'ksm', 'anon', 'file', 'unknown',
] as const;
export type PageTypeName = (typeof PAGE_TYPE_NAMES)[number];
export const NR_PAGE_TYPES = PAGE_TYPE_NAMES.length;

export function page_type_by_name(name: string): PageType | undefined {
  const i = (PAGE_TYPE_NAMES as readonly string[]).indexOf(name);
  return i < 0 ? undefined : (i as PageType);
}

/** True for the folio types: anon, file and KSM folios can be mapped to user space and are LRU folios. */
export function page_type_is_folio(t: PageType): boolean {
  return t === PageType.anon || t === PageType.file || t === PageType.ksm;
}

/** page->mapping of a new folio: PAGE_MAPPING_ANON, with PAGE_MAPPING_KSM for KSM, 0 for file (the page cache sets it). */
export function folio_mapping_bits(t: PageType): number {
  return t === PageType.anon ? 1 : t === PageType.ksm ? 3 : 0;
}

/**
 * The 4-bit memdesc tags, in the order of seed 000's list; KSM and HugeTLB take two of the
 * unassigned values (kernelnewbies' later revision lists KSM as its own type).
 */
export const MemdescTag = {
  undescribed: 0,
  slab: 1,
  anon: 2,
  file: 3,
  buddy: 4,
  pagetable: 5,
  vmalloc: 6,
  netpool: 7,
  zsmalloc: 8,
  z3fold: 9,
  mappable: 10,
  ksm: 11,
  hugetlb: 12,
} as const;
export type MemdescTag = (typeof MemdescTag)[keyof typeof MemdescTag];
export const MEMDESC_TAG_NAMES: readonly string[] = [
  'undescribed', 'slab', 'anon', 'file', 'buddy', 'pagetable', 'vmalloc', 'netpool', 'zsmalloc',
  'z3fold', 'mappable', 'ksm', 'hugetlb', 'unassigned-13', 'unassigned-14', 'unassigned-15',
];

/** Subtypes of undescribed memory (the low 28 bits above the tag). */
export const UndescribedSubtype = {
  none: 0,
  unmappable: 1,
  reserved: 2,
  hwpoison: 3,
  offline: 4,
  guard: 5,
  zero_page: 6,
} as const;
export type UndescribedSubtype = (typeof UndescribedSubtype)[keyof typeof UndescribedSubtype];

export const MEMDESC_TAG_BITS = 4;
export const MEMDESC_TAG_MASK = (1 << MEMDESC_TAG_BITS) - 1;
/** With a 4-bit tag in the low bits, every descriptor must be 16-byte aligned. */
export const MEMDESC_ALIGN = 1 << MEMDESC_TAG_BITS;
export const MEMDESC_SUBTYPE_BITS = 28;

/** The tag a page of this type carries in a memdesc world. */
export function memdesc_tag_of(t: PageType): MemdescTag {
  switch (t) {
    case PageType.buddy: return MemdescTag.buddy;
    case PageType.slab: return MemdescTag.slab;
    case PageType.pagetable: return MemdescTag.pagetable;
    case PageType.hugetlb: return MemdescTag.hugetlb;
    case PageType.ksm: return MemdescTag.ksm;
    case PageType.anon: return MemdescTag.anon;
    case PageType.file: return MemdescTag.file;
    default: return MemdescTag.undescribed;
  }
}

/** The undescribed subtype for page types that need no descriptor. */
export function memdesc_subtype_of(t: PageType): UndescribedSubtype {
  switch (t) {
    case PageType.reserved: return UndescribedSubtype.reserved;
    case PageType.hwpoison: return UndescribedSubtype.hwpoison;
    case PageType.offline: return UndescribedSubtype.offline;
    case PageType.zero_page: return UndescribedSubtype.zero_page;
    case PageType.unknown: return UndescribedSubtype.unmappable;
    default: return UndescribedSubtype.none;
  }
}

export function page_type_of_subtype(s: number): PageType {
  switch (s) {
    case UndescribedSubtype.reserved: return PageType.reserved;
    case UndescribedSubtype.hwpoison: return PageType.hwpoison;
    case UndescribedSubtype.offline: return PageType.offline;
    case UndescribedSubtype.zero_page: return PageType.zero_page;
    case UndescribedSubtype.unmappable: return PageType.unknown;
    case UndescribedSubtype.guard: return PageType.reserved;
    default: return PageType.none;
  }
}

/**
 * A memdesc word held as two unsigned 32-bit halves (the simulator never builds BigInts on a hot
 * path). Addresses are at most 2^52, which a double holds exactly.
 */
export interface MemdescWord {
  lo: number;
  hi: number;
}

/** Encode a descriptor reference. Throws unless the address is 16-byte aligned and the tag is 1..15. */
export function memdesc_encode_desc(tag: MemdescTag, address: number): MemdescWord {
  if (tag === MemdescTag.undescribed || tag < 0 || tag > MEMDESC_TAG_MASK) throw new RangeError(`memdesc: tag ${tag} cannot carry a descriptor`);
  if (!Number.isSafeInteger(address) || address <= 0 || address % MEMDESC_ALIGN !== 0) {
    throw new RangeError(`memdesc: descriptor address ${address} is not a positive multiple of ${MEMDESC_ALIGN}`);
  }
  return { lo: ((address % TWO32) | tag) >>> 0, hi: Math.floor(address / TWO32) >>> 0 };
}

/** Encode undescribed memory with a subtype (2^28 of them). */
export function memdesc_encode_undescribed(subtype: number): MemdescWord {
  if (!Number.isInteger(subtype) || subtype < 0 || subtype >= 2 ** MEMDESC_SUBTYPE_BITS) throw new RangeError(`memdesc: subtype ${subtype} out of range`);
  return { lo: (subtype << MEMDESC_TAG_BITS) >>> 0, hi: 0 };
}

export function memdesc_tag(lo: number): MemdescTag {
  return (lo & MEMDESC_TAG_MASK) as MemdescTag;
}

/** The descriptor address of a word whose tag carries one. */
export function memdesc_address(lo: number, hi: number): number {
  return hi * TWO32 + ((lo & ~MEMDESC_TAG_MASK) >>> 0);
}

export function memdesc_subtype(lo: number): number {
  return lo >>> MEMDESC_TAG_BITS;
}

/** Full 64-bit value, for display and tests only. */
export function memdesc_to_bigint(w: MemdescWord): bigint {
  return (BigInt(w.hi >>> 0) << 32n) | BigInt(w.lo >>> 0);
}
