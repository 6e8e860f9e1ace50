import { describe, expect, it } from 'vitest';
import { Memmap, PageType, memmap_fragment } from '@foliolab/memmap';
import { StructPageLayout } from '@foliolab/layout-struct-page';
import { PageCache, type PageCacheOptions } from '@foliolab/pagecache';
import { BufferHeadMapper, type BufferHeadOptions } from './index.js';

const KiB = 1024;
const MiB = 1 << 20;

function machine(bh: BufferHeadOptions, o: Partial<PageCacheOptions> = {}, memory = 512 * MiB) {
  const mm = new Memmap({ layout: new StructPageLayout(), memory });
  const mapper = new BufferHeadMapper(bh);
  const pc = new PageCache({ memmap: mm, mapper, blockSize: 4096, folioMax: 4096, dirtyBackgroundPages: Infinity, ...o });
  return { mm, pc, mapper };
}


/** Folio PFNs of a file in index order. */
function folio_pfns(pc: PageCache, ino: number): number[] {
  const out: number[] = [];
  pc.for_each_folio(ino, (f) => out.push(pc.mm.folio_pfn(f)));
  return out;
}

describe('buffer_head: reference §0.6 numbers, computed by the simulation', () => {
  it('cold 1 MiB read through read_folio at 4 KiB blocks: 256 get_block calls and 256 single-bvec 4 KiB bios', () => {
    const { pc } = machine({ profile: 'generic' });
    const ino = pc.open_file('f');
    pc.write(ino, 0, MiB);
    pc.fsync(ino);
    pc.drop_caches();
    expect(pc.spaces[ino]!.index.nrpages).toBe(0);
    pc.stats.reset();
    expect(pc.read(ino, 0, MiB)).toBe(MiB);
    const m = pc.stats.metrics();
    expect(m.get_block_calls).toBe(MiB / 4096);
    expect(m.data_bios).toBe(256);
    expect(m.bvecs).toBe(256);
    expect(m.data_bio_size_hist).toEqual({ '12': 256 });
    expect(m.iomap_begin_calls).toBe(0);
    // block_read_full_folio attached one buffer head per block.
    expect(m.buffer_heads_allocated).toBe(256);
    expect(m.buffer_head_bytes).toBe(256 * 104);
    // Plugged: the 256 one-block bios back-merge into requests of at most max_sectors.
    // and are limited by max_segments (128 one-page segments = 512 KiB per request).
    expect(m.requests).toBe(Math.max(Math.ceil(MiB / (2560 * 512)), Math.ceil(256 / 128)));
  });

  it('mpage readahead maps one run per (extent ∩ batch) and attaches no buffer heads', () => {
    const { pc } = machine({ profile: 'mpage' }, { fragmentation: 16, seed: 3 });
    const ino = pc.open_file('f');
    pc.write(ino, 0, MiB);
    pc.fsync(ino);
    pc.drop_caches();
    pc.stats.reset();
    pc.read(ino, 0, MiB);
    const m = pc.stats.metrics();
    // Independent count: extents of the file (one readahead batch covers it all here).
    const em = pc.fs.extents[ino]!;
    expect(pc.stats.detail.readahead_batches).toBe(1);
    expect(m.get_block_calls).toBe(em.count_in(0, MiB / 4096));
    expect(em.n).toBeGreaterThan(4);
    expect(m.buffer_heads_allocated).toBe(0);
  });

  it('64 MiB sequential writeback at 4 KiB blocks: 16,384 bios for generic buffer_head', () => {
    const { pc } = machine({ profile: 'generic' });
    const ino = pc.open_file('f');
    for (let off = 0; off < 64 * MiB; off += MiB) pc.write(ino, off, MiB);
    pc.stats.reset();
    pc.fsync(ino);
    const m = pc.stats.metrics();
    expect(m.data_bios).toBe((64 * MiB) / 4096);
    expect(m.bvecs).toBe(16384);
    expect(m.data_bio_bytes).toBe(64 * MiB);
  });

  it('64 MiB writeback through mpage_writepages and ext4 with 4 KiB folios on scattered memory: 64 bios of 256 bvecs', () => {
    for (const profile of ['mpage', 'ext4'] as const) {
      const { pc, mm } = machine({ profile, largeFolios: false }, {}, 1024 * MiB);
      memmap_fragment(mm, 0);
      const ino = pc.open_file('f');
      for (let off = 0; off < 64 * MiB; off += MiB) pc.write(ino, off, MiB);
      pc.stats.reset();
      pc.fsync(ino);
      const m = pc.stats.metrics();
      const pfns = folio_pfns(pc, ino);
      let vecs = 1;
      for (let i = 1; i < pfns.length; i++) if (pfns[i] !== pfns[i - 1]! + 1) vecs++;
      expect(vecs).toBe(16384);
      expect(m.data_bios).toBe(64);
      expect(m.bvecs).toBe(16384);
      expect(m.data_bio_size_hist).toEqual({ '20': 64 });
    }
  });

  it('ext4 profile: 1 delalloc reservation per block at write time, 2048-block extents at writeback', () => {
    const { pc } = machine({ profile: 'ext4' });
    const ino = pc.open_file('f');
    for (let off = 0; off < 64 * MiB; off += MiB) pc.write(ino, off, MiB);
    const w = pc.stats.metrics();
    expect(w.get_block_calls).toBe(16384);
    expect(w.delalloc_reservations).toBe(16384);
    pc.stats.reset();
    pc.fsync(ino);
    const m = pc.stats.metrics();
    expect(m.extents_allocated).toBe((64 * MiB) / 4096 / 2048);
    expect(pc.stats.detail.writeback_map_calls).toBe(8);
    expect(m.get_block_calls).toBe(0);
    // Overwriting cached, mapped data costs no mapping call: the buffer heads remember the mapping.
    pc.stats.reset();
    pc.write(ino, 5 * MiB, 64 * KiB);
    expect(pc.stats.metrics().get_block_calls).toBe(0);
  });

  it('buffer heads per cached 2 MiB folio: 416 KiB / 208 KiB / 52 KiB at 512 B / 1 KiB / 4 KiB blocks, charged as slab', () => {
    for (const [bs, kib] of [[512, 416], [1024, 208], [4096, 52]] as const) {
      const { pc, mm } = machine({ profile: 'generic', largeFolios: true }, { blockSize: bs, folioMax: 2 * MiB });
      const ino = pc.open_file('f');
      pc.write(ino, 0, 2 * MiB);
      let folios = 0;
      pc.for_each_folio(ino, (f) => {
        folios++;
        expect(pc.folio_size(f)).toBe(2 * MiB);
        expect(pc.mapper.folio_private_bytes(f)).toBe(kib * KiB);
      });
      expect(folios).toBe(1);
      expect(pc.stats.detail.buffer_head_bytes_live).toBe(kib * KiB);
      expect(pc.stats.metrics().buffer_heads_allocated).toBe((2 * MiB) / bs);
      // 39 buffer heads per 4 KiB slab page, taken from the buddy allocator.
      expect(mm.pagesByType[PageType.slab]).toBe(Math.ceil((2 * MiB) / bs / 39));
      pc.fsync(ino);
      pc.drop_caches();
      expect(pc.stats.detail.buffer_head_bytes_live).toBe(0);
      expect(mm.pagesByType[PageType.slab]).toBe(0);
    }
  });

  it('the block layer splits and merges per the queue limits', () => {
    const { pc } = machine({ profile: 'mpage' }, { device: { maxSectors: 256, maxSegments: 128, maxSegmentSize: 65536 } });
    const ino = pc.open_file('f');
    pc.write(ino, 0, 4 * MiB);
    pc.stats.reset();
    pc.fsync(ino);
    const m = pc.stats.metrics();
    // 128 KiB requests whatever the bio sizes were.
    expect(m.request_bytes).toBe(4 * MiB);
    expect(m.requests).toBe((4 * MiB) / (128 * KiB));
  });
});
