/** x86-64 defaults; every figure here is the kernel's own. */
export const PAGE_SHIFT = 12;
/** 2^32: the split of a 64-bit kernel word (an address, folio->index) into two 32-bit slots. */
export const TWO32 = 0x1_0000_0000;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
/** MAX_PAGE_ORDER is inclusive since v6.4 (v6.8 name): the largest buddy block is 2^10 pages = 4 MiB. */
export const MAX_PAGE_ORDER = 10;
export const NR_PAGE_ORDERS = MAX_PAGE_ORDER + 1;
export const MAX_ORDER_NR_PAGES = 1 << MAX_PAGE_ORDER;
/** SPARSEMEM: SECTION_SIZE_BITS = 27 on x86-64, so a section is 128 MiB = 32768 pages. */
export const SECTION_SIZE_BITS = 27;
export const PFN_SECTION_SHIFT = SECTION_SIZE_BITS - PAGE_SHIFT;
export const PAGES_PER_SECTION = 1 << PFN_SECTION_SHIFT;
export const PTRS_PER_PTE = 512;
export const PTRS_PER_PMD = 512;
export const HPAGE_PMD_ORDER = 9;
export const HPAGE_PMD_NR = 1 << HPAGE_PMD_ORDER;
export const HPAGE_PUD_ORDER = 18;
/** sizeof(struct page) on x86-64. */
export const STRUCT_PAGE_SIZE = 64;
/** Start of the vmemmap on x86-64 with 4-level paging (page_to_virt of the memmap). */
export const VMEMMAP_START = 0xffffea0000000000n;
/** The simulator addresses at most 2^28 PFNs (1 TiB of 4 KiB pages). */
export const MAX_SIM_PFNS = 1 << 28;
