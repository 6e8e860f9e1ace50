import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cowCellDrafts } from '@foliolab/workloads';
import { compare } from './index.js';
import type { RunRecord } from './schema.js';

/**
 * The cow.c matrix acceptance: no write leaks and no stale pin under per-page and upstream, and the
 * workloads package's COW-MATRIX.md lists every cell where per-folio behaves differently, with the
 * measured figures and the reason. Run with UPDATE_COW_DOC=1 to regenerate the list.
 */
const DOC = fileURLToPath(new URL('../../workloads/COW-MATRIX.md', import.meta.url));
const BEGIN = '<!-- cow-differences:begin -->';
const END = '<!-- cow-differences:end -->';

function figures(r: RunRecord | undefined): string {
  if (!r) return 'not run';
  if (r.status !== 'ok') return r.status;
  const leak = r.cow?.leak ? ', write leaked' : '';
  const stale = r.cow?.stalePin ? ', stale pin' : '';
  return `${r.metrics['vm.cow.copies'] ?? 0} copies (${r.metrics['mapcount.unnecessary_copies'] ?? 0} unnecessary)${leak}${stale}`;
}

/** Why per-folio's outcome differs, read from the figures (both runs saw the same steps). */
function reason(folio: RunRecord, up: RunRecord): string {
  const fc = folio.metrics['vm.cow.copies'] ?? 0;
  const uc = up.metrics['vm.cow.copies'] ?? 0;
  const fu = folio.metrics['mapcount.unnecessary_copies'] ?? 0;
  const uu = up.metrics['mapcount.unnecessary_copies'] ?? 0;
  if (folio.cow?.leak || folio.cow?.stalePin) return 'per-folio reused a page another process still maps: the tuple count cannot tell "mapped twice by me" from "mapped by someone else"';
  if (fc > uc && fu > 0) return 'per-folio cannot prove the folio exclusive (its (vma, page table) count no longer matches the mappings after the range was split or moved) and copies pages the oracle says it could reuse';
  if (fc > uc) return 'an earlier policy-dependent decision (khugepaged\'s max_ptes_shared test in MADV_COLLAPSE, or a deferred split) went the other way, so per-folio faces a shared folio where upstream faces an exclusive one; both copy exactly what they must';
  if (uu > 0) return 'upstream copies where the folio is in fact exclusive (its MM-id slots still say "maybe shared"); per-folio\'s count of one tuple lets it reuse';
  return 'per-folio reuses the PTE-mapped large folio in place where upstream copies page by page; both are safe';
}

describe('the cow.c matrix', () => {
  it('per-page and upstream never leak a write or leave a pin stale; every per-folio difference is documented', async () => {
    const names = cowCellDrafts().map((c) => c.name);
    const r = await compare({ workloads: names, choices: { layout: ['struct-page'], mapcount: ['per-page', 'upstream', 'per-folio'] }, jobs: 2 });
    const by = new Map<string, Record<string, RunRecord>>();
    for (const x of r.runs) (by.get(x.workload) ?? by.set(x.workload, {}).get(x.workload)!)[x.composition.mapcount!] = x;
    expect(by.size).toBe(70);
    const rows: string[] = [];
    for (const [name, m] of by) {
      for (const p of ['per-page', 'upstream']) {
        expect(m[p]!.status, `${name} ${p}: ${m[p]!.reason}`).toBe('ok');
        expect(m[p]!.cow?.leak, `${name} ${p} leaked a write`).toBe(false);
        expect(m[p]!.cow?.stalePin, `${name} ${p} left a pin stale`).toBe(false);
        expect(m[p]!.metrics['mapcount.unsafe_reuses'], `${name} ${p}`).toBe(0);
      }
      const f = m['per-folio']!;
      const u = m.upstream!;
      if (figures(f) !== figures(u)) rows.push(`| \`${name}\` | ${figures(u)} | ${figures(f)} | ${reason(f, u)} |`);
    }
    const table = [BEGIN, '| cell | upstream | per-folio | why |', '|---|---|---|---|', ...rows, END].join('\n');
    const doc = readFileSync(DOC, 'utf8');
    const current = doc.slice(doc.indexOf(BEGIN), doc.indexOf(END) + END.length);
    if (process.env.UPDATE_COW_DOC) writeFileSync(DOC, doc.replace(current, table));
    else expect(current, 'COW-MATRIX.md is stale: run with UPDATE_COW_DOC=1').toBe(table);
  }, 300_000);
});
