import { grouped_bars_spec, legend_html, policy_range } from './charts.js';
import type { BarRow, Section } from './charts.js';
import { kind_runs, workload_is_cow_cell } from './composition.js';
import { html_escape, metric_format } from './format.js';
import type { CompareResult } from './types.js';

const PANELS = [
  { metric: 'mapcount.wrong', title: 'Mapcount query errors', xTitle: 'wrong answers (folio_mapped_shared, page_mapcount, …)' },
  { metric: 'mapcount.unsafe_reuses', title: 'Unsafe reuses', xTitle: 'shared pages reused for write (COW skipped)' },
  { metric: 'mapcount.unnecessary_copies', title: 'Unnecessary copies', xTitle: 'exclusive pages copied on write' },
  { metric: 'mapcount.metadata_bytes', title: 'Mapcount metadata', xTitle: 'bytes of mapcount fields' },
] as const;

/** Query errors, unsafe reuses, copies and metadata bytes by policy, one band per workload. */
export function mapcount_section(result: CompareResult): Section {
  const all = kind_runs(result, 'mapcount');
  const cowGrid = result.cowMatrix !== undefined && result.cowMatrix.length > 0;
  const k = kind_runs(result, 'mapcount', (r) => !(cowGrid && workload_is_cow_cell(r.workload)));
  const section: Section = {
    id: 'mapcount',
    title: 'Mapcount policies',
    intro: 'What each mapcount scheme gets wrong and what it costs, on the same workloads (lower is better everywhere). The value is printed at the end of each bar; a run that did not produce numbers says why.',
    charts: [],
    notes: [],
  };
  const hiddenCells = all.runs.length - k.runs.length;
  const mixed = new Set(result.runs.filter((r) => r.kind === 'mixed').map((r) => r.workload)).size;
  if (mixed > 0) section.notes.push(`${mixed} mixed workload${mixed === 1 ? '' : 's'} (mapcount and fs together) ${mixed === 1 ? 'is' : 'are'} in the <a href="#summary">per-workload tables</a>.`);
  if (hiddenCells > 0) section.notes.push(`${hiddenCells} runs of cow.c matrix cells are summarized in the <a href="#cow">cow.c matrix</a> instead of here.`);
  if (k.runs.length === 0) {
    if (hiddenCells === 0 && mixed === 0) section.notes.unshift('Not run: this result has no mapcount runs.');
    return section;
  }
  const colors = policy_range(k.policies);
  section.legend = legend_html('mapcount policy', k.policies, colors, k.baselinePolicy);
  for (const p of PANELS) {
    const rows: BarRow[] = k.runs.map((r) => {
      const label = k.labelOf.get(r)!;
      const v = r.status === 'ok' ? r.metrics[p.metric] : undefined;
      const text = r.status !== 'ok' ? r.status : v === undefined ? `no ${p.metric}` : metric_format(p.metric, v);
      const why = r.status !== 'ok' ? `${r.status}: ${r.reason ?? '(no reason given)'}` : text;
      return { group: k.groupOf.get(r)!, label: k.policyOf.get(r)!, value: v ?? null, text, missing: v === undefined, tooltip: `${r.workload} · ${label}: ${why}` };
    });
    section.charts.push({
      id: `chart-mapcount-${p.metric.slice('mapcount.'.length).replace(/_/g, '-')}`,
      title: p.title,
      spec: grouped_bars_spec({ rows, groups: k.groups, labels: k.policies, colors, xTitle: p.xTitle, bytes: p.metric.endsWith('bytes') }),
    });
  }
  const notOk = k.runs.filter((r) => r.status !== 'ok');
  for (const r of notOk) section.notes.push(`${html_escape(r.workload)} · ${html_escape(k.labelOf.get(r)!)}: <strong>${r.status}</strong> — ${html_escape(r.reason ?? '(no reason given)')}`);
  return section;
}
