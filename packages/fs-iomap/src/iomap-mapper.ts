import { PAGE_SIZE, PG_dirty } from '@foliolab/memmap';
import {
  BIO_MAX_VECS,
  EXT_DELALLOC,
  EXT_HOLE,
  EXT_MAPPED,
  EXT_UNWRITTEN,
  FsError,
  REQ_OP_READ,
  REQ_OP_WRITE,
  new_mapping,
  type Bio,
  type BlockMapper,
  type PageCache,
  type ReadaheadBatch,
  type WritebackControl,
} from '@foliolab/pagecache';
import { FolioStates } from './ifs.js';

/** iomap types (include/linux/iomap.h). */
export const IOMAP_HOLE = 0;
export const IOMAP_DELALLOC = 1;
export const IOMAP_MAPPED = 2;
export const IOMAP_UNWRITTEN = 3;
/** ->iomap_begin operation flags. */
export const IOMAP_WRITE = 1 << 0;
export const IOMAP_ZERO = 1 << 1;
export const IOMAP_FAULT = 1 << 3;
/** iomap flags from the fs. */
export const IOMAP_F_NEW = 1 << 0;
/** IOEND_BATCH_SIZE: at most this many folios per ioend. */
export const IOEND_BATCH_SIZE = 4096;

/** struct iomap (byte units; addr -1 for holes and delalloc). */
export interface Iomap {
  type: number;
  flags: number;
  offset: number;
  length: number;
  addr: number;
}

export type IomapProfile = 'xfs' | 'generic';

export interface IomapOptions {
  /**
   * xfs: delalloc reservation per write (one ->iomap_begin per extent of the write), the writeback
   * mapping cached in the writepage context and reused while valid (xfs_map_blocks), whole delalloc
   * extents converted at writeback. generic: the same without the cached writeback mapping.
   */
  profile?: IomapProfile;
  /** mapping_set_large_folios (default true). */
  largeFolios?: boolean;
  /**
   * Speculative preallocation beyond EOF for extending writes (xfs_iomap_prealloc_size; default:
   * true for xfs, false for generic). Without it every extending write reserves exactly its own blocks.
   */
  prealloc?: boolean;
}

/** XFS_MAX_BMBT_EXTLEN: the longest extent a bmbt record holds. */
export const XFS_MAX_BMBT_EXTLEN = 2 ** 21 - 1;
/** Default m_allocsize_log (XFS_WRITEIO_LOG_LARGE): 64 KiB, the minimum preallocation. */
export const XFS_ALLOCSIZE_BYTES = 64 * 1024;

function rounddown_pow_of_two(n: number): number {
  return 2 ** Math.floor(Math.log2(n));
}

const STATE_TO_TYPE = [IOMAP_HOLE, IOMAP_DELALLOC, IOMAP_MAPPED, IOMAP_UNWRITTEN];

/**
 * The iomap backend (fs/iomap/buffered-io.c, ioend.c), per reference §0.2 and §4. The filesystem
 * under it (->iomap_begin, ->writeback_range) is simfs: an iomap covers the largest run of one
 * state from the requested position. Delalloc extents are converted at writeback as unwritten
 * extents and turned into written extents when their ioend completes, so a crash never exposes
 * blocks that were allocated but not written.
 */
export class IomapMapper implements BlockMapper {
  readonly name = 'iomap';
  readonly profile: IomapProfile;
  readonly maxFolioOrder: number;
  readonly hasReadahead = true;
  readonly prealloc: boolean;
  pc!: PageCache;
  ifs!: FolioStates;
  readonly iomap: Iomap = { type: 0, flags: 0, offset: 0, length: 0, addr: -1 };
  private readonly m = new_mapping();
  /** Read context: the bio being built and how many bytes the current mapping has left. */
  private rbio: Bio | null = null;
  // Writeback context (struct iomap_writepage_ctx): cached mapping and the open ioend.
  private wpcValid = false;
  private wpcSeq = -1;
  private readonly wmap: Iomap = { type: 0, flags: 0, offset: 0, length: 0, addr: -1 };
  private ioBio: Bio | null = null;
  private ioOffset = 0;
  private ioSize = 0;
  private ioType = 0;
  private ioFolios = 0;
  private ioLastFolio = -1;

  constructor(opts: IomapOptions = {}) {
    const profile = opts.profile ?? 'xfs';
    if (profile !== 'xfs' && profile !== 'generic') throw new FsError('EINVAL', 'profile', `${String(profile)} is not one of xfs, generic`);
    this.profile = profile;
    this.maxFolioOrder = (opts.largeFolios ?? true) ? 10 : 0;
    this.prealloc = opts.prealloc ?? profile === 'xfs';
  }

  attach(pc: PageCache): void {
    this.pc = pc;
    this.ifs = new FolioStates(pc);
  }

  // ------------------------------------------------------------ the filesystem: ->iomap_begin / ->iomap_end
  /**
   * ->iomap_begin(inode, pos, length, flags): the mapping of the block at pos, as long as simfs has
   * one state. IOMAP_WRITE over a hole reserves a delayed allocation for the whole hole part of the
   * range (xfs_buffered_write_iomap_begin: one reservation per write) and returns it with IOMAP_F_NEW.
   */
  iomap_begin(ino: number, pos: number, length: number, flags: number): Iomap {
    const pc = this.pc;
    const bs = pc.blockSize;
    pc.stats.iomap_begin_calls++;
    const lblk = Math.floor(pos / bs);
    const endBlk = Math.ceil((pos + length) / bs);
    const m = pc.fs.map(ino, lblk, Math.max(1, endBlk - lblk), this.m);
    const im = this.iomap;
    im.flags = 0;
    im.type = STATE_TO_TYPE[m.state]!;
    let len = m.len;
    if (m.state === EXT_HOLE && flags & IOMAP_WRITE) {
      if (this.prealloc && pos + length > pc.isize(ino)) len = this.prealloc_end(ino, lblk, pos + length) - lblk;
      pc.fs.reserve_delalloc(ino, lblk, len);
      pc.stats.delalloc_reservations++;
      im.type = IOMAP_DELALLOC;
      im.flags = IOMAP_F_NEW;
    }
    im.offset = lblk * bs;
    im.length = len * bs;
    im.addr = m.state === EXT_MAPPED || m.state === EXT_UNWRITTEN ? m.pblk * bs : -1;
    return im;
  }

  /**
   * The end block of a delalloc reservation for an extending write [.., end) starting in the hole at
   * lblk (xfs_buffered_write_iomap_begin with xfs_iomap_prealloc_size): only when no extent follows
   * (eof) and the file is at least the minimum preallocation (64 KiB) long, the reservation runs to
   * XFS_ALLOC_ALIGN(end - 1) plus twice the length of the extents ending at lblk, rounded down to a
   * power of two (at least 64 KiB, at most XFS_MAX_BMBT_EXTLEN). The alignment is rounded *down* to
   * 64 KiB, so a reservation ends 64 KiB short of a 1 MiB write boundary and the write that reaches
   * it takes two mappings. Free-space and quota throttling are not modelled (simfs is never near full).
   */
  private prealloc_end(ino: number, lblk: number, end: number): number {
    const pc = this.pc;
    const bs = pc.blockSize;
    const endBlk = Math.ceil(end / bs);
    const em = pc.fs.extents[ino]!;
    const next = em.find(lblk) + 1;
    if (next < em.n) return endBlk; // not at EOF: an extent follows the hole
    const allocsizeBlocks = Math.max(1, XFS_ALLOCSIZE_BYTES / bs);
    if (pc.isize(ino) < XFS_ALLOCSIZE_BYTES) return endBlk;
    const i = em.find(lblk - 1);
    let prealloc = allocsizeBlocks;
    if (i >= 0 && em.lblk[i]! + em.len[i]! >= lblk) {
      // Extents ending at the write, merged backwards while logically and physically contiguous.
      let plen = em.len[i]!;
      for (let j = i; j > 0; j--) {
        const g = j - 1;
        if (plen > XFS_MAX_BMBT_EXTLEN / 2 || em.state[g] === EXT_DELALLOC) break;
        if (em.lblk[g]! + em.len[g]! !== em.lblk[j]! || em.pblk[g]! + em.len[g]! !== em.pblk[j]!) break;
        plen += em.len[g]!;
      }
      let alloc = plen * 2;
      if (alloc > XFS_MAX_BMBT_EXTLEN) alloc = lblk; // XFS_B_TO_FSB(offset)
      alloc = Math.min(2 ** 21, alloc);
      alloc = Math.min(rounddown_pow_of_two(alloc), XFS_MAX_BMBT_EXTLEN);
      prealloc = Math.max(alloc, allocsizeBlocks);
    }
    const alignedEnd = Math.floor((end - 1) / XFS_ALLOCSIZE_BYTES) * XFS_ALLOCSIZE_BYTES;
    return Math.max(endBlk, Math.floor(alignedEnd / bs) + prealloc);
  }

  /** ->iomap_end (nothing to undo: writes are never short in the simulator). */
  iomap_end(): void {
    this.pc.stats.detail.iomap_end_calls++;
  }

  // ------------------------------------------------------------ uptodate / dirty state
  /** iomap_set_range_uptodate(): bits, and the folio flag when every block is uptodate. */
  set_range_uptodate(f: number, off: number, len: number): void {
    const pc = this.pc;
    const id = this.ifs.get(f);
    if (id < 0) {
      pc.folio_mark_uptodate(f);
      return;
    }
    const bits = pc.blkbits;
    const first = Math.floor(off / pc.blockSize);
    const last = Math.floor((off + len - 1) / pc.blockSize);
    this.ifs.set_bits(f, id, first, last - first + 1);
    const n = this.ifs.nr_blocks(f);
    if (this.ifs.all_set(f, id, 0, n)) pc.folio_mark_uptodate(f);
    void bits;
  }

  /** iomap_set_range_dirty() — a test subclass breaks this to prove fsx catches a lost dirty bit. */
  ifs_set_range_dirty(f: number, off: number, len: number): void {
    const id = this.ifs.get(f);
    if (id < 0 || len === 0) return;
    const bs = this.pc.blockSize;
    const n = this.ifs.nr_blocks(f);
    const first = Math.floor(off / bs);
    const last = Math.floor((off + len - 1) / bs);
    this.ifs.set_bits(f, id, n + first, last - first + 1);
  }

  is_partially_uptodate(_ino: number, f: number, from: number, count: number): boolean {
    const id = this.ifs.get(f);
    if (id < 0 || count === 0) return false;
    const bs = this.pc.blockSize;
    const first = Math.floor(from / bs);
    const last = Math.floor((from + count - 1) / bs);
    return this.ifs.all_set(f, id, first, last - first + 1);
  }

  // ------------------------------------------------------------ reads
  read_folio(ino: number, f: number): void {
    const pc = this.pc;
    const pos = pc.folio_pos(f);
    const size = pc.folio_size(f);
    this.rbio = null;
    this.ifs.alloc(f);
    for (let done = 0; done < size; ) {
      const im = this.iomap_begin(ino, pos + done, size - done, 0);
      const n = Math.min(size - done, im.offset + im.length - (pos + done));
      this.readpage_iter(ino, f, pos + done, n, Math.ceil((im.offset + im.length - (pos + done)) / PAGE_SIZE));
      this.iomap_end();
      done += n;
    }
    if (this.rbio) this.pc.bdev.submit_bio(this.rbio);
    this.rbio = null;
  }

  /**
   * iomap_readahead(): one iteration over the whole batch: one ->iomap_begin per mapping, each folio
   * added to the current bio (new bio on a discontiguity or when it is full).
   */
  readahead(ino: number, rac: ReadaheadBatch): void {
    const pc = this.pc;
    const start = rac.index * PAGE_SIZE;
    const len = rac.nrPages * PAGE_SIZE;
    this.rbio = null;
    let k = 0;
    for (let done = 0; done < len; ) {
      const pos = start + done;
      const im = this.iomap_begin(ino, pos, len - done, 0);
      const ilen = Math.min(len - done, im.offset + im.length - pos);
      let p = pos;
      while (p < pos + ilen) {
        const f = rac.folios[k]!;
        const fend = pc.folio_pos(f) + pc.folio_size(f);
        if (p === pc.folio_pos(f)) this.ifs.alloc(f);
        const n = Math.min(fend, pos + ilen) - p;
        this.readpage_iter(ino, f, p, n, Math.ceil((im.offset + im.length - p) / PAGE_SIZE));
        p += n;
        if (p === fend) k++;
      }
      this.iomap_end();
      done += ilen;
    }
    if (this.rbio) pc.bdev.submit_bio(this.rbio);
    this.rbio = null;
  }

  /**
   * iomap_readpage_iter() for [pos, pos+len) of folio f under the current iomap: skip uptodate blocks;
   * zero what is not mapped or lies past EOF; add the rest to the read bio.
   */
  private readpage_iter(ino: number, f: number, pos: number, len: number, mapPagesLeft: number): void {
    const pc = this.pc;
    const bs = pc.blockSize;
    const im = this.iomap;
    const fpos = pc.folio_pos(f);
    const isize = pc.isize(ino);
    const id = this.ifs.get(f);
    const n = this.ifs.nr_blocks(f);
    let b = Math.floor((pos - fpos) / bs);
    const bend = Math.ceil((pos + len - fpos) / bs);
    while (b < bend) {
      // iomap_adjust_read_range(): the next run of blocks that are not uptodate.
      if (id >= 0) {
        b = this.ifs.next_clear(f, id, b, bend);
        if (b >= bend) break;
      } else if (pc.folio_test_uptodate(f)) break;
      let e = id >= 0 ? this.ifs.next_set(f, id, b, bend) : bend;
      if (e < 0) e = bend;
      const runPos = fpos + b * bs;
      // Blocks past the EOF block are zeroed, not read.
      const eofBlk = Math.ceil((isize - fpos) / bs);
      if (b < eofBlk && e > eofBlk) e = eofBlk;
      const plen = (e - b) * bs;
      if (im.type !== IOMAP_MAPPED || runPos >= isize) pc.folio_zero(f, b * bs, plen);
      else {
        const sector = (im.addr + (runPos - im.offset)) / 512;
        const phys = pc.folio_phys(f) + b * bs;
        const bdev = pc.bdev;
        if (!this.rbio || this.rbio.end_sector() !== sector || !bdev.bio_add(this.rbio, phys, plen)) {
          if (this.rbio) bdev.submit_bio(this.rbio);
          this.rbio = bdev.bio_alloc(REQ_OP_READ, sector, Math.min(BIO_MAX_VECS, Math.max(1, mapPagesLeft)));
          bdev.bio_add(this.rbio, phys, plen);
        }
      }
      this.set_range_uptodate(f, b * bs, plen);
      b = e;
      void n;
    }
  }

  // ------------------------------------------------------------ writes
  /**
   * iomap_file_buffered_write(): per mapping one ->iomap_begin; per folio-sized chunk of it
   * iomap_write_begin (folio sized by the write), copy, iomap_write_end. A mapping invalidated while
   * the folio was being found (writeback from reclaim) is stale: the loop maps again.
   */
  buffered_write(ino: number, pos: number, len: number, src: Uint8Array | null, srcOff: number): void {
    const pc = this.pc;
    const chunk = PAGE_SIZE << pc.maxOrder;
    let written = 0;
    while (written < len) {
      const p0 = pos + written;
      const im = this.iomap_begin(ino, p0, len - written, IOMAP_WRITE);
      const seq = pc.fs.seq[ino]!;
      const ilen = Math.min(len - written, im.offset + im.length - p0);
      let done = 0;
      while (done < ilen) {
        const p = p0 + done;
        let bytes = Math.min(chunk - (p % chunk), ilen - done);
        const f = pc.write_get_folio(ino, p, bytes);
        if (pc.fs.seq[ino] !== seq) {
          pc.folio_unlock(f);
          break; // IOMAP_F_STALE
        }
        const foff = p - pc.folio_pos(f);
        if (bytes > pc.folio_size(f) - foff) bytes = pc.folio_size(f) - foff;
        this.write_begin(ino, f, p, bytes);
        pc.folio_copy_in(f, foff, src, srcOff + written + done, bytes);
        this.write_end(ino, f, p, bytes);
        pc.write_end_size(ino, p + bytes);
        pc.folio_unlock(f);
        done += bytes;
      }
      this.iomap_end();
      written += done;
    }
  }

  /** iomap_block_needs_zeroing() */
  private needs_zeroing(ino: number, blockPos: number): boolean {
    const im = this.iomap;
    return im.type !== IOMAP_MAPPED || (im.flags & IOMAP_F_NEW) !== 0 || blockPos >= this.pc.isize(ino);
  }

  /**
   * __iomap_write_begin(): nothing for a write covering the whole folio; else an ifs, and for each
   * run of not-uptodate blocks that a write edge falls inside: zero it (unmapped, new or past EOF)
   * or read it synchronously.
   */
  write_begin(ino: number, f: number, pos: number, len: number): void {
    const pc = this.pc;
    const bs = pc.blockSize;
    const fpos = pc.folio_pos(f);
    const fsize = pc.folio_size(f);
    if (pos <= fpos && pos + len >= fpos + fsize) return;
    const id = this.ifs.alloc(f);
    if (pc.folio_test_uptodate(f)) return;
    const from = pos - fpos;
    const to = from + len;
    let b = Math.floor(from / bs);
    const bend = Math.ceil(to / bs);
    while (b < bend) {
      if (id >= 0) {
        b = this.ifs.next_clear(f, id, b, bend);
        if (b >= bend) break;
      }
      let e = id >= 0 ? this.ifs.next_set(f, id, b, bend) : bend;
      if (e < 0) e = bend;
      const poff = b * bs;
      const plen = (e - b) * bs;
      const edgeInside = (from > poff && from < poff + plen) || (to > poff && to < poff + plen);
      if (edgeInside) {
        if (this.needs_zeroing(ino, fpos + poff)) {
          if (from > poff) pc.folio_zero(f, poff, from - poff);
          if (to < poff + plen) pc.folio_zero(f, to, poff + plen - to);
        } else {
          // iomap_bio_read_folio_range_sync(): one bio, one bvec, waited for.
          pc.stats.detail.edge_reads++;
          const im = this.iomap;
          const bio = pc.bdev.bio_alloc(REQ_OP_READ, (im.addr + (fpos + poff - im.offset)) / 512, 1);
          pc.bdev.bio_add(bio, pc.folio_phys(f) + poff, plen);
          pc.bdev.submit_bio(bio);
        }
        this.set_range_uptodate(f, poff, plen);
      }
      b = e;
    }
  }

  /** __iomap_write_end(): uptodate and dirty ranges, then filemap_dirty_folio(). */
  write_end(ino: number, f: number, pos: number, len: number): void {
    const off = pos - this.pc.folio_pos(f);
    this.set_range_uptodate(f, off, len);
    this.ifs_set_range_dirty(f, off, len);
    this.pc.filemap_dirty_folio(ino, f);
  }

  /** iomap_page_mkwrite(): one ->iomap_begin(IOMAP_WRITE|IOMAP_FAULT) per extent under the folio, then dirty it. */
  page_mkwrite(ino: number, f: number): void {
    const pc = this.pc;
    const fpos = pc.folio_pos(f);
    const len = Math.min(pc.folio_size(f), pc.isize(ino) - fpos);
    for (let done = 0; done < len; ) {
      const im = this.iomap_begin(ino, fpos + done, len - done, IOMAP_WRITE | IOMAP_FAULT);
      this.ifs.alloc(f);
      done += Math.min(len - done, im.offset + im.length - (fpos + done));
      this.iomap_end();
    }
    this.dirty_folio(ino, f);
  }

  /** iomap_dirty_folio(): ifs_alloc + every block dirty + filemap_dirty_folio. */
  dirty_folio(ino: number, f: number): void {
    this.ifs.alloc(f);
    this.ifs_set_range_dirty(f, 0, this.pc.folio_size(f));
    this.pc.filemap_dirty_folio(ino, f);
  }

  // ------------------------------------------------------------ writeback
  /**
   * iomap_writepages(): per dirty folio iomap_writeback_folio(): an ifs if n > 1 (all blocks up to
   * EOF dirty if it had none), each contiguous dirty range through ->writeback_range, which maps
   * (allocating delalloc) and appends to the ioend; dirty bits cleared. Ioends are submitted when the
   * next range cannot join them and at the end.
   */
  writepages(ino: number, wbc: WritebackControl): void {
    const pc = this.pc;
    const bs = pc.blockSize;
    this.wpcValid = false;
    this.ioBio = null;
    for (let f = pc.writeback_next(ino, wbc); f >= 0; f = pc.writeback_next(ino, wbc)) {
      const fpos = pc.folio_pos(f);
      const endPos = Math.min(fpos + pc.folio_size(f), pc.isize(ino));
      const n = this.ifs.nr_blocks(f);
      let id = this.ifs.get(f);
      if (n > 1 && id < 0) {
        id = this.ifs.alloc(f);
        this.ifs_set_range_dirty(f, 0, endPos - fpos);
      }
      const eofBlk = Math.ceil((endPos - fpos) / bs);
      let b = 0;
      while (b < eofBlk) {
        let e: number;
        if (id >= 0) {
          b = this.ifs.next_set(f, id, n + b, n + eofBlk);
          if (b < 0) break;
          b -= n;
          e = this.ifs.next_clear(f, id, n + b, n + eofBlk) - n;
        } else e = eofBlk;
        let rpos = fpos + b * bs;
        // Whole blocks: the EOF block goes out with its zeroed tail (end_aligned in iomap_writeback_folio).
        const rend = fpos + e * bs;
        while (rpos < rend) rpos += this.writeback_range(ino, f, rpos, rend - rpos);
        b = e;
      }
      if (id >= 0) this.ifs.clear_bits(f, id, n, n);
    }
    this.submit_ioend(ino);
  }

  /**
   * ->writeback_range (xfs_writeback_range): xfs_map_blocks — reuse the cached mapping while it covers
   * pos and the extent map is unchanged, else look it up, converting a delayed allocation (as far as
   * the allocator gives one extent) — then iomap_add_to_ioend(). Returns the bytes consumed.
   */
  private writeback_range(ino: number, f: number, pos: number, len: number): number {
    const pc = this.pc;
    const bs = pc.blockSize;
    const wm = this.wmap;
    pc.stats.detail.writeback_map_calls++;
    const seq = pc.fs.seq[ino]!;
    if (!(this.profile === 'xfs' && this.wpcValid && this.wpcSeq === seq && pos >= wm.offset && pos < wm.offset + wm.length)) {
      const lblk = Math.floor(pos / bs);
      let m = pc.fs.map(ino, lblk, 2 ** 40, this.m);
      if (m.state === EXT_DELALLOC || m.state === EXT_HOLE) {
        pc.fs.alloc_blocks(ino, lblk, m.len, true);
        pc.stats.extents_allocated++;
        m = pc.fs.map(ino, lblk, 2 ** 40, this.m);
      }
      wm.type = STATE_TO_TYPE[m.state]!;
      wm.offset = lblk * bs;
      wm.length = m.len * bs;
      wm.addr = m.pblk * bs;
      this.wpcValid = true;
      this.wpcSeq = pc.fs.seq[ino]!;
    }
    const mapLen = Math.min(len, wm.offset + wm.length - pos);
    this.add_to_ioend(ino, f, pos, mapLen);
    return mapLen;
  }

  /** iomap_add_to_ioend(): append to the open ioend if it continues it in the file and on disk, else start one. */
  private add_to_ioend(ino: number, f: number, pos: number, len: number): void {
    const pc = this.pc;
    const wm = this.wmap;
    const sector = (wm.addr + (pos - wm.offset)) / 512;
    const phys = pc.folio_phys(f) + (pos - pc.folio_pos(f));
    const newFolio = this.ioLastFolio !== f;
    const canAdd =
      this.ioBio !== null &&
      this.ioType === wm.type &&
      this.ioOffset + this.ioSize === pos &&
      this.ioBio.end_sector() === sector &&
      !(newFolio && this.ioFolios >= IOEND_BATCH_SIZE);
    if (!canAdd || !pc.bdev.bio_add(this.ioBio!, phys, len)) {
      this.submit_ioend(ino);
      this.ioBio = pc.bdev.bio_alloc(REQ_OP_WRITE, sector, BIO_MAX_VECS);
      this.ioOffset = pos;
      this.ioSize = 0;
      this.ioType = wm.type;
      this.ioFolios = 0;
      this.ioLastFolio = -1;
      pc.stats.detail.ioends++;
      pc.bdev.bio_add(this.ioBio, phys, len);
    }
    this.ioSize += len;
    if (this.ioLastFolio !== f) {
      this.ioFolios++;
      this.ioLastFolio = f;
    }
  }

  /** Submit the open ioend; its completion converts unwritten extents (xfs_end_ioend). */
  private submit_ioend(ino: number): void {
    const pc = this.pc;
    if (this.ioBio === null) return;
    pc.bdev.submit_bio(this.ioBio);
    this.ioBio = null;
    this.ioLastFolio = -1;
    if (this.ioType === IOMAP_UNWRITTEN) {
      const bs = pc.blockSize;
      const first = Math.floor(this.ioOffset / bs);
      const last = Math.ceil((this.ioOffset + this.ioSize) / bs);
      pc.stats.detail.unwritten_conversions += pc.fs.convert_unwritten(ino, first, last - first);
    }
  }

  // ------------------------------------------------------------ truncate / invalidate / reclaim
  /**
   * iomap_truncate_page() -> iomap_zero_range(from, to the end of the block): skip a hole or an
   * unwritten extent whose page cache is clean; otherwise zero through write_begin/write_end.
   */
  truncate_page(ino: number, from: number): void {
    const pc = this.pc;
    const bs = pc.blockSize;
    const off = from % bs;
    if (off === 0) return;
    const len = bs - off;
    let im = this.iomap_begin(ino, from, len, IOMAP_ZERO);
    this.iomap_end();
    if (im.type === IOMAP_HOLE || im.type === IOMAP_UNWRITTEN) {
      const cached = pc.spaces[ino]!.index.get(Math.floor(from / PAGE_SIZE));
      if (cached < 0 || !pc.test(cached, PG_dirty)) return;
      // Dirty cache over a hole: zero it as a write would (the flush-and-remap of iomap_zero_iter_flush_and_stale).
      im = this.iomap_begin(ino, from, len, IOMAP_WRITE);
      this.iomap_end();
    }
    const f = pc.write_get_folio(ino, from, len);
    this.write_begin(ino, f, from, len);
    pc.folio_zero(f, from - pc.folio_pos(f), len);
    this.write_end(ino, f, from, len);
    pc.folio_unlock(f);
  }

  /** iomap_invalidate_folio(): the whole folio loses its ifs (dirty was cancelled by the caller). */
  invalidate_folio(_ino: number, f: number, offset: number, length: number): void {
    if (offset === 0 && length >= this.pc.folio_size(f)) this.ifs.free(f);
  }

  /** iomap_release_folio(): refused while the folio is dirty. */
  release_folio(_ino: number, f: number): boolean {
    if (this.pc.test(f, PG_dirty)) return false;
    this.ifs.free(f);
    return true;
  }

  folio_private_bytes(f: number): number {
    return this.ifs.bytes(f);
  }

  shrink_slab(): void {
    this.ifs.shrink();
  }
}
