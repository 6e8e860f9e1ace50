import { describe, expect, it } from 'vitest';
import { StructPageLayout } from '@foliolab/layout-struct-page';
import { fsx_check, fsx_problems, type FsxOptions } from '@foliolab/pagecache';
import { IomapMapper, type IomapOptions } from './index.js';

const MiB = 1 << 20;

/** An fsx run on a data-mode page cache over a fresh image for this backend. */
function fsx_backend(mapper: IomapMapper, blockSize: number, folioMax: number, run: Omit<FsxOptions, 'pc'>, extra: { maxCachePages?: number } = {}) {
  return fsx_check({ mapper, layout: new StructPageLayout(), blockSize, folioMax, cacheSeed: 13, ...extra, ...run });
}

const CONFIGS: Array<[string, IomapOptions, number, number, { maxCachePages?: number }?]> = [
  ['xfs 4K blocks, 4 KiB folios', { profile: 'xfs' }, 4096, 4096],
  ['xfs 1K blocks, 64 KiB folios', { profile: 'xfs' }, 1024, 64 * 1024],
  ['xfs 512 B blocks, 2 MiB folios', { profile: 'xfs' }, 512, 2 * MiB],
  ['generic 4K blocks, 2 MiB folios, reclaim', { profile: 'generic' }, 4096, 2 * MiB, { maxCachePages: 1024 }],
  ['xfs 16K blocks (bs > ps), 64 KiB folios', { profile: 'xfs' }, 16384, 64 * 1024],
];

describe('fsx-style integrity, data mode, 10,000 operations per configuration', () => {
  for (const [name, opts, bs, folioMax, extra] of CONFIGS) {
    it(name, () => {
      const r = fsx_backend(new IomapMapper(opts), bs, folioMax, { ops: 10_000, seed: bs + folioMax, maxFileLen: 768 * 1024, maxWrite: 160 * 1024 }, extra);
      expect(fsx_problems(r, 10_000)).toEqual([]);
    });
  }

  it('catches a backend that drops a dirty bit', () => {
    /** iomap_set_range_dirty forgets the last block of every 4th range. */
    class LossyIomap extends IomapMapper {
      private n = 0;
      override ifs_set_range_dirty(f: number, off: number, len: number): void {
        const bs = this.pc.blockSize;
        if (++this.n % 4 === 0 && len > bs) len = Math.floor((off + len - 1) / bs) * bs - off;
        super.ifs_set_range_dirty(f, off, len);
      }
    }
    const r = fsx_backend(new LossyIomap(), 1024, 64 * 1024, { ops: 2000, seed: 5, maxFileLen: 256 * 1024, maxWrite: 32 * 1024 });
    expect(r.mismatches).toBeGreaterThan(0);
  });
});
