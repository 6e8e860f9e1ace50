import { describe, expect, it } from 'vitest';
import { ReportError, renderReport, validateCompareResult } from './index.js';
import type { CompareResult, CompareRun } from './index.js';
import { embedded, sample } from './test-util.js';
import type { EmbeddedChart } from './test-util.js';

const MiB = 1024 * 1024;
const charts_of = (html: string) => embedded<EmbeddedChart[]>(html, 'foliolab-charts');
const rows_of = (c: EmbeddedChart) => c.spec.data!.values;
const section_chart_count = (html: string, id: string): number => Number(new RegExp(`data-section="${id}" data-charts="(\\d+)"`).exec(html)![1]);

describe('validateCompareResult', () => {
  it('rejects a wrong schema with one line naming the field and the expected value', () => {
    const r = { ...sample(), schema: 'foliolab/run@1' };
    expect(() => renderReport(r as unknown as CompareResult)).toThrow(ReportError);
    expect(() => renderReport(r as unknown as CompareResult)).toThrow(/^result: schema: expected "foliolab\/compare@1", got "foliolab\/run@1"/);
    expect(() => validateCompareResult({ schema: 'foliolab/compare@2' }, 'x.json')).toThrow(/^x\.json: schema: expected "foliolab\/compare@1", got "foliolab\/compare@2"/);
    expect(() => validateCompareResult([], 'x.json')).toThrow(/x\.json: \(top level\): expected an object, got an array/);
  });

  it('names the broken field of a run, a distribution, and a cow cell', () => {
    const a = sample();
    (a.runs[3] as unknown as Record<string, unknown>).kind = 'mm';
    expect(() => validateCompareResult(a)).toThrow('result: runs[3].kind: "mm" is not one of mapcount, fs, pagewait, memmap');
    const b = sample();
    b.runs[2]!.metrics['mapcount.wrong'] = 'many' as unknown as number;
    expect(() => validateCompareResult(b)).toThrow('result: runs[2].metrics["mapcount.wrong"]: expected a finite number, got "many"');
    const c = sample();
    const pw = c.runs.find((r) => r.distributions)!;
    pw.distributions!['pagewait.walk']![1] = [3] as unknown as [number, number];
    expect(() => validateCompareResult(c)).toThrow(`result: runs[${c.runs.indexOf(pw)}].distributions["pagewait.walk"][1]: expected a [value, count] pair, got 1 elements`);
    const d = sample();
    (d.cowMatrix![0]!.results['per-page'] as unknown as Record<string, unknown>).leak = 'no';
    expect(() => validateCompareResult(d)).toThrow('result: cowMatrix[0].results["per-page"].leak: expected true or false, got "no"');
  });
});

describe('renderReport', () => {
  const html = renderReport(sample());

  it('is one self-contained file: inline scripts and styles only, a CSP that forbids fetching anything', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    // The page outside the library builds (whose code merely mentions such things in strings).
    const own = html.replace(/<script data-vendor="[^"]+">[\s\S]*?<\/script>/g, '');
    expect(own.length).toBeLessThan(html.length / 4);
    const bad = [/<script[^>]*\ssrc=/i, /<link[\s>]/i, /<(img|iframe|object|embed|video|audio)[\s>]/i, /@import|@font-face|url\(/i, /\b(src|href)="(https?:)?\/\//i];
    for (const re of bad) expect(re.test(own), String(re)).toBe(false);
    expect(/<meta http-equiv="Content-Security-Policy" content="default-src 'none';/.test(html)).toBe(true);
    // The three library builds are inline, in dependency order.
    const vendors = [...html.matchAll(/<script data-vendor="([^"]+)">/g)].map((m) => m[1]!.split('@')[0]);
    expect(vendors).toEqual(['vega', 'vega-lite', 'vega-embed']);
    // Every chart carries its data inline: no chart names a URL to load.
    for (const c of charts_of(html)) expect(JSON.stringify(c.spec)).not.toMatch(/"url"\s*:|"\$schema"/);
  });

  it('embeds the result (minus observe records) so the numbers can be read back out of the page', () => {
    const r = sample();
    const back = embedded<CompareResult>(html, 'foliolab-result');
    expect(back.runs.map((x) => x.metrics)).toEqual(r.runs.map((x) => x.metrics));
    expect(back.cowMatrix).toEqual(r.cowMatrix);
    expect(back.runs.every((x) => !('observe' in x))).toBe(true);
  });

  it('keeps hostile names inert: no markup from the data reaches the page', () => {
    const r = sample();
    const evil = '</script><script>alert(1)</script><b>x';
    r.runs[2]!.workload = evil;
    r.cowMatrix![0]!.case = evil;
    const out = renderReport(r);
    expect(out).not.toContain('<script>alert(1)');
    expect(out).not.toContain('<b>x');
    expect(embedded<CompareResult>(out, 'foliolab-result').runs[2]!.workload).toBe(evil);
  });

  it('draws a chart for every subsystem of the sample', () => {
    const ids = charts_of(html).map((c) => c.id);
    expect(ids).toEqual([
      'chart-memmap-machine',
      'chart-memmap-run-0',
      'chart-mapcount-wrong',
      'chart-mapcount-unsafe-reuses',
      'chart-mapcount-unnecessary-copies',
      'chart-mapcount-metadata-bytes',
      'chart-pagewait-walk-0',
      'chart-pagewait-walk-1',
      'chart-fs-mapping-calls',
      'chart-fs-data-bios',
      'chart-fs-metadata-bytes',
      'chart-cow-matrix',
    ]);
    for (const id of ids) expect(html).toContain(`<div class="chart" id="${id}" data-chart="${id}"></div>`);
  });

  it('fs charts divide by the MiB each run moved', () => {
    const r = sample();
    const c = charts_of(html).find((x) => x.id === 'chart-fs-mapping-calls')!;
    const fsRuns = r.runs.filter((x) => x.kind === 'fs');
    expect(rows_of(c)).toHaveLength(fsRuns.length);
    for (const run of fsRuns) {
      const row = rows_of(c).find((x) => x.group === run.workload && x.label === run.composition.fs)!;
      expect(row.value).toBeCloseTo(run.metrics['fs.mapping_calls']! / (run.metrics['fs.bytes']! / MiB), 9);
    }
    // Metadata per MiB: buffer heads + iomap_folio_state, drawn in the unit the largest value reads best in.
    const m = charts_of(html).find((x) => x.id === 'chart-fs-metadata-bytes')!;
    const expected = fsRuns.map((x) => (x.metrics['fs.buffer_head_bytes']! + x.metrics['fs.iomap_folio_state_bytes']!) / (x.metrics['fs.bytes']! / MiB));
    const div = 1024 ** Math.floor(Math.log(Math.max(...expected)) / Math.log(1024));
    expect(rows_of(m).map((x) => x.value as number)).toEqual(expected.map((v) => v / div));
  });

  it('mapcount charts keep the refused composition visible as "refused", with no bar', () => {
    const r = sample();
    const c = charts_of(html).find((x) => x.id === 'chart-mapcount-wrong')!;
    const refused = r.runs.filter((x) => x.kind === 'mapcount' && x.status === 'refused');
    expect(refused.length).toBeGreaterThan(0);
    const rows = rows_of(c).filter((x) => x.text === 'refused');
    expect(rows).toHaveLength(refused.length);
    for (const row of rows) expect(row.value).toBeNull();
    // cow.c cell workloads go to the grid, not to the bars.
    expect(rows_of(c).some((x) => String(x.group).startsWith('cow.'))).toBe(false);
    expect(html).toMatch(/3 runs of cow\.c matrix cells are summarized/);
  });

  it('pagewait histograms keep every wakeup of the distribution', () => {
    const r = sample();
    const pw = r.runs.filter((x) => x.kind === 'pagewait');
    const ws = [...new Set(pw.map((x) => x.workload))];
    ws.forEach((w, i) => {
      const rows = rows_of(charts_of(html).find((x) => x.id === `chart-pagewait-walk-${i}`)!);
      for (const run of pw.filter((x) => x.workload === w)) {
        const total = run.distributions!['pagewait.walk']!.reduce((a, [, n]) => a + n, 0);
        const drawn = rows.filter((x) => x.label === run.composition.pagewait).reduce((a, x) => a + (x.count as number), 0);
        expect(drawn).toBe(total);
      }
    });
  });

  it('the cow grid has one cell per case × backing × policy, missing results as "not run"', () => {
    const r = sample();
    const cells = rows_of(charts_of(html).find((x) => x.id === 'chart-cow-matrix')!);
    const policies = new Set(r.cowMatrix!.flatMap((x) => Object.keys(x.results)));
    expect(cells).toHaveLength(r.cowMatrix!.length * policies.size);
    let leaks = 0;
    let stale = 0;
    let missing = 0;
    for (const row of r.cowMatrix!)
      for (const p of policies) {
        const res = row.results[p];
        if (!res) missing++;
        else if (res.leak) leaks++;
        else if (res.stalePin) stale++;
      }
    expect(cells.filter((x) => x.outcome === 'leak')).toHaveLength(leaks);
    expect(cells.filter((x) => x.outcome === 'stale pin')).toHaveLength(stale);
    expect(cells.filter((x) => x.outcome === 'not run')).toHaveLength(missing);
    expect(missing).toBeGreaterThan(0);
  });

  it('the summary shows the baseline first and each other composition\'s delta', () => {
    // thp-fork-partial: per-folio gets 512 wrong answers where the per-page baseline gets 0.
    const r = sample();
    const base = r.runs.find((x) => x.workload === 'thp-fork-partial' && x.composition.mapcount === 'per-page' && x.composition.layout === 'struct-page')!;
    const other = r.runs.find((x) => x.workload === 'thp-fork-partial' && x.composition.mapcount === 'per-folio')!;
    const a = base.metrics['mapcount.atomics']!;
    const b = other.metrics['mapcount.atomics']!;
    const pct = Math.round((100 * (b - a)) / a * 10) / 10;
    expect(html).toContain(`${b.toLocaleString('en-US')}<span class="delta down">-${(a - b).toLocaleString('en-US')} (${pct}%)</span>`);
    expect(html).toMatch(/<th scope="col">per-page @ struct-page<span class="base-tag">baseline<\/span><\/th><th scope="col">per-folio @ struct-page<\/th>/);
    expect(html).toContain('<td class="status bad"><strong>refused</strong>: layout memdesc refuses');
  });

  it('a result with only mapcount runs renders only those charts and says the rest were not run', () => {
    const r = sample();
    r.runs = r.runs.filter((x) => x.kind === 'mapcount');
    delete r.memmap;
    delete r.cowMatrix;
    const out = renderReport(r);
    const ids = charts_of(out).map((c) => c.id);
    expect(ids.every((id) => id.startsWith('chart-mapcount-'))).toBe(true);
    expect(ids).toHaveLength(4);
    for (const s of ['memmap', 'pagewait', 'fs', 'cow']) expect(section_chart_count(out, s)).toBe(0);
    expect(out).toContain('Not run: this result has neither a memmap measurement of a machine nor memmap or control runs.');
    expect(out).toContain('Not run: this result has no pagewait runs.');
    expect(out).toContain('Not run: this result has no fs runs.');
    expect(out).toContain('Not run: this result has no cow.c matrix.');
    // Without a cow grid the cow.c cell runs are ordinary mapcount workloads again.
    expect(rows_of(charts_of(out)[0]!).some((x) => String(x.group).startsWith('cow.'))).toBe(true);
  });

  it('an empty result still renders, every section saying it was not run', () => {
    const r = sample();
    r.runs = [];
    delete r.memmap;
    delete r.cowMatrix;
    const out = renderReport(r);
    expect(charts_of(out)).toEqual([]);
    expect(out.match(/class="note notrun">Not run/g)).toHaveLength(5);
    expect(out).toContain('This result has no runs.');
  });

  it('failed and oom runs are rows with their reason, and a failed baseline means no deltas', () => {
    const r = sample();
    const runs = r.runs.filter((x) => x.workload === 'small-files');
    const base = runs.find((x) => x.composition.fs === 'buffer-head')! as CompareRun;
    base.status = 'oom';
    base.reason = 'out of simulated memory at step 12 (folio_alloc order 0)';
    base.metrics = {};
    const out = renderReport(r);
    expect(out).toContain('<strong>oom</strong>: out of simulated memory at step 12 (folio_alloc order 0)');
    expect(out).toContain('The baseline run was oom: no deltas.');
    const rows = rows_of(charts_of(out).find((x) => x.id === 'chart-fs-data-bios')!);
    expect(rows.find((x) => x.group === 'small-files' && x.label === 'buffer-head')).toMatchObject({ value: null, text: 'oom' });
  });

  it('reads @foliolab/compare\'s extras: mixed and control kinds, per-run seeds, cow results with a status', () => {
    const r = sample();
    const base = r.runs.find((x) => x.kind === 'memmap')!;
    r.runs.push({ ...base, workload: 'boot-idle', kind: 'control', seed: 1 }, { ...r.runs.find((x) => x.kind === 'fs')!, workload: 'postgres-fork-cow', kind: 'mixed', composition: { layout: 'struct-page', mapcount: 'per-page', fs: 'buffer-head' } });
    // A refused run has no verdict: compare writes it as a row named by the cell's workload, with a status.
    r.cowMatrix!.push({ case: 'cow.vmsplice() + unmap in child.thp-pte', backing: '', results: { upstream: { leak: false, stalePin: false, status: 'refused', reason: 'memdesc refuses upstream' } } });
    r.cowMatrix![0]!.results['per-folio'] = { leak: false, stalePin: false, status: 'failed', reason: 'boom' };
    const out = renderReport(r);
    expect(charts_of(out).map((c) => c.id)).toContain('chart-memmap-run-1');
    expect(out).toContain('1 mixed workload (mapcount and fs together) is in the');
    expect(out).toContain('<code>postgres-fork-cow</code> <span class="pill">mixed</span>');
    const cells = rows_of(charts_of(out).find((x) => x.id === 'chart-cow-matrix')!);
    // Folded into its cell, not a new row; a failed run is "not run", not "ok".
    expect(cells).toHaveLength(9 * 3);
    expect(cells.find((x) => x.case === 'Basic COW after fork()' && x.backing === 'base' && x.policy === 'per-folio')!.outcome).toBe('not run');
    const folded = cells.find((x) => x.case === 'vmsplice() + unmap in child' && x.backing === 'thp-pte' && x.policy === 'upstream')!;
    expect(folded).toMatchObject({ outcome: 'not run', tooltip: 'upstream · vmsplice() + unmap in child · thp-pte: not run (refused) — memdesc refuses upstream' });
    expect(() => validateCompareResult({ ...r, runs: [{ ...base, kind: 'other' }] })).toThrow('result: runs[0].kind: "other" is not one of mapcount, fs, pagewait, memmap, mixed, control');
  });

  it('colors bars by policy and bands them by workload and layout when layouts vary too', () => {
    const r = sample();
    const pf = r.runs.find((x) => x.kind === 'mapcount' && x.workload === 'thp-fork-partial' && x.composition.mapcount === 'per-folio')!;
    r.runs.push({ ...pf, composition: { layout: 'memdesc', mapcount: 'per-folio' } });
    const out = renderReport(r);
    const c = charts_of(out).find((x) => x.id === 'chart-mapcount-wrong')!;
    const groups = [...new Set(rows_of(c).map((x) => x.group))];
    expect(groups).toEqual(['thp-fork-partial · struct-page', 'thp-fork-partial · memdesc', 'mmid-615-maybe-shared · struct-page', 'mmid-615-maybe-shared · memdesc']);
    expect([...new Set(rows_of(c).map((x) => x.label))]).toEqual(['per-page', 'per-folio', 'upstream']);
    expect(out).toContain('<span class="legend-title">mapcount policy</span>');
    expect(out).toMatch(/per-page <em>\(baseline\)<\/em><\/span><span class="key"><span class="swatch" style="background:#f58518"><\/span>per-folio</);
  });
});
