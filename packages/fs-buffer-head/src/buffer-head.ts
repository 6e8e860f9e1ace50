import { BUFFER_HEAD_SIZE, KmemCache, type PageCache } from '@foliolab/pagecache';

/** enum bh_state_bits (include/linux/buffer_head.h), bit numbers in declaration order. */
export const BH_Uptodate = 0;
export const BH_Dirty = 1;
export const BH_Lock = 2;
export const BH_Req = 3;
export const BH_Mapped = 4;
export const BH_New = 5;
export const BH_Async_Read = 6;
export const BH_Async_Write = 7;
export const BH_Delay = 8;
export const BH_Boundary = 9;
export const BH_Write_EIO = 10;
export const BH_Unwritten = 11;

/** discard_buffer() clears these (BUFFER_FLAGS_DISCARD) plus BH_Dirty. */
const BUFFER_FLAGS_DISCARD = (1 << BH_Mapped) | (1 << BH_New) | (1 << BH_Req) | (1 << BH_Delay) | (1 << BH_Unwritten) | (1 << BH_Dirty);

/**
 * Buffer heads as a struct of arrays. Ids are the object ids of a `buffer_head` slab cache (104-byte
 * objects, 39 per 4 KiB slab page) whose pages come from the machine's buddy allocator: the bytes
 * are charged to the simulated machine as slab memory, as __GFP_ACCOUNT bh allocations are.
 *
 * A folio's buffers form a ring through `next` (b_this_page), head in folio->private. `pos` is the
 * block's index inside its folio (bh_offset / blocksize).
 *
 * Invariant: a live bh belongs to exactly one folio's ring; Dirty implies Mapped and Uptodate except
 * while a write is between write_begin and write_end.
 */
export class BufferHeads {
  readonly cache: KmemCache;
  state = new Int32Array(0);
  next = new Int32Array(0);
  folio = new Int32Array(0);
  pos = new Int32Array(0);
  blocknr = new Float64Array(0);

  constructor(private readonly pc: PageCache) {
    this.cache = new KmemCache(pc.mm, 'buffer_head', BUFFER_HEAD_SIZE, 0);
  }

  private grow(min: number): void {
    const cap = Math.max(min, this.state.length * 2, 1024);
    const g32 = (a: Int32Array) => {
      const b = new Int32Array(cap);
      b.set(a);
      return b;
    };
    this.state = g32(this.state);
    this.next = g32(this.next);
    this.folio = g32(this.folio);
    this.pos = g32(this.pos);
    const bn = new Float64Array(cap);
    bn.set(this.blocknr);
    this.blocknr = bn;
  }

  /** Blocks per folio (at least 1: a block larger than a page gets a folio of its own size). */
  nr(folio: number): number {
    return Math.max(1, this.pc.folio_size(folio) >> this.pc.blkbits);
  }

  /**
   * folio_create_empty_buffers(): n buffer heads in a ring, attached through folio->private; each
   * gets `bits` plus the folio's uptodate and dirty state. Returns the head.
   */
  create_empty_buffers(folio: number, bits: number): number {
    const pc = this.pc;
    const n = this.nr(folio);
    const up = pc.folio_test_uptodate(folio) ? 1 << BH_Uptodate : 0;
    const dirty = pc.test(folio, 4 /* PG_dirty */) ? 1 << BH_Dirty : 0;
    let head = -1;
    let prev = -1;
    for (let i = 0; i < n; i++) {
      const id = this.cache.alloc();
      if (id >= this.state.length) this.grow(id + 1);
      this.state[id] = bits | up | dirty;
      this.folio[id] = folio;
      this.pos[id] = i;
      this.blocknr[id] = -1;
      if (prev >= 0) this.next[prev] = id;
      else head = id;
      prev = id;
    }
    this.next[prev] = head;
    pc.folio_attach_private(folio, head);
    pc.stats.buffer_heads_allocated += n;
    pc.stats.detail.buffer_head_bytes_live += n * BUFFER_HEAD_SIZE;
    return head;
  }

  /** folio_buffers(): the head, or -1. */
  buffers(folio: number): number {
    return this.pc.folio_get_private(folio);
  }

  /** folio_create_buffers(): the existing ring, or a new one. */
  create_buffers(folio: number, bits: number): number {
    const h = this.pc.folio_get_private(folio);
    return h >= 0 ? h : this.create_empty_buffers(folio, bits);
  }

  /** try_to_free_buffers() without the busy checks (the caller did them): free the ring, detach. */
  free_buffers(folio: number): void {
    const pc = this.pc;
    const head = pc.folio_get_private(folio);
    if (head < 0) return;
    let bh = head;
    let n = 0;
    do {
      const nx = this.next[bh]!;
      this.state[bh] = 0;
      this.cache.free(bh);
      n++;
      bh = nx;
    } while (bh !== head);
    pc.folio_detach_private(folio);
    pc.stats.detail.buffer_heads_freed += n;
    pc.stats.detail.buffer_head_bytes_live -= n * BUFFER_HEAD_SIZE;
  }

  test(bh: number, bit: number): boolean {
    return (this.state[bh]! & (1 << bit)) !== 0;
  }
  set(bh: number, bit: number): void {
    this.state[bh]! |= 1 << bit;
  }
  clear(bh: number, bit: number): void {
    this.state[bh]! &= ~(1 << bit);
  }

  /** discard_buffer() */
  discard(bh: number): void {
    this.state[bh]! &= ~BUFFER_FLAGS_DISCARD;
    this.blocknr[bh] = -1;
  }
}
