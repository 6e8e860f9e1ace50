import { describe, expect, it } from 'vitest';
import { StructPageLayout } from '@foliolab/layout-struct-page';
import { fsx_check, fsx_problems, type FsxOptions } from '@foliolab/pagecache';
import { BH_Dirty, BufferHeadMapper, type BufferHeadOptions } from './index.js';

const MiB = 1 << 20;

/** An fsx run on a data-mode page cache over a fresh image for this backend. */
function fsx_backend(mapper: BufferHeadMapper, blockSize: number, folioMax: number, run: Omit<FsxOptions, 'pc'>, extra: { maxCachePages?: number } = {}) {
  return fsx_check({ mapper, layout: new StructPageLayout(), blockSize, folioMax, cacheSeed: 11, ...extra, ...run });
}

const CONFIGS: Array<[string, BufferHeadOptions, number, number, { maxCachePages?: number }?]> = [
  ['generic 4K blocks', { profile: 'generic' }, 4096, 4096],
  ['generic 512 B blocks, reclaim', { profile: 'generic' }, 512, 4096, { maxCachePages: 96 }],
  ['mpage 1K blocks', { profile: 'mpage' }, 1024, 4096],
  ['ext4 4K blocks, 64 KiB folios', { profile: 'ext4' }, 4096, 64 * 1024],
  ['ext4 1K blocks, 2 MiB folios', { profile: 'ext4' }, 1024, 2 * MiB],
  ['generic 16K blocks (bs > ps)', { profile: 'generic' }, 16384, 64 * 1024],
];

describe('fsx-style integrity, data mode, 10,000 operations per configuration', () => {
  for (const [name, opts, bs, folioMax, extra] of CONFIGS) {
    it(name, () => {
      const r = fsx_backend(new BufferHeadMapper(opts), bs, folioMax, { ops: 10_000, seed: bs + folioMax, maxFileLen: 768 * 1024, maxWrite: 160 * 1024 }, extra);
      expect(fsx_problems(r, 10_000)).toEqual([]);
    });
  }

  it('catches a backend that drops a dirty bit', () => {
    /** mark_buffer_dirty forgets every 5th buffer it is asked to dirty. */
    class LossyBufferHeads extends BufferHeadMapper {
      private n = 0;
      override mark_buffer_dirty(ino: number, f: number, bh: number): void {
        if (++this.n % 5 === 0 && !this.bh.test(bh, BH_Dirty)) {
          this.pc.filemap_dirty_folio(ino, f);
          return;
        }
        super.mark_buffer_dirty(ino, f, bh);
      }
    }
    const r = fsx_backend(new LossyBufferHeads({ profile: 'generic' }), 1024, 4096, { ops: 2000, seed: 5, maxFileLen: 256 * 1024, maxWrite: 32 * 1024 });
    expect(r.mismatches).toBeGreaterThan(0);
  });
});
