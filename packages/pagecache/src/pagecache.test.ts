import * as os from 'node:os';
import * as path from 'node:path';
import * as fs from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Memmap } from '@foliolab/memmap';
import { StructPageLayout } from '@foliolab/layout-struct-page';
import {
  BlockAllocator, BlockDevice, EXT_DELALLOC, EXT_HOLE, EXT_MAPPED, ExtentMap, FsError, FsStats, PageCache, REQ_OP_WRITE,
  fsSteps, new_mapping, type BlockMapper, type ReadaheadBatch,
} from './index.js';

const MiB = 1 << 20;

/**
 * A minimal backend for testing the page cache itself: every block reads as zeros, writes only set
 * the folio dirty, readahead records its batch sizes. No block mapping, no bios.
 */
class RecordingMapper implements BlockMapper {
  readonly name = 'recording';
  readonly profile = 'test';
  readonly hasReadahead = true;
  batches: number[] = [];
  pc!: PageCache;
  constructor(readonly maxFolioOrder = 0) {}
  attach(pc: PageCache) { this.pc = pc; }
  read_folio(_i: number, f: number) { this.pc.folio_zero(f, 0, this.pc.folio_size(f)); this.pc.folio_mark_uptodate(f); }
  readahead(i: number, rac: ReadaheadBatch) { this.batches.push(rac.nrPages); for (let k = 0; k < rac.count; k++) this.read_folio(i, rac.folios[k]!); }
  buffered_write(ino: number, pos: number, len: number) {
    const f = this.pc.write_get_folio(ino, pos, len);
    this.pc.folio_mark_uptodate(f);
    this.pc.filemap_dirty_folio(ino, f);
    this.pc.write_end_size(ino, pos + len);
    this.pc.folio_unlock(f);
  }
  page_mkwrite(ino: number, f: number) { this.pc.filemap_dirty_folio(ino, f); }
  dirty_folio(ino: number, f: number) { this.pc.filemap_dirty_folio(ino, f); }
  writepages(ino: number, wbc: Parameters<BlockMapper['writepages']>[1]) { while (this.pc.writeback_next(ino, wbc) >= 0); }
  truncate_page() {}
  invalidate_folio() {}
  release_folio() { return true; }
  is_partially_uptodate() { return false; }
  folio_private_bytes() { return 0; }
  shrink_slab() {}
}

function cache(o: Partial<ConstructorParameters<typeof PageCache>[0]> = {}, order = 0) {
  const mm = new Memmap({ layout: new StructPageLayout(), memory: 256 * MiB });
  const mapper = new RecordingMapper(order);
  return { pc: new PageCache({ memmap: mm, mapper, blockSize: 4096, ...o }), mapper, mm };
}

describe('bad input gives typed errors naming the field', () => {
  it('block size must be a power of two in 512 B..64 KiB', () => {
    for (const bs of [1000, 256, 128 * 1024, 0, -4096, 4096.5]) {
      expect(() => cache({ blockSize: bs })).toThrow(FsError);
      try {
        cache({ blockSize: bs });
      } catch (e) {
        expect((e as FsError).field).toBe('blockSize');
        expect((e as FsError).exitCode).toBe(2);
        expect((e as FsError).message).toMatch(/^blockSize: /);
      }
    }
    expect(() => cache({ blockSize: 1000 })).toThrow(/not a power of two/);
    expect(() => cache({ blockSize: 128 * 1024 })).toThrow(/outside 512 B..64 KiB/);
  });

  it('an offset past the maximum file size is EFBIG', () => {
    const { pc } = cache();
    const steps = fsSteps(pc);
    steps.open({ file: 'a' });
    const max = pc.fs.maxFileSize;
    expect(max).toBe(2 ** 43);
    expect(() => steps.write({ file: 'a', offset: max, size: 1 })).toThrow(/a: write.offset: .* past the maximum file size/);
    expect(() => steps.truncate({ file: 'a', size: max + 1 })).toThrow(FsError);
    expect(() => steps.read({ file: 'a', offset: -1, size: 1 })).toThrow(/not a whole number/);
  });

  it('a read of a file that was never opened (or was closed) is EBADF', () => {
    const { pc } = cache();
    const steps = fsSteps(pc);
    expect(() => steps.read({ file: 'nope', offset: 0, size: 1 })).toThrow(/^nope: the file was never opened$/);
    steps.open({ file: 'x' });
    steps.close({ file: 'x' });
    expect(() => steps.read({ file: 'x', offset: 0, size: 1 })).toThrow(/not open/);
    expect(() => steps.open({ file: 'y', create: false })).toThrow(/no such file/);
  });

  it('an image file that cannot be created is EIMAGE, and nothing is left behind', () => {
    const bad = path.join(os.tmpdir(), 'foliolab-no-such-dir', 'sub', 'x.img');
    expect(() => cache({ mode: 'data', image: bad })).toThrow(/x\.img: cannot create the image file/);
    expect(fs.existsSync(bad)).toBe(false);
    expect(() => cache({ mode: 'data' })).toThrow(/image: data mode needs/);
  });

  it('folioMax must be a power of two from 4 KiB to 4 MiB', () => {
    expect(() => cache({ folioMax: 3000 })).toThrow(/folioMax/);
  });
});

describe('readahead follows mm/readahead.c', () => {
  it('sequential 16 KiB reads: initial window from the request, then growth to read_ahead_kb', () => {
    const { pc, mapper } = cache({ readAheadKb: 128 });
    const ino = pc.open_file('f');
    pc.truncate(ino, 4 * MiB);
    for (let off = 0; off < 2 * MiB; off += 16384) pc.read(ino, off, 16384);
    // req 4 pages, max 32: init = roundup(4) = 4 <= 32/4 -> 8 pages; next: 8 < 32/16? no; 8 <= 16 -> 16; then 32, 32, ...
    expect(mapper.batches.slice(0, 5)).toEqual([8, 16, 32, 32, 32]);
    expect(pc.stats.metrics().readahead_calls).toBe(pc.stats.detail.readahead_batches);
  });

  it('a big cold read is served up to bdi->io_pages, the PG_readahead marker triggers the next window', () => {
    const { pc, mapper } = cache({ readAheadKb: 128 });
    const ino = pc.open_file('f');
    pc.truncate(ino, 4 * MiB);
    pc.read(ino, 0, MiB);
    // 256 pages > 32 but io_pages = 2560 sectors = 320 pages: one window of 256, async marker at 128 -> next window
    expect(mapper.batches[0]).toBe(256);
    expect(mapper.batches.length).toBe(2);
  });

  it('with large folios the async window raises the folio order by 2 each time', () => {
    const { pc } = cache({ readAheadKb: 2048, folioMax: 2 * MiB }, 9);
    const ino = pc.open_file('f');
    pc.truncate(ino, 64 * MiB);
    for (let off = 0; off < 32 * MiB; off += 64 * 1024) pc.read(ino, off, 64 * 1024);
    const orders = pc.stats.metrics().folios_added_by_order;
    // Sync window at order 0, then +2 per async window (0, 2, 4, 6, 8), capped by ilog2(window) and by alignment.
    for (const o of ['0', '2', '4', '6', '8']) expect(orders[o]).toBeGreaterThan(0);
    expect(Math.max(...Object.keys(orders).map(Number))).toBeLessThanOrEqual(9);
  });
});

describe('the block device', () => {
  it('merges physically contiguous ranges into one bvec and splits to the queue limits', () => {
    const st = new FsStats();
    const dev = new BlockDevice(st, 1 << 30, { maxSectors: 256, maxSegments: 4, maxSegmentSize: 16384 });
    dev.blk_start_plug();
    const b = dev.bio_alloc(REQ_OP_WRITE, 0, 256);
    for (let i = 0; i < 16; i++) expect(dev.bio_add(b, MiB + i * 4096, 4096)).toBe(true);
    expect(b.vcnt).toBe(1);
    dev.submit_bio(b);
    dev.blk_finish_plug();
    // 64 KiB in one bvec: 4 segments of 16 KiB = max_segments, 128 sectors <= 256: one request.
    expect(st.data_bios).toBe(1);
    expect(st.detail.segments).toBe(4);
    expect(st.requests).toBe(1);
    const b2 = dev.bio_alloc(REQ_OP_WRITE, 1000, 256);
    for (let i = 0; i < 10; i++) dev.bio_add(b2, (10 + 2 * i) * 4096, 4096);
    expect(b2.vcnt).toBe(10);
    dev.submit_bio(b2);
    // 10 single-page segments, 4 per request -> 3 pieces, unplugged: 3 requests.
    expect(st.requests).toBe(4);
    expect(st.detail.bio_splits).toBe(2);
  });
});

describe('simfs', () => {
  it('the extent map agrees with a flat per-block model under random set/punch', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ op: fc.constantFrom('map', 'delalloc', 'punch'), l: fc.nat(200), n: fc.integer({ min: 1, max: 40 }), p: fc.nat(10000) }), { maxLength: 60 }),
        (ops) => {
          const em = new ExtentMap();
          const st = new Int8Array(260);
          const pb = new Float64Array(260).fill(-1);
          for (const o of ops) {
            if (o.op === 'punch') em.punch(o.l, o.n);
            else em.set(o.l, o.n, o.op === 'map' ? EXT_MAPPED : EXT_DELALLOC, o.p);
            for (let i = o.l; i < o.l + o.n; i++) {
              st[i] = o.op === 'punch' ? EXT_HOLE : o.op === 'map' ? EXT_MAPPED : EXT_DELALLOC;
              pb[i] = o.op === 'map' ? o.p + (i - o.l) : -1;
            }
          }
          const m = new_mapping();
          for (let i = 0; i < 260; i++) {
            em.lookup(i, 1, m);
            expect(m.state).toBe(st[i]);
            if (m.state === EXT_MAPPED) expect(m.pblk).toBe(pb[i]);
          }
          for (let i = 1; i < em.n; i++) expect(em.lblk[i - 1]! + em.len[i - 1]!).toBeLessThanOrEqual(em.lblk[i]!);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('the fragmentation parameter sets the average extent length (seeded)', () => {
    for (const avg of [4, 32]) {
      const a = new BlockAllocator(1 << 20, avg, 42);
      let pieces = 0;
      let blocks = 0;
      for (let i = 0; i < 2000; i++) {
        a.alloc(100000);
        pieces++;
        blocks += a.lastLen;
      }
      expect(blocks / pieces).toBeGreaterThan(avg * 0.8);
      expect(blocks / pieces).toBeLessThan(avg * 1.2);
    }
    const c = new BlockAllocator(1000, 0, 1);
    expect(c.alloc(600)).toBe(0);
    expect(c.lastLen).toBe(600);
    expect(() => new BlockAllocator(10, -1, 1)).toThrow(/fragmentation/);
  });
});

describe('reclaim and crash', () => {
  it('a cache cap evicts clean folios and writes dirty ones back first', () => {
    const { pc } = cache({ maxCachePages: 64, dirtyBackgroundPages: Infinity });
    const ino = pc.open_file('f');
    for (let off = 0; off < MiB; off += 4096) pc.write(ino, off, 4096);
    expect(pc.nrCachePages).toBeLessThanOrEqual(64);
    expect(pc.stats.detail.folios_reclaimed).toBeGreaterThan(0);
    expect(pc.fs.disksize[ino]).toBeGreaterThan(0);
  });

  it('a crash drops dirty data and in-memory size', () => {
    const { pc } = cache({ dirtyBackgroundPages: Infinity });
    const ino = pc.open_file('f');
    pc.write(ino, 0, 8192);
    pc.fsync(ino);
    pc.write(ino, 8192, 8192);
    pc.crash();
    expect(pc.isize(ino)).toBe(8192);
    expect(pc.nrCachePages).toBe(0);
    expect(pc.nrDirtyPages).toBe(0);
  });
});

describe('file mappings (the vm wiring)', () => {
  it('fault returns an uptodate folio with a reference; page_mkwrite dirties it', async () => {
    const { fileFaultOps } = await import('./index.js');
    const { pc, mm } = cache({ dirtyBackgroundPages: Infinity });
    const ino = pc.open_file('m');
    pc.truncate(ino, 3 * 4096);
    const ops = fileFaultOps(pc);
    const f = ops.fault('m', 1);
    expect(f).toBeGreaterThanOrEqual(0);
    expect(pc.folio_test_uptodate(f)).toBe(true);
    expect(mm.folio_ref_count(f)).toBe(2);
    expect(ops.page_mkwrite('m', f)).toBe(true);
    expect(pc.nrDirtyPages).toBe(1);
    ops.release(f);
    expect(mm.folio_ref_count(f)).toBe(1);
    expect(ops.fault('m', 3)).toBe(-1);
  });
});
