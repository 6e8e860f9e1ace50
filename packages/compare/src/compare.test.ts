import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { compare, compositions_for, choices_resolve, render_csv, render_table, run_one, CompareError } from './index.js';

describe('the matrix', () => {
  it('varies only the choices that matter for a workload kind', () => {
    const c = choices_resolve({ layout: ['struct-page', 'memdesc'], mapcount: ['per-page', 'upstream'], fs: ['buffer-head', 'iomap'], pagewait: ['hashed'] });
    expect(compositions_for('mapcount', c)).toHaveLength(4);
    expect(compositions_for('fs', c)).toEqual([{ layout: 'struct-page', fs: 'buffer-head' }, { layout: 'struct-page', fs: 'iomap' }]);
    expect(compositions_for('pagewait', c)).toHaveLength(2);
  });

  it('rejects unknown names and a bad --jobs before running anything', async () => {
    expect(() => choices_resolve({ fs: ['zfs'] })).toThrow('--fs: unknown fs "zfs" (known: buffer-head, buffer-head-mpage, ext4, iomap, xfs, or a path to your own policy)');
    await expect(compare({ workloads: ['thp-fork-partial'], jobs: 0 })).rejects.toThrow(CompareError);
  });
});

describe('compare', () => {
  it('runs every composition in worker threads; a refused or failing run is a row with its reason', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'foliolab-cmp-'));
    try {
      // A workload that runs out of simulated memory: 64 MiB touched on a 16 MiB machine.
      const bad = join(dir, 'bad.yaml');
      writeFileSync(bad, 'name: bad\nmachine: { memory: 16MiB, seed: 3 }\nsteps:\n  - spawn: { proc: p }\n  - mmap: { proc: p, region: A, size: 64MiB }\n  - touch: { proc: p, region: A, offset: 0, size: 64MiB, write: true }\n');
      const progress: number[] = [];
      const r = await compare({
        workloads: ['seed004-aligned-pmd', bad],
        choices: { layout: ['struct-page', 'memdesc'], mapcount: ['per-page', 'upstream-no-page-mapcount'] },
        jobs: 2,
        onProgress: (done) => progress.push(done),
      });
      expect(r.schema).toBe('foliolab/compare@1');
      expect(r.runs).toHaveLength(8);
      expect(progress).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      const refused = r.runs.filter((x) => x.status === 'refused');
      expect(refused.map((x) => `${x.workload}:${x.composition.layout}`)).toEqual(['seed004-aligned-pmd:memdesc', 'bad:memdesc']);
      const oom = r.runs.filter((x) => x.status === 'oom');
      expect(oom.map((x) => x.workload)).toEqual(['bad', 'bad', 'bad']);
      expect(oom[0]!.reason).toMatch(/out of simulated memory|ENOMEM/);
      const ok = r.runs.find((x) => x.workload === 'seed004-aligned-pmd' && x.composition.mapcount === 'upstream-no-page-mapcount' && x.composition.layout === 'memdesc')!;
      expect(ok.status).toBe('ok');
      expect(ok.metrics['memmap.bytes']).toBeLessThan(r.runs[0]!.metrics['memmap.bytes']!);
      expect(r.versions['@foliolab/memmap']).toMatch(/^\d+\.\d+\.\d+/);
      expect(render_table(r)).toMatch(/refused/);
      const csv = render_csv(r).split('\n');
      expect(csv[0]).toMatch(/^workload,kind,layout,mapcount,pagewait,fs,status,reason,seed,duration_ms,/);
      expect(csv).toHaveLength(10);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('is deterministic: the same workload and seed give the same metrics', async () => {
    const a = await run_one('postgres-fork-cow', { layout: 'struct-page', mapcount: 'per-folio' });
    const b = await run_one('postgres-fork-cow', { layout: 'struct-page', mapcount: 'per-folio' });
    expect(a.status).toBe('ok');
    expect(b.metrics).toEqual(a.metrics);
    expect(b.observe).toEqual(a.observe);
  });
});
