import { KmemCache, kmalloc_size_roundup, type PageCache } from '@foliolab/pagecache';

/** Header of struct iomap_folio_state: state_lock, read_bytes_pending, write_bytes_pending (12 B padded to 16). */
export const IFS_HEADER = 16;
const HEADER_WORDS = IFS_HEADER / 4;

/** sizeof(struct iomap_folio_state) for n blocks: 16 + BITS_TO_LONGS(2n) * 8. */
export function ifs_raw_size(nrBlocks: number): number {
  return IFS_HEADER + Math.ceil((2 * nrBlocks) / 64) * 8;
}

/**
 * iomap_folio_state objects: per-block uptodate bits [0, n) and dirty bits [n, 2n) in one bitmap,
 * kzalloc'ed from the kmalloc size class that fits 16 + BITS_TO_LONGS(2n) * 8 bytes. Each size class
 * is a slab cache on the machine's buddy allocator, so the bytes are charged as slab memory. Object
 * contents live in the cache's word storage (header words, then the bitmap as 32-bit words).
 *
 * An ifs exists only when a folio holds more than one block (ifs_alloc returns NULL otherwise).
 */
export class FolioStates {
  private readonly caches = new Map<number, KmemCache>();

  constructor(private readonly pc: PageCache) {}

  nr_blocks(f: number): number {
    return Math.max(1, this.pc.folio_size(f) >> this.pc.blkbits);
  }

  cache_for(n: number): KmemCache {
    const size = kmalloc_size_roundup(ifs_raw_size(n));
    let c = this.caches.get(size);
    if (c === undefined) {
      const order = size > 4096 ? Math.log2(size / 4096) : 0;
      c = new KmemCache(this.pc.mm, `kmalloc-${size}`, size, order, size / 4);
      this.caches.set(size, c);
    }
    return c;
  }

  get(f: number): number {
    return this.pc.folio_get_private(f);
  }

  /** ifs_alloc(): attach a state initialised from the folio's uptodate and dirty flags; -1 when n <= 1. */
  alloc(f: number): number {
    const pc = this.pc;
    const have = pc.folio_get_private(f);
    if (have >= 0) return have;
    const n = this.nr_blocks(f);
    if (n <= 1) return -1;
    const c = this.cache_for(n);
    const id = c.alloc();
    if (pc.folio_test_uptodate(f)) this.set_bits(f, id, 0, n);
    if (pc.test(f, 4 /* PG_dirty */)) this.set_bits(f, id, n, n);
    pc.folio_attach_private(f, id);
    pc.stats.iomap_folio_state_bytes += c.objsize;
    pc.stats.detail.iomap_folio_state_bytes_live += c.objsize;
    return id;
  }

  /** ifs_free() */
  free(f: number): void {
    const pc = this.pc;
    const id = pc.folio_get_private(f);
    if (id < 0) return;
    const c = this.cache_for(this.nr_blocks(f));
    c.free(id);
    pc.folio_detach_private(f);
    pc.stats.detail.ifs_freed_bytes += c.objsize;
    pc.stats.detail.iomap_folio_state_bytes_live -= c.objsize;
  }

  bytes(f: number): number {
    return this.pc.folio_get_private(f) >= 0 ? this.cache_for(this.nr_blocks(f)).objsize : 0;
  }

  private words(f: number, id: number): [Uint32Array, number] {
    const c = this.cache_for(this.nr_blocks(f));
    return [c.storage, id * c.words + HEADER_WORDS];
  }

  /** Set bits [first, first+count) of the bitmap (word-at-a-time in the middle). */
  set_bits(f: number, id: number, first: number, count: number): void {
    this.update_bits(f, id, first, count, true);
  }

  clear_bits(f: number, id: number, first: number, count: number): void {
    this.update_bits(f, id, first, count, false);
  }

  private update_bits(f: number, id: number, first: number, count: number, set: boolean): void {
    this.pc.stats.detail.ifs_ops++;
    const [st, base] = this.words(f, id);
    const end = first + count;
    for (let b = first; b < end; ) {
      const w = base + (b >>> 5);
      const bit = b & 31;
      const n = Math.min(32 - bit, end - b);
      const mask = n === 32 ? 0xffffffff : ((1 << n) - 1) << bit;
      st[w] = (set ? st[w]! | mask : st[w]! & ~mask) >>> 0;
      b += n;
    }
  }

  test_bit(f: number, id: number, b: number): boolean {
    const [st, base] = this.words(f, id);
    return (st[base + (b >>> 5)]! & (1 << (b & 31))) !== 0;
  }

  /** True when every bit of [first, first+count) is set. */
  all_set(f: number, id: number, first: number, count: number): boolean {
    this.pc.stats.detail.ifs_ops++;
    for (let b = first; b < first + count; b++) if (!this.test_bit(f, id, b)) return false;
    return true;
  }

  /** First set bit in [from, to), or -1. */
  next_set(f: number, id: number, from: number, to: number): number {
    for (let b = from; b < to; b++) if (this.test_bit(f, id, b)) return b;
    return -1;
  }

  next_clear(f: number, id: number, from: number, to: number): number {
    for (let b = from; b < to; b++) if (!this.test_bit(f, id, b)) return b;
    return to;
  }

  shrink(): void {
    for (const c of this.caches.values()) c.shrink();
  }
}
