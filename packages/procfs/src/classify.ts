import { KPF, KPF_MAPPEDTODISK, kpfHi, kpfLo } from './kpf.js';

/** The memdesc types of a PFN, in classification priority order (first match wins). */
export const PAGE_CLASSES = [
  'none',
  'hwpoison',
  'offline',
  'reserved',
  'buddy',
  'slab',
  'pagetable',
  'zero_page',
  'hugetlb',
  'ksm',
  'anon',
  'file',
  'unknown',
] as const;
export type PageClass = (typeof PAGE_CLASSES)[number];

export const CLASS_NONE = 0;
export const CLASS_HWPOISON = 1;
export const CLASS_OFFLINE = 2;
export const CLASS_RESERVED = 3;
export const CLASS_BUDDY = 4;
export const CLASS_SLAB = 5;
export const CLASS_PAGETABLE = 6;
export const CLASS_ZERO_PAGE = 7;
export const CLASS_HUGETLB = 8;
export const CLASS_KSM = 9;
export const CLASS_ANON = 10;
export const CLASS_FILE = 11;
export const CLASS_UNKNOWN = 12;

const NOPAGE = kpfLo(KPF.NOPAGE);
const HWPOISON = kpfLo(KPF.HWPOISON);
const OFFLINE = kpfLo(KPF.OFFLINE);
const RESERVED_HI = kpfHi(KPF.RESERVED);
const BUDDY = kpfLo(KPF.BUDDY);
const SLAB = kpfLo(KPF.SLAB);
const PGTABLE = kpfLo(KPF.PGTABLE);
const ZERO_PAGE = kpfLo(KPF.ZERO_PAGE);
const HUGE = kpfLo(KPF.HUGE);
const KSM = kpfLo(KPF.KSM);
const ANON = kpfLo(KPF.ANON);
const FILE_LO = kpfLo(KPF.LRU) | kpfLo(KPF.MMAP) | kpfLo(KPF.UPTODATE) | kpfLo(KPF.DIRTY) | kpfLo(KPF.WRITEBACK);
const FILE_HI = kpfHi(KPF_MAPPEDTODISK) | kpfHi(KPF.PRIVATE);

/**
 * The class index (into PAGE_CLASSES) of one PFN from its own flag word and kpagecount.
 *
 * `none` is flags 0 with count 0 (holes inside online sections, uninitialised memmap, tails of free
 * blocks) and also a lone KPF_NOPAGE (the kernel's marker for a PFN with no online struct page at all:
 * there is no memmap there to describe). Compound tails are not classified here: they take their head's class.
 */
export function pageClassify(lo: number, hi: number, count: number): number {
  if ((lo === 0 || lo === NOPAGE) && hi === 0 && count === 0) return CLASS_NONE;
  if (lo & HWPOISON) return CLASS_HWPOISON;
  if (lo & OFFLINE) return CLASS_OFFLINE;
  if (hi & RESERVED_HI) return CLASS_RESERVED;
  if (lo & BUDDY) return CLASS_BUDDY;
  if (lo & SLAB) return CLASS_SLAB;
  if (lo & PGTABLE) return CLASS_PAGETABLE;
  if (lo & ZERO_PAGE) return CLASS_ZERO_PAGE;
  if (lo & HUGE) return CLASS_HUGETLB;
  if (lo & KSM) return CLASS_KSM;
  if (lo & ANON) return CLASS_ANON;
  if (lo & FILE_LO || hi & FILE_HI) return CLASS_FILE;
  return CLASS_UNKNOWN;
}
