import { PG_dirty, PG_uptodate } from '@foliolab/memmap';
import {
  EXT_DELALLOC,
  EXT_HOLE,
  EXT_MAPPED,
  EXT_UNWRITTEN,
  FsError,
  REQ_OP_READ,
  REQ_OP_WRITE,
  generic_perform_write,
  new_mapping,
  type BlockMapper,
  type PageCache,
  type ReadaheadBatch,
  type WritebackControl,
  type WriteBeginEnd,
} from '@foliolab/pagecache';
import {
  BH_Async_Write,
  BH_Delay,
  BH_Dirty,
  BH_Mapped,
  BH_New,
  BH_Unwritten,
  BH_Uptodate,
  BufferHeads,
} from './buffer-head.js';
import { ext4_writepages } from './ext4.js';
import { mpage_readahead, mpage_writepages } from './mpage.js';

export type BufferHeadProfile = 'generic' | 'mpage' | 'ext4';

export interface BufferHeadOptions {
  /**
   * generic: block_read_full_folio, block_write_begin/end, __block_write_full_folio (1 bio per block),
   *   blocks allocated by get_block at write time (ext2-like, no ->readahead).
   * mpage: as generic, plus mpage_readahead and mpage_writepages (run-length get_block, merged bios, "confused" fallback).
   * ext4: delalloc ext4_da_get_block_prep (1 reservation per block) at write time, ext4_mpage_readpages for reads
   *   (no buffer heads), extent allocation of up to 2048 blocks at writeback with bios built from the buffer heads.
   */
  profile?: BufferHeadProfile;
  /** mapping_set_large_folios (default: true for ext4 as in 6.16+, false otherwise). */
  largeFolios?: boolean;
  /** ext4: allocate unwritten extents at writeback and convert them at I/O completion (dioread_nolock, default true). */
  dioreadNolock?: boolean;
}

/** Result of a get_block call: BH bits to set, first physical block, blocks mapped. */
interface GetBlockResult {
  flags: number;
  pblk: number;
  len: number;
}

const MAPPED = 1 << BH_Mapped;

/**
 * The buffer_head backend (fs/buffer.c, fs/mpage.c, ext4's copies), per reference §0.2/§0.3.
 * get_block is the filesystem: it looks the block up in simfs and, on the write path, allocates
 * (generic/mpage) or reserves a delayed allocation (ext4). Every call is counted in get_block_calls.
 */
export class BufferHeadMapper implements BlockMapper, WriteBeginEnd {
  readonly name = 'buffer-head';
  readonly profile: BufferHeadProfile;
  readonly maxFolioOrder: number;
  readonly hasReadahead: boolean;
  readonly dioreadNolock: boolean;
  pc!: PageCache;
  bh!: BufferHeads;
  readonly gb: GetBlockResult = { flags: 0, pblk: -1, len: 0 };
  private readonly m = new_mapping();
  /** Sectors per fs block. */
  spb = 8;

  constructor(opts: BufferHeadOptions = {}) {
    const profile = opts.profile ?? 'generic';
    if (profile !== 'generic' && profile !== 'mpage' && profile !== 'ext4') {
      throw new FsError('EINVAL', 'profile', `${String(profile)} is not one of generic, mpage, ext4`);
    }
    this.profile = profile;
    this.maxFolioOrder = (opts.largeFolios ?? profile === 'ext4') ? 10 : 0;
    this.hasReadahead = profile !== 'generic';
    this.dioreadNolock = opts.dioreadNolock ?? true;
  }

  attach(pc: PageCache): void {
    this.pc = pc;
    this.bh = new BufferHeads(pc);
    this.spb = pc.blockSize / 512;
  }

  // ------------------------------------------------------------ the filesystem's get_block
  /**
   * get_block(inode, iblock, bh_result, create) mapping up to maxBlocks. Read (create=false): mapped
   * runs, or a hole/unwritten/delalloc run (flags 0: read as zeros). Write: an existing mapping, or a
   * new block (generic/mpage: allocated now as unwritten, converted when written; ext4: a one-block
   * delalloc reservation, ext4_da_get_block_prep's m_len = 1).
   */
  get_block(ino: number, iblock: number, maxBlocks: number, create: boolean): GetBlockResult {
    const pc = this.pc;
    const g = this.gb;
    pc.stats.get_block_calls++;
    const m = pc.fs.map(ino, iblock, maxBlocks, this.m);
    g.len = m.len;
    g.pblk = m.pblk;
    switch (m.state) {
      case EXT_MAPPED:
        g.flags = MAPPED;
        return g;
      case EXT_UNWRITTEN:
        g.flags = create ? MAPPED | (1 << BH_Unwritten) | (1 << BH_New) : 0;
        return g;
      case EXT_DELALLOC:
        g.flags = create ? MAPPED | (1 << BH_Delay) | (1 << BH_New) : 0;
        g.pblk = -1;
        return g;
      case EXT_HOLE:
      default:
        if (!create) {
          g.flags = 0;
          return g;
        }
        g.len = 1;
        if (this.profile === 'ext4') {
          pc.fs.reserve_delalloc(ino, iblock, 1);
          pc.stats.delalloc_reservations++;
          g.flags = MAPPED | (1 << BH_Delay) | (1 << BH_New);
          g.pblk = -1;
        } else {
          g.pblk = pc.fs.alloc_blocks(ino, iblock, 1, true);
          g.flags = MAPPED | (1 << BH_Unwritten) | (1 << BH_New);
        }
        return g;
    }
  }

  /** get_block for one buffer head (b_size = 1 block), mapping the result into it. */
  get_block_bh(ino: number, iblock: number, bh: number, create: boolean): void {
    const g = this.get_block(ino, iblock, 1, create);
    this.bh.state[bh]! |= g.flags;
    if (g.flags & MAPPED) this.bh.blocknr[bh] = g.pblk;
  }

  // ------------------------------------------------------------ I/O helpers
  /** submit_bh(): one bio with one bvec of one block. */
  submit_bh(op: number, bh: number): void {
    const pc = this.pc;
    const b = this.bh;
    const bio = pc.bdev.bio_alloc(op, b.blocknr[bh]! * this.spb, 1);
    pc.bdev.bio_add(bio, pc.folio_phys(b.folio[bh]!) + b.pos[bh]! * pc.blockSize, pc.blockSize);
    pc.bdev.submit_bio(bio);
  }

  private zero_block(f: number, i: number): void {
    this.pc.folio_zero(f, i * this.pc.blockSize, this.pc.blockSize);
  }

  // ------------------------------------------------------------ read
  read_folio(ino: number, f: number): void {
    if (this.profile === 'ext4') this.readahead_one(ino, f);
    else this.block_read_full_folio(ino, f);
  }

  /** ext4_read_folio(): ext4_mpage_readpages() on a single folio. */
  private readonly one: ReadaheadBatch = { ino: 0, index: 0, nrPages: 0, folios: new Int32Array(1), count: 0 };
  private readahead_one(ino: number, f: number): void {
    const r = this.one;
    r.ino = ino;
    r.index = this.pc.folio_index(f);
    r.nrPages = this.pc.folio_nr_pages(f);
    r.folios[0] = f;
    r.count = 1;
    mpage_readahead(this, ino, r);
  }

  readahead(ino: number, rac: ReadaheadBatch): void {
    mpage_readahead(this, ino, rac);
  }

  /**
   * block_read_full_folio(): buffers for every block; one get_block per unmapped block inside EOF;
   * holes (and unwritten/delalloc blocks) are zeroed; one bio of one block per block to read.
   */
  block_read_full_folio(ino: number, f: number): void {
    const pc = this.pc;
    const b = this.bh;
    const head = b.create_buffers(f, 0);
    const bs = pc.blockSize;
    const iblock = pc.folio_pos(f) / bs;
    const lblock = Math.ceil(pc.isize(ino) / bs);
    let bh = head;
    do {
      pc.stats.detail.bh_ops++;
      const i = b.pos[bh]!;
      if (!b.test(bh, BH_Uptodate)) {
        if (!b.test(bh, BH_Mapped) && iblock + i < lblock) this.get_block_bh(ino, iblock + i, bh, false);
        if (!b.test(bh, BH_Mapped) || b.test(bh, BH_Unwritten) || b.test(bh, BH_Delay)) {
          this.zero_block(f, i);
          b.set(bh, BH_Uptodate);
        } else {
          this.submit_bh(REQ_OP_READ, bh);
          b.set(bh, BH_Uptodate);
        }
      }
      bh = b.next[bh]!;
    } while (bh !== head);
    pc.folio_mark_uptodate(f);
  }

  is_partially_uptodate(_ino: number, f: number, from: number, count: number): boolean {
    const b = this.bh;
    const head = b.buffers(f);
    if (head < 0) return false;
    const bs = this.pc.blockSize;
    let bh = head;
    do {
      this.pc.stats.detail.bh_ops++;
      const s = b.pos[bh]! * bs;
      if (s + bs > from && s < from + count && !b.test(bh, BH_Uptodate)) return false;
      bh = b.next[bh]!;
    } while (bh !== head);
    return true;
  }

  // ------------------------------------------------------------ write
  buffered_write(ino: number, pos: number, len: number, src: Uint8Array | null, srcOff: number): void {
    generic_perform_write(this.pc, this, ino, pos, len, src, srcOff);
  }

  /** block_write_begin() -> __block_write_begin_int() */
  write_begin(ino: number, f: number, pos: number, len: number): void {
    const fpos = this.pc.folio_pos(f);
    this.block_write_begin_int(ino, f, pos - fpos, pos - fpos + len);
  }

  /**
   * __block_write_begin_int(folio, from, to): walk every buffer of the folio; get_block(create) for
   * each unmapped block in [from, to); zero the outside parts of new blocks; read a partial, mapped,
   * not uptodate edge block synchronously (1 bio).
   */
  block_write_begin_int(ino: number, f: number, from: number, to: number): void {
    const pc = this.pc;
    const b = this.bh;
    const bs = pc.blockSize;
    const head = b.create_buffers(f, 0);
    const iblock = pc.folio_pos(f) / bs;
    const folioUptodate = pc.test(f, PG_uptodate);
    let bh = head;
    do {
      pc.stats.detail.bh_ops++;
      const i = b.pos[bh]!;
      const bstart = i * bs;
      const bend = bstart + bs;
      if (bend <= from || bstart >= to) {
        if (folioUptodate) b.set(bh, BH_Uptodate);
      } else {
        b.clear(bh, BH_New);
        if (!b.test(bh, BH_Mapped)) {
          this.get_block_bh(ino, iblock + i, bh, true);
          if (b.test(bh, BH_New)) {
            if (folioUptodate) {
              b.clear(bh, BH_New);
              b.set(bh, BH_Uptodate);
              this.mark_buffer_dirty(ino, f, bh);
            } else {
              if (bend > to) pc.folio_zero(f, to, bend - to);
              if (bstart < from) pc.folio_zero(f, bstart, from - bstart);
            }
            bh = b.next[bh]!;
            continue;
          }
        }
        if (folioUptodate) b.set(bh, BH_Uptodate);
        else if (!b.test(bh, BH_Uptodate) && (bstart < from || bend > to)) {
          if (b.test(bh, BH_Delay) || b.test(bh, BH_Unwritten)) {
            // Nothing on disk to read: the block reads as zeros around the new bytes.
            if (bend > to) pc.folio_zero(f, to, bend - to);
            if (bstart < from) pc.folio_zero(f, bstart, from - bstart);
          } else {
            pc.stats.detail.edge_reads++;
            this.submit_bh(REQ_OP_READ, bh);
            b.set(bh, BH_Uptodate);
          }
        }
      }
      bh = b.next[bh]!;
    } while (bh !== head);
  }

  write_end(ino: number, f: number, pos: number, len: number, copied: number): void {
    const fpos = this.pc.folio_pos(f);
    this.block_commit_write(ino, f, pos - fpos, pos - fpos + Math.min(len, copied));
  }

  /** __block_commit_write(): every buffer again; those in [from, to) become uptodate and dirty. */
  block_commit_write(ino: number, f: number, from: number, to: number): void {
    const pc = this.pc;
    const b = this.bh;
    const bs = pc.blockSize;
    const head = b.buffers(f);
    let partial = false;
    let bh = head;
    do {
      pc.stats.detail.bh_ops++;
      const bstart = b.pos[bh]! * bs;
      if (bstart + bs <= from || bstart >= to) {
        if (!b.test(bh, BH_Uptodate)) partial = true;
      } else {
        b.set(bh, BH_Uptodate);
        this.mark_buffer_dirty(ino, f, bh);
      }
      b.clear(bh, BH_New);
      bh = b.next[bh]!;
    } while (bh !== head);
    if (!partial) pc.folio_mark_uptodate(f);
  }

  /** mark_buffer_dirty(): the buffer, then the folio if it was clean. (A test subclass breaks this.) */
  mark_buffer_dirty(ino: number, f: number, bh: number): void {
    this.bh.set(bh, BH_Dirty);
    this.pc.filemap_dirty_folio(ino, f);
  }

  /** block_page_mkwrite(): map every block under the folio inside EOF and dirty them. */
  page_mkwrite(ino: number, f: number): void {
    const pc = this.pc;
    const fpos = pc.folio_pos(f);
    const end = Math.min(pc.folio_size(f), pc.isize(ino) - fpos);
    this.block_write_begin_int(ino, f, 0, end);
    this.block_commit_write(ino, f, 0, end);
  }

  /** block_dirty_folio(): every buffer dirty, then the folio. */
  dirty_folio(ino: number, f: number): void {
    const b = this.bh;
    const head = b.buffers(f);
    if (head >= 0) {
      let bh = head;
      do {
        this.pc.stats.detail.bh_ops++;
        b.set(bh, BH_Dirty);
        bh = b.next[bh]!;
      } while (bh !== head);
    }
    this.pc.filemap_dirty_folio(ino, f);
  }

  // ------------------------------------------------------------ writeback
  writepages(ino: number, wbc: WritebackControl): void {
    if (this.profile === 'ext4') ext4_writepages(this, ino, wbc);
    else if (this.profile === 'mpage') mpage_writepages(this, ino, wbc);
    else for (let f = this.pc.writeback_next(ino, wbc); f >= 0; f = this.pc.writeback_next(ino, wbc)) this.block_write_full_folio(ino, f);
  }

  /**
   * __block_write_full_folio(): buffers (dirty+uptodate if new); pass 1 maps dirty unmapped/delayed
   * blocks with get_block(create); pass 2 marks the dirty mapped ones for async write; pass 3 submits
   * one bio per buffer. Completion converts unwritten blocks.
   */
  block_write_full_folio(ino: number, f: number): void {
    const pc = this.pc;
    const b = this.bh;
    const bs = pc.blockSize;
    const head = b.create_buffers(f, (1 << BH_Dirty) | (1 << BH_Uptodate));
    const iblock = pc.folio_pos(f) / bs;
    const lastBlock = Math.ceil(pc.isize(ino) / bs) - 1;
    let bh = head;
    do {
      pc.stats.detail.bh_ops++;
      const blk = iblock + b.pos[bh]!;
      if (blk > lastBlock) {
        b.clear(bh, BH_Dirty);
        b.set(bh, BH_Uptodate);
      } else if ((!b.test(bh, BH_Mapped) || b.test(bh, BH_Delay)) && b.test(bh, BH_Dirty)) {
        b.clear(bh, BH_Delay);
        b.clear(bh, BH_Mapped);
        this.get_block_bh(ino, blk, bh, true);
        if (b.test(bh, BH_Delay)) {
          // A delayed block reached generic writeback: allocate it now.
          b.clear(bh, BH_Delay);
          b.blocknr[bh] = pc.fs.alloc_blocks(ino, blk, 1, true);
          b.set(bh, BH_Unwritten);
        }
        b.clear(bh, BH_New);
      }
      bh = b.next[bh]!;
    } while (bh !== head);
    let unwritten = false;
    do {
      pc.stats.detail.bh_ops++;
      if (b.test(bh, BH_Mapped) && b.test(bh, BH_Dirty)) {
        b.clear(bh, BH_Dirty);
        b.set(bh, BH_Async_Write);
      }
      bh = b.next[bh]!;
    } while (bh !== head);
    do {
      pc.stats.detail.bh_ops++;
      if (b.test(bh, BH_Async_Write)) {
        this.submit_bh(REQ_OP_WRITE, bh);
        b.clear(bh, BH_Async_Write);
        if (b.test(bh, BH_Unwritten)) unwritten = true;
      }
      bh = b.next[bh]!;
    } while (bh !== head);
    if (unwritten) this.end_io_convert(ino, f);
  }

  /** I/O completion: unwritten blocks of the folio that were written become written extents. */
  end_io_convert(ino: number, f: number): void {
    const pc = this.pc;
    const b = this.bh;
    const head = b.buffers(f);
    const iblock = pc.folio_pos(f) / pc.blockSize;
    let bh = head;
    let runStart = -1;
    let runLen = 0;
    do {
      if (b.test(bh, BH_Unwritten) && !b.test(bh, BH_Dirty)) {
        b.clear(bh, BH_Unwritten);
        const blk = iblock + b.pos[bh]!;
        if (runLen > 0 && runStart + runLen === blk) runLen++;
        else {
          if (runLen > 0) pc.stats.detail.unwritten_conversions += pc.fs.convert_unwritten(ino, runStart, runLen);
          runStart = blk;
          runLen = 1;
        }
      }
      bh = b.next[bh]!;
    } while (bh !== head);
    if (runLen > 0) pc.stats.detail.unwritten_conversions += pc.fs.convert_unwritten(ino, runStart, runLen);
  }

  // ------------------------------------------------------------ truncate / invalidate / reclaim
  /**
   * block_truncate_page(): grab the folio (creating it), find the buffer of `from`, get_block if
   * unmapped (a hole needs nothing), read it if not uptodate, zero to the end of the block, dirty it.
   */
  truncate_page(ino: number, from: number): void {
    const pc = this.pc;
    const b = this.bh;
    const bs = pc.blockSize;
    const off = from % bs;
    if (off === 0) return;
    const f = pc.write_get_folio(ino, from, 1);
    const head = b.create_buffers(f, 0);
    const fpos = pc.folio_pos(f);
    const i = Math.floor((from - fpos) / bs);
    let bh = head;
    while (b.pos[bh] !== i) {
      pc.stats.detail.bh_ops++;
      bh = b.next[bh]!;
    }
    if (!b.test(bh, BH_Mapped)) {
      this.get_block_bh(ino, Math.floor(from / bs), bh, false);
      if (!b.test(bh, BH_Mapped)) {
        pc.folio_unlock(f);
        return;
      }
    }
    if (pc.folio_test_uptodate(f)) b.set(bh, BH_Uptodate);
    if (!b.test(bh, BH_Uptodate)) {
      if (b.test(bh, BH_Unwritten) || b.test(bh, BH_Delay)) this.zero_block(f, i);
      else {
        pc.stats.detail.edge_reads++;
        this.submit_bh(REQ_OP_READ, bh);
      }
      b.set(bh, BH_Uptodate);
    }
    pc.folio_zero(f, from - fpos, bs - off);
    this.mark_buffer_dirty(ino, f, bh);
    pc.folio_unlock(f);
  }

  /** block_invalidate_folio(): discard buffers wholly inside the range; the whole folio frees them. */
  invalidate_folio(_ino: number, f: number, offset: number, length: number): void {
    const pc = this.pc;
    const b = this.bh;
    const head = b.buffers(f);
    if (head < 0) return;
    if (offset === 0 && length >= pc.folio_size(f)) {
      b.free_buffers(f);
      return;
    }
    const bs = pc.blockSize;
    let bh = head;
    do {
      pc.stats.detail.bh_ops++;
      const s = b.pos[bh]! * bs;
      if (s >= offset && s + bs <= offset + length) b.discard(bh);
      bh = b.next[bh]!;
    } while (bh !== head);
  }

  /** try_to_free_buffers(): refuse while any buffer is dirty. */
  release_folio(_ino: number, f: number): boolean {
    const b = this.bh;
    const head = b.buffers(f);
    if (head < 0) return true;
    let bh = head;
    do {
      this.pc.stats.detail.bh_ops++;
      if (b.test(bh, BH_Dirty)) return false;
      bh = b.next[bh]!;
    } while (bh !== head);
    b.free_buffers(f);
    return true;
  }

  folio_private_bytes(f: number): number {
    return this.bh.buffers(f) >= 0 ? this.bh.nr(f) * 104 : 0;
  }

  shrink_slab(): void {
    this.bh.cache.shrink();
  }

  /** True if the folio is dirty with no dirty buffer (used by tests of the dirty bookkeeping). */
  folio_dirty_without_buffers(f: number): boolean {
    const b = this.bh;
    const head = b.buffers(f);
    if (head < 0 || !this.pc.test(f, PG_dirty)) return false;
    let bh = head;
    do {
      if (b.test(bh, BH_Dirty)) return false;
      bh = b.next[bh]!;
    } while (bh !== head);
    return true;
  }
}
