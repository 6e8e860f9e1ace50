import { Memmap, PageType, TWO32, field_get, field_get_word, field_set, field_set_word } from '@foliolab/memmap';
import { MemdescLayout } from '@foliolab/layout-memdesc';
import type { WaitFolioHost } from '@foliolab/pagewait';
import { MachineError } from './machine.js';

/** x86-64 vmemmap base, high word (0xffffea0000000000). */
const VMEMMAP_HI = 0xffffea00;
/** Where the simulated address_space objects live, one per 1024 folios, 256 bytes apart. */
const ADDRESS_SPACE_BASE = 0x7f00_0000_0000;

export interface MemmapWaitHost extends WaitFolioHost {
  /** Put every folio back. */
  release(): void;
}

/**
 * The folios a contend step works on, allocated from the machine's memmap as page-cache folios: their
 * flags and mapping are the layout's own fields, and the address hash_ptr() hashes is the head struct
 * page in the vmemmap (struct-page layouts) or the folio descriptor (memdesc layouts).
 */
export function memmap_wait_host(mm: Memmap, nrFolios: number): MemmapWaitHost {
  const ids = new Int32Array(nrFolios);
  for (let i = 0; i < nrFolios; i++) {
    const f = mm.folio_alloc(0, PageType.file);
    if (f < 0) {
      for (let j = 0; j < i; j++) mm.folio_put(ids[j]!);
      throw new MachineError('contend', `${nrFolios} hot and cold folios do not fit in the machine's ${mm.pfns} pages`);
    }
    ids[i] = f;
  }
  const core = mm.layout.core;
  const lo = new Uint32Array(nrFolios);
  const hi = new Uint32Array(nrFolios);
  const layout = mm.layout;
  for (let i = 0; i < nrFolios; i++) {
    const f = ids[i]!;
    let addrHi: number;
    let addrLo: number;
    if (layout instanceof MemdescLayout) {
      const a = layout.descriptor_address(PageType.file, f);
      addrHi = Math.floor(a / TWO32);
      addrLo = a % TWO32;
    } else {
      const off = mm.folio_pfn(f) * 64;
      addrHi = VMEMMAP_HI + Math.floor(off / TWO32);
      addrLo = off % TWO32;
    }
    hi[i] = addrHi;
    lo[i] = addrLo;
    const mapping = ADDRESS_SPACE_BASE + Math.floor(i / 1024) * 256;
    field_set_word(core.mapping, f, 0, mapping % TWO32 | 0);
    field_set_word(core.mapping, f, 1, Math.floor(mapping / TWO32));
  }
  return {
    nrFolios,
    folioAddressLo: (i) => lo[i]!,
    folioAddressHi: (i) => hi[i]!,
    flagsRead: (i) => field_get(core.flags, ids[i]!) >>> 0,
    flagsWrite: (i, v) => field_set(core.flags, ids[i]!, v | 0),
    mappingRead: (i) => field_get_word(core.mapping, ids[i]!, 1) * TWO32 + (field_get_word(core.mapping, ids[i]!, 0) >>> 0),
    mappingWrite: (i, v) => {
      field_set_word(core.mapping, ids[i]!, 0, v % TWO32 | 0);
      field_set_word(core.mapping, ids[i]!, 1, Math.floor(v / TWO32));
    },
    release: () => {
      for (let i = 0; i < nrFolios; i++) {
        field_set_word(core.mapping, ids[i]!, 0, 0);
        field_set_word(core.mapping, ids[i]!, 1, 0);
        field_set(core.flags, ids[i]!, 0);
        mm.folio_put(ids[i]!);
      }
    },
  };
}
