import { PageType, type Memmap } from '@foliolab/memmap';

/**
 * x86-64 4-level page tables (PGD → PUD → PMD → PTE), 512 entries per table, stored flat: table
 * `slot` occupies ent[slot*512 .. slot*512+511] of one growable Uint32Array. No object per PTE.
 *
 * Every table is a real page of the simulated machine: allocated from the buddy allocator as a
 * PageType.pagetable object (pte_alloc_one / __pmd_alloc ...), so page tables show up as pagetable
 * memory in the layout's accounting, and freed back when free_pgtables() drops them.
 *
 * Entry encoding (one u32):
 *   0                                   pte_none / pmd_none
 *   slot << 4 | PRESENT                 a non-leaf entry pointing to the next-level table `slot`
 *   pfn  << 4 | PRESENT [| WRITE]       a leaf PTE mapping pfn
 *   pfn  << 4 | PRESENT | HUGE [| WRITE] a leaf PMD mapping the PMD-sized folio starting at pfn
 * PFNs are below 2^28 (the simulator's 1 TiB limit), so pfn << 4 fits in 32 bits.
 */
export const E_PRESENT = 1;
export const E_WRITE = 2;
export const E_HUGE = 4;
export const PTRS = 512;

export const PGDIR_SHIFT = 39;
export const PUD_SHIFT = 30;
export const PMD_SHIFT = 21;
export const PMD_SIZE = 1 << PMD_SHIFT;
export const PUD_SIZE = 2 ** PUD_SHIFT;

export function entry_pfn(e: number): number {
  return e >>> 4;
}

export class PageTables {
  ent: Uint32Array;
  /** Per slot: PFN of the table page, the layout's object id, the level (4 PGD .. 1 PTE), present entries. */
  tPfn: Int32Array;
  tObj: Int32Array;
  tLevel: Int8Array;
  tUsed: Int32Array;
  private freeSlots: number[] = [];
  private nextSlot = 0;
  live = 0;
  peak = 0;

  /**
   * Room from the start for the PTE tables that map every page of the machine once, plus upper levels
   * (at most 8192 tables, 16 MiB of host memory); forks and sparse mappings grow it. Each growth copies
   * the whole array into new host memory: growing from 64 tables cost a fault pass over a 4 GiB machine
   * a fifth of its time. The array is written here, so the host faults it in once, page by page.
   */
  constructor(private readonly memmap: Memmap) {
    const slots = Math.min(8192, Math.max(64, Math.ceil(memmap.pfns / PTRS) + 16));
    this.ent = new Uint32Array(PTRS * slots).fill(0);
    this.tPfn = new Int32Array(slots);
    this.tObj = new Int32Array(slots);
    this.tLevel = new Int8Array(slots);
    this.tUsed = new Int32Array(slots);
  }

  /** Allocate a zeroed table page. Returns its slot, or -1 when the machine is out of memory. */
  alloc(level: number): number {
    const obj = this.memmap.alloc_object(PageType.pagetable, 0);
    if (obj < 0) return -1;
    let slot: number;
    if (this.freeSlots.length > 0) slot = this.freeSlots.pop()!;
    else {
      slot = this.nextSlot++;
      if (slot >= this.tPfn.length) this.grow();
    }
    this.tObj[slot] = obj;
    this.tPfn[slot] = this.memmap.layout.object_pfn(PageType.pagetable, obj);
    this.tLevel[slot] = level;
    this.tUsed[slot] = 0;
    if (++this.live > this.peak) this.peak = this.live;
    return slot;
  }

  free(slot: number): void {
    const base = slot * PTRS;
    this.ent.fill(0, base, base + PTRS);
    this.memmap.free_object(PageType.pagetable, this.tObj[slot]!);
    this.tObj[slot] = -1;
    this.tLevel[slot] = 0;
    this.tUsed[slot] = 0;
    this.freeSlots.push(slot);
    this.live--;
  }

  private grow(): void {
    const n = this.tPfn.length * 2;
    const ent = new Uint32Array(n * PTRS);
    ent.set(this.ent);
    // Write the new half too (see PfnArray.ensure()): a fault scans none PTEs before it sets them.
    ent.fill(0, this.ent.length);
    this.ent = ent;
    const g32 = (a: Int32Array) => {
      const b = new Int32Array(n);
      b.set(a);
      return b;
    };
    this.tPfn = g32(this.tPfn);
    this.tObj = g32(this.tObj);
    this.tUsed = g32(this.tUsed);
    const l = new Int8Array(n);
    l.set(this.tLevel);
    this.tLevel = l;
  }

  /** Host bytes of the flat storage. */
  host_bytes(): number {
    return this.ent.byteLength + this.tPfn.byteLength * 3 + this.tLevel.byteLength;
  }
}
