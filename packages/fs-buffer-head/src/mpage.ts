import { BIO_MAX_VECS, REQ_OP_READ, REQ_OP_WRITE, type Bio, type ReadaheadBatch, type WritebackControl } from '@foliolab/pagecache';
import { BH_Dirty, BH_Mapped, BH_Unwritten, BH_Uptodate } from './buffer-head.js';
import type { BufferHeadMapper } from './bh-mapper.js';

const MAPPED = 1 << BH_Mapped;
let blocks = new Float64Array(1024);

function blocks_for(n: number): Float64Array {
  if (blocks.length < n) blocks = new Float64Array(n);
  return blocks;
}

/**
 * mpage_readahead() / ext4_mpage_readpages(): for each folio of the batch, do_mpage_readpage()
 * maps the rest of the batch with one get_block (b_size = remaining blocks), reusing the cached
 * mapping (map_bh) for the following folios; contiguous folios go into one bio; no buffer heads.
 * "Confused" (buffers already attached, a hole before data, blocks not contiguous inside the
 * folio) falls back to block_read_full_folio for that folio.
 */
export function mpage_readahead(m: BufferHeadMapper, ino: number, rac: ReadaheadBatch): void {
  const pc = m.pc;
  const bs = pc.blockSize;
  const bits = pc.blkbits;
  const bdev = pc.bdev;
  const isize = pc.isize(ino);
  const lastBlockInFile = Math.ceil(isize / bs);
  // map_bh: valid while mapFlags has Mapped; covers [mapFirst, mapFirst + mapLen) -> mapPblk...
  let mapFlags = 0;
  let mapFirst = 0;
  let mapLen = 0;
  let mapPblk = 0;
  let bio: Bio | null = null;
  let lastBlockInBio = -2;
  let pagesLeft = rac.nrPages;
  for (let k = 0; k < rac.count; k++) {
    const f = rac.folios[k]!;
    const nrPages = pc.folio_nr_pages(f);
    const n = Math.max(1, pc.folio_size(f) >> bits);
    const blk = blocks_for(n);
    let blockInFile = pc.folio_pos(f) / bs;
    let lastBlock = blockInFile + ((pagesLeft * 4096) >> bits);
    pagesLeft -= nrPages;
    if (lastBlock > lastBlockInFile) lastBlock = lastBlockInFile;
    let pageBlock = 0;
    let firstHole = n;
    let confused = m.bh.buffers(f) >= 0;
    if (!confused && mapFlags & MAPPED && blockInFile > mapFirst && blockInFile < mapFirst + mapLen) {
      const mapOffset = blockInFile - mapFirst;
      const last = mapLen - mapOffset;
      for (let rel = 0; rel < last && pageBlock < n; rel++) {
        blk[pageBlock++] = mapPblk + mapOffset + rel;
        blockInFile++;
      }
    }
    while (!confused && pageBlock < n) {
      mapFlags = 0;
      if (blockInFile < lastBlock) {
        const g = m.get_block(ino, blockInFile, lastBlock - blockInFile, false);
        mapFlags = g.flags;
        mapFirst = blockInFile;
        mapLen = g.len;
        mapPblk = g.pblk;
      }
      if (!(mapFlags & MAPPED)) {
        if (firstHole === n) firstHole = pageBlock;
        pageBlock++;
        blockInFile++;
        continue;
      }
      if (firstHole !== n) {
        confused = true; // a mapped block after a hole
        break;
      }
      if (pageBlock > 0 && blk[pageBlock - 1] !== mapPblk - 1) {
        confused = true; // not contiguous on disk inside the folio
        break;
      }
      for (let rel = 0; rel < mapLen && pageBlock < n; rel++) {
        blk[pageBlock++] = mapPblk + rel;
        blockInFile++;
      }
    }
    if (confused) {
      pc.stats.detail.mpage_confused++;
      if (bio) bdev.submit_bio(bio);
      bio = null;
      if (!pc.folio_test_uptodate(f)) m.block_read_full_folio(ino, f);
      continue;
    }
    if (firstHole !== n) {
      pc.folio_zero(f, firstHole * bs, (n - firstHole) * bs);
      if (firstHole === 0) {
        pc.folio_mark_uptodate(f);
        continue;
      }
    }
    if (bio && lastBlockInBio !== blk[0]! - 1) {
      bdev.submit_bio(bio);
      bio = null;
    }
    const length = firstHole * bs;
    for (;;) {
      if (!bio) bio = bdev.bio_alloc(REQ_OP_READ, blk[0]! * m.spb, Math.min(BIO_MAX_VECS, pagesLeft + nrPages));
      if (bdev.bio_add(bio, pc.folio_phys(f), length)) break;
      bdev.submit_bio(bio);
      bio = null;
    }
    pc.folio_mark_uptodate(f);
    lastBlockInBio = blk[firstHole - 1]!;
    if (firstHole !== n) {
      bdev.submit_bio(bio);
      bio = null;
    }
  }
  if (bio) bdev.submit_bio(bio);
}

/**
 * mpage_writepages() / __mpage_writepage(): a folio whose buffers are all mapped, dirty, uptodate
 * and contiguous (or that has no buffers: one get_block per block) is appended to the current bio
 * when it continues it on disk; anything else is "confused" and goes through
 * __block_write_full_folio (one bio per block).
 */
export function mpage_writepages(m: BufferHeadMapper, ino: number, wbc: WritebackControl): void {
  const pc = m.pc;
  const b = m.bh;
  const bs = pc.blockSize;
  const bdev = pc.bdev;
  let bio: Bio | null = null;
  let lastBlockInBio = -2;
  for (let f = pc.writeback_next(ino, wbc); f >= 0; f = pc.writeback_next(ino, wbc)) {
    const n = Math.max(1, pc.folio_size(f) >> pc.blkbits);
    const blk = blocks_for(n);
    const fpos = pc.folio_pos(f);
    const iblock = fpos / bs;
    const inEof = Math.min(n, Math.ceil((pc.isize(ino) - fpos) / bs));
    let confused = false;
    let unwritten = false;
    const head = b.buffers(f);
    if (head >= 0) {
      let bh = head;
      do {
        pc.stats.detail.bh_ops++;
        const i = b.pos[bh]!;
        if (i < inEof) {
          if (!b.test(bh, BH_Mapped) || !b.test(bh, BH_Dirty) || !b.test(bh, BH_Uptodate)) confused = true;
          else {
            blk[i] = b.blocknr[bh]!;
            if (b.test(bh, BH_Unwritten)) unwritten = true;
          }
        }
        bh = b.next[bh]!;
      } while (bh !== head);
      for (let i = 1; i < inEof && !confused; i++) if (blk[i] !== blk[i - 1]! + 1) confused = true;
    } else {
      for (let i = 0; i < inEof && !confused; i++) {
        const g = m.get_block(ino, iblock + i, 1, true);
        if (!(g.flags & MAPPED) || g.pblk < 0) confused = true;
        else {
          blk[i] = g.pblk;
          if (g.flags & (1 << BH_Unwritten)) unwritten = true;
          if (i > 0 && blk[i] !== blk[i - 1]! + 1) confused = true;
        }
      }
    }
    if (confused) {
      pc.stats.detail.mpage_confused++;
      if (bio) submit_write(m, ino, bio);
      bio = null;
      m.block_write_full_folio(ino, f);
      continue;
    }
    if (bio && lastBlockInBio !== blk[0]! - 1) {
      submit_write(m, ino, bio);
      bio = null;
    }
    const length = inEof * bs;
    for (;;) {
      if (!bio) bio = bdev.bio_alloc(REQ_OP_WRITE, blk[0]! * m.spb, BIO_MAX_VECS);
      if (bdev.bio_add(bio, pc.folio_phys(f), length)) break;
      submit_write(m, ino, bio);
      bio = null;
    }
    // clean_buffers(); unwritten blocks are converted when the bio holding them completes.
    if (head >= 0) {
      let bh = head;
      do {
        b.clear(bh, BH_Dirty);
        b.clear(bh, BH_Unwritten);
        bh = b.next[bh]!;
      } while (bh !== head);
    }
    if (unwritten) queue_convert(iblock, inEof);
    lastBlockInBio = blk[inEof - 1]!;
    if (inEof !== n) {
      submit_write(m, ino, bio);
      bio = null;
    }
  }
  if (bio) submit_write(m, ino, bio);
}

// Unwritten ranges waiting for the bio that carries their data (end_io conversion).
let convL = new Float64Array(64);
let convN = new Float64Array(64);
let convCount = 0;

/** Queue [lblk, lblk+len) for unwritten -> written conversion at the next bio completion. */
export function queue_convert(lblk: number, len: number): void {
  if (convCount > 0 && convL[convCount - 1]! + convN[convCount - 1]! === lblk) {
    convN[convCount - 1]! += len;
    return;
  }
  if (convCount === convL.length) {
    const a = new Float64Array(convCount * 2);
    a.set(convL);
    convL = a;
    const b = new Float64Array(convCount * 2);
    b.set(convN);
    convN = b;
  }
  convL[convCount] = lblk;
  convN[convCount++] = len;
}

/** submit_bio() for writeback, then the completion work: convert the queued unwritten ranges. */
export function submit_write(m: BufferHeadMapper, ino: number, bio: Bio): void {
  const pc = m.pc;
  pc.bdev.submit_bio(bio);
  for (let i = 0; i < convCount; i++) pc.stats.detail.unwritten_conversions += pc.fs.convert_unwritten(ino, convL[i]!, convN[i]!);
  convCount = 0;
}
