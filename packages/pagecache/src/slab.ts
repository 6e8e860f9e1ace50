import { PAGE_SIZE, PageType, type Memmap } from '@foliolab/memmap';
import { FsError } from './errors.js';

/**
 * A slab cache (kmem_cache) whose slab pages come from the simulated buddy allocator, so buffer heads
 * and iomap_folio_state are charged to the machine as `slab` memory, the way the kernel charges them.
 *
 * Object ids are dense: id = slab * objsPerSlab + slot. A cache may carry `words` 32-bit words of
 * host storage per object (the object's contents, e.g. an ifs bitmap), at storage[id * words ...].
 *
 * Invariant: every id below nrSlabs * objsPerSlab is either live or on the free stack, exactly once;
 * inuse[s] counts the live objects of slab s; a slab with no page (slabPage[s] < 0) has none of its
 * ids on the free stack.
 */
export class KmemCache {
  readonly objsPerSlab: number;
  private slabPage = new Int32Array(16);
  private inuse = new Int32Array(16);
  private nrSlabSlots = 0;
  private freeStack = new Int32Array(64);
  private freeTop = 0;
  /** Slab slots whose page was released by shrink(), reused before new slots. */
  private emptySlots: number[] = [];
  storage: Uint32Array;
  live = 0;
  slabs = 0;
  allocs = 0;
  frees = 0;

  constructor(
    private readonly mm: Memmap,
    readonly name: string,
    readonly objsize: number,
    readonly slabOrder = 0,
    readonly words = 0,
  ) {
    this.objsPerSlab = Math.floor((PAGE_SIZE << slabOrder) / objsize);
    this.storage = new Uint32Array(words > 0 ? 64 * words : 0);
  }

  alloc(): number {
    if (this.freeTop === 0) this.grow();
    const id = this.freeStack[--this.freeTop]!;
    this.inuse[(id / this.objsPerSlab) | 0]!++;
    this.live++;
    this.allocs++;
    if (this.words > 0) this.storage.fill(0, id * this.words, (id + 1) * this.words);
    return id;
  }

  free(id: number): void {
    this.inuse[(id / this.objsPerSlab) | 0]!--;
    this.live--;
    this.frees++;
    if (this.freeTop === this.freeStack.length) {
      const a = new Int32Array(this.freeStack.length * 2);
      a.set(this.freeStack);
      this.freeStack = a;
    }
    this.freeStack[this.freeTop++] = id;
  }

  private grow(): void {
    const page = this.mm.alloc_object(PageType.slab, this.slabOrder);
    if (page < 0) throw new FsError('ENOMEM', this.name, `no memory for a slab page of ${this.name}`);
    let s: number;
    if (this.emptySlots.length > 0) s = this.emptySlots.pop()!;
    else {
      s = this.nrSlabSlots++;
      if (s === this.slabPage.length) {
        const p = new Int32Array(s * 2);
        p.set(this.slabPage);
        this.slabPage = p;
        const u = new Int32Array(s * 2);
        u.set(this.inuse);
        this.inuse = u;
      }
      const need = this.nrSlabSlots * this.objsPerSlab * this.words;
      if (need > this.storage.length) {
        const st = new Uint32Array(Math.max(need, this.storage.length * 2));
        st.set(this.storage);
        this.storage = st;
      }
    }
    this.slabPage[s] = page;
    this.inuse[s] = 0;
    this.slabs++;
    const need = this.freeTop + this.objsPerSlab;
    if (need > this.freeStack.length) {
      const a = new Int32Array(Math.max(need, this.freeStack.length * 2));
      a.set(this.freeStack);
      this.freeStack = a;
    }
    // Highest slot first so that the first allocation gets slot 0.
    for (let k = this.objsPerSlab - 1; k >= 0; k--) this.freeStack[this.freeTop++] = s * this.objsPerSlab + k;
  }

  /** kmem_cache_shrink(): give every empty slab page back to the buddy allocator. */
  shrink(): number {
    let released = 0;
    const empty = new Uint8Array(this.nrSlabSlots);
    for (let s = 0; s < this.nrSlabSlots; s++) {
      if (this.slabPage[s]! >= 0 && this.inuse[s] === 0 && this.slabs > 0) {
        empty[s] = 1;
        this.mm.free_object(PageType.slab, this.slabPage[s]!);
        this.slabPage[s] = -1;
        this.emptySlots.push(s);
        this.slabs--;
        released++;
      }
    }
    if (released > 0) {
      let w = 0;
      for (let r = 0; r < this.freeTop; r++) {
        const id = this.freeStack[r]!;
        if (!empty[(id / this.objsPerSlab) | 0]) this.freeStack[w++] = id;
      }
      this.freeTop = w;
    }
    return released;
  }

  /** Bytes of slab pages this cache holds (what the machine pays). */
  slab_bytes(): number {
    return this.slabs * (PAGE_SIZE << this.slabOrder);
  }
}

/** The kmalloc size classes (x86-64 SLUB defaults) and kmalloc_size_roundup(). */
export const KMALLOC_SIZES = [8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192] as const;

export function kmalloc_size_roundup(size: number): number {
  for (const s of KMALLOC_SIZES) if (size <= s) return s;
  // Larger requests go to the page allocator: whole pages, power-of-two order.
  let p = PAGE_SIZE;
  while (p < size) p *= 2;
  return p;
}
