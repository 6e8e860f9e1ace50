import { KIND_ORDER, kind_runs, workload_is_cow_cell, workloads_of } from './composition.js';
import type { KindRuns } from './composition.js';
import { count_format, delta_format, html_escape, metric_format } from './format.js';
import type { CompareRun, CompareResult } from './types.js';

/** Metric names in the order COMPARE-SCHEMA.md lists them; others follow alphabetically. */
const HEADLINE: readonly string[] = [
  'memmap.bytes', 'memmap.host_bytes_per_page',
  'mapcount.queries', 'mapcount.wrong', 'mapcount.unnecessary_copies', 'mapcount.unsafe_reuses', 'mapcount.atomics', 'mapcount.cache_lines', 'mapcount.metadata_bytes',
  'pagewait.wakeups', 'pagewait.walk_mean', 'pagewait.walk_p99', 'pagewait.walk_max', 'pagewait.foreign_walked', 'pagewait.longest_bucket', 'pagewait.latency_p50_ns', 'pagewait.latency_p99_ns',
  'pagewait.handoffs', 'pagewait.table_bytes', 'pagewait.attached_peak_bytes', 'pagewait.mapping_indirections',
  'fs.bytes', 'fs.mapping_calls', 'fs.data_bios', 'fs.bvecs', 'fs.buffer_head_bytes', 'fs.iomap_folio_state_bytes',
];

function metric_order(a: string, b: string): number {
  const ia = HEADLINE.indexOf(a);
  const ib = HEADLINE.indexOf(b);
  if (ia >= 0 || ib >= 0) return (ia < 0 ? Infinity : ia) - (ib < 0 ? Infinity : ib);
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * One table per workload: a column per composition (the baseline first), a row per metric; every other
 * column shows its delta against the baseline's value. Without an ok baseline run there are no deltas,
 * and the table says so.
 */
function workload_table(w: string, k: KindRuns, open: boolean): string {
  const runs = k.runs.filter((r) => r.workload === w);
  const cols: Array<{ label: string; run: CompareRun }> = [];
  for (const l of k.labels) for (const r of runs) if (k.labelOf.get(r) === l) cols.push({ label: l, run: r });
  const base = cols.find((c) => c.label === k.baselineLabel)?.run;
  const baseOk = base?.status === 'ok' ? base : undefined;
  const metrics = [...new Set(cols.flatMap((c) => Object.keys(c.run.metrics)))].sort(metric_order);
  const head = cols.map((c) => `<th scope="col">${html_escape(c.label)}${c.run === base ? '<span class="base-tag">baseline</span>' : ''}</th>`).join('');
  const status = cols
    .map((c) =>
      c.run.status === 'ok'
        ? `<td class="status ok">ok · ${count_format(c.run.durationMs)} ms</td>`
        : `<td class="status bad"><strong>${c.run.status}</strong>: ${html_escape(c.run.reason ?? '(no reason given)')}</td>`,
    )
    .join('');
  const body = metrics
    .map((m) => {
      const cells = cols
        .map((c) => {
          const v = c.run.metrics[m];
          if (c.run.status !== 'ok' || v === undefined) return '<td class="na">—</td>';
          const b = baseOk?.metrics[m];
          let delta = '';
          if (c.run !== base && b !== undefined) {
            const d = delta_format(m, v, b);
            delta = `<span class="delta${d === '=' ? ' same' : v > b ? ' up' : ' down'}">${html_escape(d)}</span>`;
          }
          return `<td>${html_escape(metric_format(m, v))}${delta}</td>`;
        })
        .join('');
      return `<tr><th scope="row">${html_escape(m)}</th>${cells}</tr>`;
    })
    .join('');
  const caveat =
    cols.length < 2 ? '' : !base ? '<p class="caveat">No baseline composition ran on this workload: no deltas.</p>' : !baseOk ? `<p class="caveat">The baseline run was ${base.status}: no deltas.</p>` : '';
  const bad = cols.filter((c) => c.run.status !== 'ok').length;
  const flag = bad ? ` <span class="pill bad">${bad} not ok</span>` : '';
  return (
    `<details class="workload"${open ? ' open' : ''}><summary><code>${html_escape(w)}</code> <span class="pill">${k.kind}</span> <span class="muted">${cols.length} composition${cols.length === 1 ? '' : 's'}</span>${flag}</summary>` +
    `<div class="table-wrap"><table><thead><tr><th scope="col">metric</th>${head}</tr><tr class="status-row"><th scope="row">status</th>${status}</tr></thead><tbody>${body}</tbody></table></div>${caveat}</details>`
  );
}

/** The per-workload tables, grouped by kind; cow.c cells (shown in the grid) are folded into one group. */
export function summary_html(result: CompareResult): string {
  const main: Array<[string, KindRuns]> = [];
  const cow: Array<[string, KindRuns]> = [];
  for (const kind of KIND_ORDER) {
    const k = kind_runs(result, kind);
    for (const w of workloads_of(k.runs)) (kind === 'mapcount' && workload_is_cow_cell(w) ? cow : main).push([w, k]);
  }
  if (main.length + cow.length === 0) return '<p class="note">This result has no runs.</p>';
  // Open every table when there are few; past a dozen the page would be a wall of numbers.
  const open = main.length <= 12;
  let html = main.map(([w, k]) => workload_table(w, k, open)).join('\n');
  if (cow.length) html += `<details class="group"><summary>${cow.length} cow.c matrix cell workloads</summary>${cow.map(([w, k]) => workload_table(w, k, false)).join('\n')}</details>`;
  return html;
}
