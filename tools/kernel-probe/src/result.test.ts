import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { folio_head, result_problem, result_stringify, runs_determinism, sharing_view, type ProbeResult } from './result.js';

const fixture = (s: string): ProbeResult => JSON.parse(readFileSync(new URL(`../fixtures/${s}.json`, import.meta.url), 'utf8')) as ProbeResult;

describe('result helpers', () => {
  it('folio_head follows natural alignment', () => {
    expect(folio_head({ pfn: 1357825, folioPages: 512 })).toBe(1357824);
    expect(folio_head({ pfn: 1747199, folioPages: 16 })).toBe(1747184);
    expect(folio_head({ pfn: 77, folioPages: 1 })).toBe(77);
  });

  it('result_stringify round-trips and keeps one page per line', () => {
    const r = fixture('mthp-64k-fork');
    const text = result_stringify(r);
    expect(JSON.parse(text)).toEqual(r);
    const pages = r.observe.reduce((n, o) => n + o.pages.length, 0);
    expect(text.split('\n').filter((l) => l.startsWith('   {"index"'))).toHaveLength(pages);
  });

  it('runs_determinism: relocating every PFN changes only pfn; changing who shares changes sharing', () => {
    const r = fixture('thp-cow-pmd');
    const { determinism: _, ...run } = r;
    const moved = structuredClone(run) as ProbeResult;
    for (const o of moved.observe) for (const p of o.pages) for (const c of Object.values(p.procs)) if (c) c.pfn += 1 << 20;
    const d = runs_determinism([run, moved]);
    const mapped = run.observe.reduce((n, o) => n + o.pages.reduce((m, p) => m + Object.values(p.procs).filter(Boolean).length, 0), 0);
    expect(d.differing).toEqual({ mapped: 0, kpagecount: 0, thp: 0, compound: 0, folioPages: 0, sharing: 0, pfn: mapped });
    const unshared = structuredClone(run) as ProbeResult;
    unshared.observe[0]!.pages[3]!.procs['c']!.pfn = 999; // forked: c's page 3 no longer shares p's PFN
    expect(runs_determinism([run, unshared]).differing).toMatchObject({ sharing: 1, pfn: 1, kpagecount: 0 });
  });

  it('sharing_view points each cell at the first cell with the same PFN and folio', () => {
    const v = sharing_view(
      [
        { index: 0, procs: { p: { pfn: 512, folioPages: 512 }, c: { pfn: 512, folioPages: 512 } } },
        { index: 1, procs: { p: { pfn: 513, folioPages: 512 }, c: { pfn: 9, folioPages: 1 } } },
      ],
      ['p', 'c'],
    );
    expect([...v.pfnRep]).toEqual([['0:p', '0:p'], ['0:c', '0:p'], ['1:p', '1:p'], ['1:c', '1:c']]);
    expect([...v.folioRep]).toEqual([['0:p', '0:p'], ['0:c', '0:p'], ['1:p', '0:p'], ['1:c', '1:c']]);
  });

  it('result_problem names what is wrong', () => {
    expect(result_problem({ schema: 'x' })).toMatch(/schema is "x"/);
    const r = structuredClone(fixture('thp-cow-pmd'));
    (r.observe[1]!.pages[2]!.procs['p'] as unknown as Record<string, unknown>)['kpagecount'] = '2';
    expect(result_problem(r)).toMatch(/observe\[1\] "child-cow" page 2 proc p/);
  });
});
