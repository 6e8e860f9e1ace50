import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StructPageLayout } from '@foliolab/layout-struct-page';
import { fsx_data_pagecache, fsx_problems, fsx_run } from '@foliolab/pagecache';
import { BH_Dirty, BufferHeadMapper, type BufferHeadOptions } from './index.js';

const MiB = 1 << 20;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'foliolab-bh-fsx-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function data_pc(mapper: BufferHeadMapper, blockSize: number, folioMax: number, name: string, extra: { maxCachePages?: number } = {}) {
  return fsx_data_pagecache({ mapper, layout: new StructPageLayout(), dir, name, blockSize, folioMax, seed: 11, ...extra });
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
      const pc = data_pc(new BufferHeadMapper(opts), bs, folioMax, name.replace(/\W+/g, '-'), extra);
      try {
        const r = fsx_run({ pc, ops: 10_000, seed: bs + folioMax, maxFileLen: 768 * 1024, maxWrite: 160 * 1024 });
        expect(fsx_problems(r, 10_000)).toEqual([]);
      } finally {
        pc.close();
      }
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
    const pc = data_pc(new LossyBufferHeads({ profile: 'generic' }), 1024, 4096, 'lossy');
    try {
      const r = fsx_run({ pc, ops: 2000, seed: 5, maxFileLen: 256 * 1024, maxWrite: 32 * 1024 });
      expect(r.mismatches).toBeGreaterThan(0);
    } finally {
      pc.close();
    }
  });
});
