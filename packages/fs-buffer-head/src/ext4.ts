import { BIO_MAX_VECS, REQ_OP_WRITE, type Bio, type WritebackControl } from '@foliolab/pagecache';
import { BH_Delay, BH_Dirty, BH_Mapped, BH_New, BH_Unwritten, BH_Uptodate } from './buffer-head.js';
import type { BufferHeadMapper } from './bh-mapper.js';
import { queue_convert, submit_write } from './mpage.js';

/** MAX_WRITEPAGES_EXTENT_LEN: "mballoc gives us at most this number of blocks". */
export const MAX_WRITEPAGES_EXTENT_LEN = 2048;

/**
 * ext4_writepages() with delalloc: mpage_prepare_extent_to_map() collects the dirty delayed blocks
 * of consecutive folios into one extent of at most 2048 blocks; mpage_map_and_submit_extent() maps
 * it with ext4_map_blocks (one allocation per extent piece the allocator returns; unwritten with
 * dioread_nolock) and submits the folios: ext4_bio_write_folio() walks every buffer and
 * io_submit_add_bh() appends each dirty mapped one to the current bio while it continues on disk.
 * Overwrites of mapped blocks need no mapping call: the buffer heads remember the mapping.
 */
export function ext4_writepages(m: BufferHeadMapper, ino: number, wbc: WritebackControl): void {
  const pc = m.pc;
  const b = m.bh;
  const bs = pc.blockSize;
  const st = pc.stats;
  let pending = new Int32Array(64);
  let npending = 0;
  let extBh = new Int32Array(256);
  let extStart = 0;
  let extLen = 0;
  let bio: Bio | null = null;
  let nextBlock = -2;

  const io_submit_add_bh = (f: number, bh: number): void => {
    const blk = b.blocknr[bh]!;
    const phys = pc.folio_phys(f) + b.pos[bh]! * bs;
    if (bio && blk !== nextBlock) {
      submit_write(m, ino, bio);
      bio = null;
    }
    for (;;) {
      if (!bio) bio = pc.bdev.bio_alloc(REQ_OP_WRITE, blk * m.spb, BIO_MAX_VECS);
      if (pc.bdev.bio_add(bio, phys, bs)) break;
      submit_write(m, ino, bio);
      bio = null;
    }
    nextBlock = blk + 1;
  };

  /** ext4_bio_write_folio(): every buffer; dirty mapped ones go to the bio. */
  const bio_write_folio = (f: number): void => {
    const head = b.buffers(f);
    const iblock = pc.folio_pos(f) / bs;
    const inEof = Math.ceil((pc.isize(ino) - pc.folio_pos(f)) / bs);
    let bh = head;
    do {
      st.detail.bh_ops++;
      const i = b.pos[bh]!;
      if (i >= inEof) b.clear(bh, BH_Dirty);
      else if (b.test(bh, BH_Dirty) && b.test(bh, BH_Mapped) && !b.test(bh, BH_Delay)) {
        b.clear(bh, BH_Dirty);
        io_submit_add_bh(f, bh);
        if (b.test(bh, BH_Unwritten)) {
          b.clear(bh, BH_Unwritten);
          queue_convert(iblock + i, 1);
        }
      }
      bh = b.next[bh]!;
    } while (bh !== head);
  };

  /**
   * mpage_map_and_submit_extent(): allocate the collected extent, then submit the waiting folios.
   * When an extent was mapped, ext4_do_writepages() ends its loop iteration with ext4_io_submit():
   * the bio never outlives its extent, so writeback sends one bio per allocated extent even when
   * the next extent continues on disk (8 x 8 MiB for 64 MiB at 4 KiB blocks). Folios with no
   * delayed block (overwrites) join the open bio while it continues on disk.
   */
  const map_and_submit = (): void => {
    const mapped = extLen > 0;
    let done = 0;
    while (done < extLen) {
      st.detail.writeback_map_calls++;
      const pb = pc.fs.alloc_blocks(ino, extStart + done, extLen - done, m.dioreadNolock);
      const got = pc.fs.lastLen;
      st.extents_allocated++;
      for (let k = 0; k < got; k++) {
        const bh = extBh[done + k]!;
        b.blocknr[bh] = pb + k;
        b.clear(bh, BH_Delay);
        b.clear(bh, BH_New);
        if (m.dioreadNolock) b.set(bh, BH_Unwritten);
      }
      done += got;
    }
    extLen = 0;
    for (let k = 0; k < npending; k++) bio_write_folio(pending[k]!);
    npending = 0;
    if (mapped && bio) {
      submit_write(m, ino, bio);
      bio = null;
    }
  };

  for (let f = pc.writeback_next(ino, wbc); f >= 0; f = pc.writeback_next(ino, wbc)) {
    const head = b.create_buffers(f, (1 << BH_Dirty) | (1 << BH_Uptodate));
    const iblock = pc.folio_pos(f) / bs;
    const inEof = Math.ceil((pc.isize(ino) - pc.folio_pos(f)) / bs);
    let bh = head;
    do {
      st.detail.bh_ops++;
      const i = b.pos[bh]!;
      if (i < inEof && b.test(bh, BH_Dirty)) {
        if (!b.test(bh, BH_Mapped)) {
          // A dirty buffer without a mapping (dirtied through dirty_folio): reserve it now.
          m.get_block_bh(ino, iblock + i, bh, true);
        }
        if (b.test(bh, BH_Delay)) {
          const blk = iblock + i;
          if (extLen > 0 && (extStart + extLen !== blk || extLen >= MAX_WRITEPAGES_EXTENT_LEN)) map_and_submit();
          if (extLen === 0) extStart = blk;
          if (extLen === extBh.length) {
            const a = new Int32Array(extLen * 2);
            a.set(extBh);
            extBh = a;
          }
          extBh[extLen++] = bh;
        }
      }
      bh = b.next[bh]!;
    } while (bh !== head);
    if (npending === pending.length) {
      const a = new Int32Array(npending * 2);
      a.set(pending);
      pending = a;
    }
    pending[npending++] = f;
    if (extLen === 0) map_and_submit();
  }
  if (extLen > 0 || npending > 0) map_and_submit();
  if (bio) submit_write(m, ino, bio);
}
