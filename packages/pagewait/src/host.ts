/**
 * The folio host: what the wait engine needs to know about a folio, and nothing more. The memmap binds it
 * later; {@link createStandaloneHost} backs it with typed arrays for tests and standalone runs.
 *
 * Addresses are 64-bit kernel virtual addresses and do not fit a JS number exactly, so the host hands out
 * the two 32-bit halves; hash_ptr() is computed from them exactly.
 */
export interface WaitFolioHost {
  /** Number of folios, named 0..nrFolios-1. */
  readonly nrFolios: number;
  /** Low 32 bits of the address hash_ptr() hashes: the head struct page (or the folio descriptor). */
  folioAddressLo(folio: number): number;
  /** High 32 bits of that address. */
  folioAddressHi(folio: number): number;
  /** The low 32 bits of folio->flags (PG_locked .. PG_waiters live here). */
  flagsRead(folio: number): number;
  flagsWrite(folio: number, flags: number): void;
  /**
   * folio->mapping as an opaque pointer value. Values are integers below 2^53 and multiples of 8 for a
   * pointer to an address_space; 0 is NULL. Policies may store tagged values here (pagewait-attached).
   */
  mappingRead(folio: number): number;
  mappingWrite(folio: number, mapping: number): void;
}

/** x86-64 default vmemmap base (Documentation/arch/x86/x86_64/mm.rst, 4-level paging). */
export const VMEMMAP_START_HI = 0xffffea00;
export const VMEMMAP_START_LO = 0x00000000;
/** sizeof(struct page) on x86-64. */
export const STRUCT_PAGE_SIZE = 64;
/** Where the standalone host places its address_space objects (8-byte aligned, below 2^53). */
export const STANDALONE_ADDRESS_SPACE_BASE = 0x7f00_0000_0000;
/** One address_space (one file) per this many folios in the standalone host. */
export const STANDALONE_FOLIOS_PER_FILE = 1024;
/** Stride between standalone address_space objects (sizeof(struct address_space) rounded up). */
export const STANDALONE_ADDRESS_SPACE_STRIDE = 256;

export interface StandaloneHostOptions {
  nrFolios: number;
  /** Every folio has 2^folioOrder pages; folio i starts at PFN basePfn + (i << folioOrder). */
  folioOrder?: number;
  basePfn?: number;
}

export interface StandaloneHost extends WaitFolioHost {
  readonly folioOrder: number;
  readonly basePfn: number;
  /** Head PFN of a folio. */
  folioPfn(folio: number): number;
  /** The mapping the host assigned at creation (what `mapping` must read as when nobody waits). */
  originalMapping(folio: number): number;
}

/** Typed-array host: vmemmap address = 0xffffea0000000000 + pfn * 64. */
export function createStandaloneHost(options: StandaloneHostOptions): StandaloneHost {
  const { nrFolios } = options;
  const folioOrder = options.folioOrder ?? 0;
  const basePfn = options.basePfn ?? 0;
  if (!Number.isInteger(nrFolios) || nrFolios < 1) throw new RangeError(`host.nrFolios: must be an integer >= 1, got ${nrFolios}`);
  if (!Number.isInteger(folioOrder) || folioOrder < 0 || folioOrder > 18) throw new RangeError(`host.folioOrder: must be an integer 0..18, got ${folioOrder}`);
  if (!Number.isInteger(basePfn) || basePfn < 0) throw new RangeError(`host.basePfn: must be an integer >= 0, got ${basePfn}`);
  // pfn * 64 must stay below 2^46 (a 64 TiB vmemmap window) so the low/high split below is exact.
  const lastPfn = basePfn + (nrFolios - 1) * 2 ** folioOrder;
  if (lastPfn * STRUCT_PAGE_SIZE >= 2 ** 46) throw new RangeError(`host: the last PFN ${lastPfn} is beyond the vmemmap window`);
  const flags = new Uint32Array(nrFolios);
  const mapping = new Float64Array(nrFolios);
  const addrLo = new Uint32Array(nrFolios);
  const addrHi = new Uint32Array(nrFolios);
  for (let f = 0; f < nrFolios; f++) {
    const off = (basePfn + f * 2 ** folioOrder) * STRUCT_PAGE_SIZE; // < 2^46, exact
    const lo = off % 2 ** 32;
    addrLo[f] = (VMEMMAP_START_LO + lo) >>> 0; // VMEMMAP_START_LO is 0: no carry
    addrHi[f] = (VMEMMAP_START_HI + Math.floor(off / 2 ** 32)) >>> 0;
    mapping[f] = originalMappingOf(f);
  }
  return {
    nrFolios,
    folioOrder,
    basePfn,
    folioPfn: (f) => basePfn + f * 2 ** folioOrder,
    originalMapping: originalMappingOf,
    folioAddressLo: (f) => addrLo[f],
    folioAddressHi: (f) => addrHi[f],
    flagsRead: (f) => flags[f],
    flagsWrite: (f, v) => {
      flags[f] = v;
    },
    mappingRead: (f) => mapping[f],
    mappingWrite: (f, v) => {
      mapping[f] = v;
    },
  };
}

function originalMappingOf(folio: number): number {
  return STANDALONE_ADDRESS_SPACE_BASE + Math.floor(folio / STANDALONE_FOLIOS_PER_FILE) * STANDALONE_ADDRESS_SPACE_STRIDE;
}
