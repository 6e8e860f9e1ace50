import { describe, expect, it } from 'vitest';
import { Memmap, PageType, memmap_fragment } from '@foliolab/memmap';
import { StructPageLayout } from '@foliolab/layout-struct-page';
import { PageCache, type PageCacheOptions } from '@foliolab/pagecache';
import { IomapMapper, ifs_raw_size, type IomapOptions } from './index.js';

const KiB = 1024;
const MiB = 1 << 20;

/** The reference's textbook iomap: the xfs profile without speculative preallocation (calibration is tools/fs-calibrate's). */
function machine(io: IomapOptions, o: Partial<PageCacheOptions> = {}, memory = 512 * MiB) {
  const mm = new Memmap({ layout: new StructPageLayout(), memory });
  const pc = new PageCache({ memmap: mm, mapper: new IomapMapper({ prealloc: false, ...io }), blockSize: 4096, folioMax: 4096, dirtyBackgroundPages: Infinity, ...o });
  return { mm, pc };
}


describe('iomap: reference §0.6 numbers, computed by the simulation', () => {
  it('cold 1 MiB read through readahead: one iomap_begin per extent and readahead batch', () => {
    for (const frag of [0, 12]) {
      const { pc } = machine({}, { fragmentation: frag, seed: 9 });
      const ino = pc.open_file('f');
      pc.write(ino, 0, MiB);
      pc.fsync(ino);
      pc.drop_caches();
      pc.stats.reset();
      pc.read(ino, 0, MiB);
      const m = pc.stats.metrics();
      expect(m.get_block_calls).toBe(0);
      // One batch here (the sync window covers the whole request): iomap_begin = extents of the file.
      expect(pc.stats.detail.readahead_batches).toBe(1);
      const extents = pc.fs.extents[ino]!.count_in(0, 256);
      expect(m.iomap_begin_calls).toBe(extents);
      if (frag === 0) expect(extents).toBe(1);
      else expect(extents).toBeGreaterThan(4);
    }
  });

  it('readahead in 128 KiB windows: R batches, R iomap_begin calls, bios of batch-many bvecs', () => {
    const { pc, mm } = machine({}, {}, 1024 * MiB);
    const ino = pc.open_file('f');
    pc.write(ino, 0, MiB);
    pc.fsync(ino);
    pc.drop_caches();
    memmap_fragment(mm, 0);
    pc.stats.reset();
    for (let off = 0; off < MiB; off += 16 * KiB) pc.read(ino, off, 16 * KiB);
    const m = pc.stats.metrics();
    const R = pc.stats.detail.readahead_batches;
    expect(R).toBeGreaterThan(1);
    expect(m.iomap_begin_calls).toBe(R);
    expect(m.data_bios).toBe(R);
    expect(m.bvecs).toBe(256);
  });

  it('64 MiB sequential writeback at 4 KiB blocks with 4 KiB folios: 64 bios of 256 folios', () => {
    const { pc, mm } = machine({}, {}, 1024 * MiB);
    memmap_fragment(mm, 0);
    const ino = pc.open_file('f');
    for (let off = 0; off < 64 * MiB; off += MiB) pc.write(ino, off, MiB);
    const w = pc.stats.metrics();
    expect(w.iomap_begin_calls).toBe(64);
    expect(w.delalloc_reservations).toBe(64);
    pc.stats.reset();
    pc.fsync(ino);
    const m = pc.stats.metrics();
    expect(m.data_bios).toBe(64);
    expect(m.bvecs).toBe(16384);
    expect(m.data_bio_size_hist).toEqual({ '20': 64 });
    expect(pc.stats.detail.writeback_map_calls).toBe(16384);
    expect(m.extents_allocated).toBe(1);
    expect(m.iomap_folio_state_bytes).toBe(0);
  });

  it('64 MiB writeback with 2 MiB folios: 32 bvecs in 1 bio before splitting, 32 map calls, requests per max_sectors', () => {
    const { pc, mm } = machine({}, { folioMax: 2 * MiB }, 1024 * MiB);
    memmap_fragment(mm, 9);
    const ino = pc.open_file('f');
    // The folio size follows the write size (fgf_set_order): 2 MiB writes make 2 MiB folios.
    for (let off = 0; off < 64 * MiB; off += 2 * MiB) pc.write(ino, off, 2 * MiB);
    let folios = 0;
    pc.for_each_folio(ino, (f) => {
      folios++;
      expect(pc.folio_order(f)).toBe(9);
    });
    expect(folios).toBe(32);
    pc.stats.reset();
    pc.fsync(ino);
    const m = pc.stats.metrics();
    expect(m.data_bios).toBe(1);
    expect(m.bvecs).toBe(32);
    expect(pc.stats.detail.writeback_map_calls).toBe(32);
    const dev = pc.bdev.profile;
    // Split by max_sectors and by max_segments (64 KiB segments, 128 per request).
    const perRequest = Math.min(dev.maxSectors * 512, dev.maxSegments * dev.maxSegmentSize);
    expect(m.requests).toBe(Math.ceil((64 * MiB) / perRequest));
  });

  it('iomap_folio_state per cached 2 MiB folio: 2 KiB / 1 KiB / 192 B at 512 B / 1 KiB / 4 KiB blocks', () => {
    for (const [bs, bytes] of [[512, 2048], [1024, 1024], [4096, 192]] as const) {
      const { pc, mm } = machine({}, { blockSize: bs, folioMax: 2 * MiB });
      const ino = pc.open_file('f');
      const slab0 = mm.pagesByType[PageType.slab]!;
      // A whole-folio write needs no ifs; writeback attaches one (iomap_writeback_folio, n > 1).
      pc.write(ino, 0, 2 * MiB);
      expect(pc.stats.detail.iomap_folio_state_bytes_live).toBe(0);
      pc.fsync(ino);
      let n = 0;
      pc.for_each_folio(ino, (f) => {
        n++;
        expect(pc.folio_size(f)).toBe(2 * MiB);
        expect(pc.mapper.folio_private_bytes(f)).toBe(bytes);
      });
      expect(n).toBe(1);
      expect(pc.stats.detail.iomap_folio_state_bytes_live).toBe(bytes);
      expect(pc.stats.metrics().iomap_folio_state_bytes).toBe(bytes);
      expect(ifs_raw_size((2 * MiB) / bs)).toBeLessThanOrEqual(bytes);
      expect(mm.pagesByType[PageType.slab]).toBe(slab0 + 1);
      // Reading it back cold through read_folio attaches one again.
      pc.drop_caches();
      expect(pc.stats.detail.iomap_folio_state_bytes_live).toBe(0);
      expect(mm.pagesByType[PageType.slab]).toBe(slab0);
    }
  });

  it('no iomap_folio_state when a folio holds one block', () => {
    const { pc } = machine({}, { blockSize: 4096, folioMax: 4096 });
    const ino = pc.open_file('f');
    pc.write(ino, 100, 10);
    pc.fsync(ino);
    pc.drop_caches();
    pc.read(ino, 0, 4096);
    expect(pc.stats.metrics().iomap_folio_state_bytes).toBe(0);
  });
});
