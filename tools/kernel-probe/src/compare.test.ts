import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadWorkload } from '@foliolab/workloads';
import { compareProbeWithSim, comparison_describe } from './compare.js';
import type { ProbeResult } from './result.js';
import { SIM_POLICIES, simulate, type SimObserve } from './sim.js';

const SCENARIOS = ['thp-fork-munmap-dontneed', 'thp-cow-pmd', 'thp-partial-mremap-shared', 'mthp-64k-fork'] as const;
const scenario = (s: string) => loadWorkload(new URL(`../scenarios/${s}.yaml`, import.meta.url).pathname);
const fixture = (s: string): ProbeResult => JSON.parse(readFileSync(new URL(`../fixtures/${s}.json`, import.meta.url), 'utf8')) as ProbeResult;
const clone = <T>(v: T): T => structuredClone(v);

describe('the recorded kernel (Linux 6.18, CONFIG_PAGE_MAPCOUNT=y) against the simulator', () => {
  for (const s of SCENARIOS) {
    for (const policy of SIM_POLICIES) {
      it(`${s}: ${policy} page mapcount = /proc/kpagecount, mapped, THP and sharing agree page for page`, async () => {
        const probe = fixture(s);
        const c = compareProbeWithSim(probe, simulate(await scenario(s), policy));
        expect(c.structural).toBeNull();
        const cells = probe.observe.reduce((n, o) => n + o.pages.length * Object.keys(o.pages[0]!.procs).length, 0);
        expect(c.cells).toBe(cells);
        expect(c.matches, comparison_describe(c)).toBe(c.cells);
      });
    }
    it(`${s}: the vm's oracle agrees with /proc/kpagecount too`, async () => {
      const c = compareProbeWithSim(fixture(s), simulate(await scenario(s), 'per-page'), { simCount: 'oracle' });
      expect(c.matches, comparison_describe(c)).toBe(c.cells);
    });
  }

  it('control: upstream with CONFIG_NO_PAGE_MAPCOUNT has no page mapcount for large folios, so exactly those cells differ', async () => {
    for (const s of SCENARIOS) {
      const probe = fixture(s);
      const large = probe.observe.reduce((n, o) => n + o.pages.reduce((m, p) => m + Object.values(p.procs).filter((c) => c !== null && c.folioPages > 1).length, 0), 0);
      expect(large).toBeGreaterThan(0);
      const c = compareProbeWithSim(probe, simulate(await scenario(s), 'upstream-no-page-mapcount'), { limit: 1 });
      expect(c.observes.reduce((n, o) => n + o.failed.mapcount, 0)).toBe(large);
      expect(c.cells - c.matches).toBe(large);
    }
  });
});

describe('compareProbeWithSim finds each kind of disagreement', () => {
  const base = async () => {
    const probe = fixture('thp-cow-pmd');
    const sim = simulate(await scenario('thp-cow-pmd'), 'per-page');
    return { probe, sim };
  };

  it('a different kpagecount on one page', async () => {
    const { probe, sim } = await base();
    const p = clone(probe);
    p.observe[1]!.pages[7]!.procs['c']!.kpagecount = 3;
    const c = compareProbeWithSim(p, sim);
    expect(c.cells - c.matches).toBe(1);
    expect(c.mismatches).toHaveLength(1);
    expect(c.mismatches[0]).toMatchObject({ label: 'child-cow', index: 7, proc: 'c', checks: ['mapcount'] });
    expect(comparison_describe(c)).toMatch(/child-cow page 7 c: mapcount: kernel kpagecount 3/);
  });

  it('a page mapped on one side only', async () => {
    const { probe, sim } = await base();
    const s = clone(sim);
    s[0]!.pages[3]!.procs['p'] = null;
    const c = compareProbeWithSim(probe, s);
    // p's page 3 was the first cell holding that PFN, so c's page 3 loses its sharing partner too.
    expect(c.mismatches.map((m) => [m.index, m.proc, m.checks])).toEqual([[3, 'p', ['mapped']], [3, 'c', ['sharing']]]);
  });

  it('two processes sharing a PFN in the kernel but not in the simulator (and THP-ness, folio size)', async () => {
    const { probe, sim } = await base();
    const s: SimObserve[] = clone(sim);
    const cell = s[0]!.pages[9]!.procs['c']!;
    cell.pfn = 1e9;
    const c = compareProbeWithSim(probe, s);
    expect(c.mismatches.map((m) => [m.label, m.index, m.proc, m.checks])).toEqual([['forked', 9, 'c', ['sharing']]]);
    cell.thp = false;
    cell.folioPages = 1;
    cell.compound = 'none';
    expect(compareProbeWithSim(probe, s).mismatches[0]!.checks).toEqual(['thp', 'compound', 'folioPages', 'sharing']);
  });

  it('records that do not line up are a structural problem', async () => {
    const { probe, sim } = await base();
    expect(compareProbeWithSim(probe, sim.slice(1)).structural).toMatch(/4 observes, the simulator 3/);
    const s = clone(sim);
    s[2]!.label = 'other';
    expect(compareProbeWithSim(probe, s).structural).toMatch(/label "parent-cow" in the kernel record, "other"/);
  });
});
