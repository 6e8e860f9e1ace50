import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadWorkload, validateWorkload } from '@foliolab/workloads';
import { probe_plan } from './plan.js';
import { result_problem, type KernelObserve, type KernelPage, type ProbeResult } from './result.js';

const SCENARIOS = ['thp-fork-munmap-dontneed', 'thp-cow-pmd', 'thp-partial-mremap-shared', 'mthp-64k-fork'] as const;
const scenario = (s: string) => loadWorkload(new URL(`../scenarios/${s}.yaml`, import.meta.url).pathname);
const fixture = (s: string): ProbeResult => JSON.parse(readFileSync(new URL(`../fixtures/${s}.json`, import.meta.url), 'utf8')) as ProbeResult;
const at = (r: ProbeResult, label: string): KernelObserve => {
  const o = r.observe.find((x) => x.label === label);
  if (!o) throw new Error(`no observe ${label}`);
  return o;
};
const cell = (o: KernelObserve, i: number, p: string): KernelPage | null => o.pages[i]!.procs[p] ?? null;
/** Histogram of kpagecount over the mapped cells of one process. */
const counts = (o: KernelObserve, p: string) => {
  const h: Record<string, number> = {};
  for (const pg of o.pages) {
    const c = pg.procs[p];
    const k = c ? String(c.kpagecount) : 'null';
    h[k] = (h[k] ?? 0) + 1;
  }
  return h;
};

describe('recorded kernel fixtures', () => {
  for (const s of SCENARIOS) {
    it(`${s}: well-formed, one record per observe step of the scenario, same kernel and settings`, async () => {
      const w = await scenario(s);
      validateWorkload(w);
      const plan = probe_plan(w);
      const r = fixture(s);
      expect(result_problem(r)).toBeNull();
      expect(r.workload).toBe(w.name);
      expect(r.kernel).toMatch(/^Linux 6\.18/);
      expect(r.machine.thp).toBe('madvise');
      expect(r.observe.map((o) => [o.label, o.region, o.offset, o.size, Object.keys(o.pages[0]!.procs)])).toEqual(
        plan.observes.map((o) => [o.label, o.region, o.offset, o.size, o.procs]),
      );
      // khugepaged was held off: nothing collapsed behind the workload's back.
      expect(r.vmstat['thp_collapse_alloc'] ?? 0).toBe(0);
    });

    it(`${s}: over 3 runs, everything but PFN values was deterministic`, () => {
      const d = fixture(s).determinism!;
      expect(d.runs).toBe(3);
      expect(d.cells).toBeGreaterThan(0);
      // PFN values are not compared: the buddy allocator may or may not hand out the same blocks again.
      const { pfn: _pfn, ...rest } = d.differing;
      expect(rest).toEqual({ mapped: 0, kpagecount: 0, thp: 0, compound: 0, folioPages: 0, sharing: 0 });
    });
  }

  // Expected values worked out from the rmap rules (kernel-mm.md §3c), not from the simulator.
  it('thp-cow-pmd: the child COW splits only its own PMD; the THP page it left keeps kpagecount 1 (parent PMD: entire mapcount 1)', () => {
    const r = fixture('thp-cow-pmd');
    expect(counts(at(r, 'forked'), 'p')).toEqual({ 2: 512 });
    const cow = at(r, 'child-cow');
    expect(cell(cow, 5, 'p')).toMatchObject({ kpagecount: 1, thp: true, compound: 'tail', folioPages: 512 });
    expect(cell(cow, 5, 'c')).toMatchObject({ kpagecount: 1, thp: false, compound: 'none', folioPages: 1 });
    expect(counts(cow, 'c')).toEqual({ 1: 1, 2: 511 });
    expect(cell(cow, 0, 'p')!.pfn).toBe(cell(cow, 0, 'c')!.pfn);
    expect(cell(cow, 0, 'p')!.compound).toBe('head');
    const after = at(r, 'child-exited');
    expect(counts(after, 'p')).toEqual({ 1: 512 });
    expect(cell(after, 256, 'p')).toMatchObject({ thp: false, folioPages: 1 });
  });

  it('thp-fork-munmap-dontneed: munmap and DONTNEED leave the other process as the only mapper of those pages', () => {
    const r = fixture('thp-fork-munmap-dontneed');
    const mu = at(r, 'parent-munmap');
    expect(counts(mu, 'p')).toEqual({ 2: 896, null: 128 });
    expect(counts(mu, 'c')).toEqual({ 2: 896, 1: 128 });
    for (let i = 256; i < 384; i++) expect([cell(mu, i, 'p'), cell(mu, i, 'c')!.kpagecount]).toEqual([null, 1]);
    const dn = at(r, 'child-dontneed'); // child dropped [1.5, 2.5) MiB: pages 384..639, across both THPs
    expect(counts(dn, 'c')).toEqual({ 2: 640, 1: 128, null: 256 });
    for (const i of [384, 511, 512, 639]) expect([cell(dn, i, 'c'), cell(dn, i, 'p')!.kpagecount]).toEqual([null, 1]);
    expect(counts(at(r, 'parent-exited'), 'c')).toEqual({ 1: 768, null: 256 });
  });

  it('thp-partial-mremap-shared: moved PTEs still map the shared folio; a whole-PMD move stays one folio', () => {
    const r = fixture('thp-partial-mremap-shared');
    const a = at(r, 'parent-mremap');
    const b = at(r, 'parent-mremap-moved');
    expect(counts(a, 'c')).toEqual({ 2: 512 });
    expect(counts(b, 'p')).toEqual({ 2: 256 });
    expect(cell(b, 0, 'p')!.pfn).toBe(cell(a, 128, 'c')!.pfn);
    const cow = at(r, 'moved-cow');
    expect(cell(cow, 64, 'p')).toMatchObject({ kpagecount: 1, thp: false });
    const moved = at(r, 'child-mremap-pmd');
    expect(counts(moved, 'c')).toEqual({ 2: 511, 1: 1 });
    expect(cell(moved, 192, 'c')!.kpagecount).toBe(1); // page 192 = B's page 64, which the parent COWed away
  });

  it('mthp-64k-fork: 64 KiB folios, COW and partial zaps counted per page', () => {
    const r = fixture('mthp-64k-fork');
    const t = at(r, 'touched');
    expect(t.pages.every((p) => p.procs['p']!.folioPages === 16 && p.procs['p']!.thp)).toBe(true);
    expect(t.pages.filter((p) => p.procs['p']!.compound === 'head').map((p) => p.index)).toEqual(Array.from({ length: 16 }, (_, i) => i * 16));
    const part = at(r, 'partial');
    expect(counts(part, 'p')).toEqual({ 2: 243, 1: 9, null: 4 });
    expect(counts(part, 'c')).toEqual({ 2: 243, 1: 5, null: 8 });
    expect(r.vmstat['hugepages-64kB/anon_fault_alloc']).toBe(16);
  });
});
