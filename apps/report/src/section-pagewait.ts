import { legend_html, policy_range } from './charts.js';
import type { Section } from './charts.js';
import { kind_runs } from './composition.js';
import { count_format, html_escape, ns_format } from './format.js';
import type { CompareRun, CompareResult } from './types.js';
import { walk_buckets, walk_histogram } from './walk-buckets.js';

const WALK = 'pagewait.walk';

interface HistRow {
  label: string;
  bucket: string;
  count: number;
  tooltip: string;
}

/** One histogram per workload: how many wait-queue entries each wakeup walked, per wait policy. */
export function pagewait_section(result: CompareResult): Section {
  const k = kind_runs(result, 'pagewait');
  const section: Section = {
    id: 'pagewait',
    title: 'Page wait: wake-walk lengths',
    intro:
      'Entries walked per wakeup (<code>folio_wake_bit</code> → <code>__wake_up_common</code>), from each run\'s <code>pagewait.walk</code> distribution. A hashed table walks other folios\' waiters that share the bucket; an attached queue walks only its own. Counts are on a log scale when they span more than two orders of magnitude.',
    charts: [],
    notes: [],
  };
  if (k.runs.length === 0) {
    section.notes.push('Not run: this result has no pagewait runs.');
    return section;
  }
  const colors = policy_range(k.policies);
  section.legend = legend_html('wait policy', k.policies, colors, k.baselinePolicy);
  const noDist: string[] = [];
  // One histogram per workload (and other varying choice, e.g. the layout), one bar series per wait policy.
  k.groups.forEach((g, i) => {
    const runs = k.runs.filter((r) => k.groupOf.get(r) === g);
    const withDist = runs.filter((r) => r.status === 'ok' && r.distributions?.[WALK]?.some(([, c]) => c > 0));
    for (const r of runs) {
      if (r.status !== 'ok') section.notes.push(`${html_escape(r.workload)} · ${html_escape(k.labelOf.get(r)!)}: <strong>${r.status}</strong> — ${html_escape(r.reason ?? '(no reason given)')}`);
      else if (!withDist.includes(r)) noDist.push(`${r.workload} · ${k.labelOf.get(r)}`);
    }
    if (withDist.length === 0) return;
    const buckets = walk_buckets(withDist.map((r) => r.distributions![WALK]!));
    const rows: HistRow[] = [];
    for (const r of withDist) {
      const label = k.policyOf.get(r)!;
      const h = walk_histogram(r.distributions![WALK]!, buckets);
      const total = h.reduce((a, b) => a + b, 0);
      h.forEach((count, b) => {
        if (count > 0) rows.push({ label, bucket: buckets.labels[b]!, count, tooltip: `${label}: ${count_format(count)} wakeups walked ${buckets.labels[b]} entries (${((100 * count) / total).toFixed(1)}%)` });
      });
    }
    const counts = rows.map((r) => r.count);
    const maxCount = Math.max(...counts);
    const log = maxCount / Math.min(...counts) > 100;
    // symlog, not log: a bar starts at 0, which log cannot place; explicit decades keep the ticks readable.
    const decades: number[] = [0];
    for (let d = 1; d <= maxCount * 10; d *= 10) decades.push(d);
    const labels = k.policies.filter((l) => withDist.some((r) => k.policyOf.get(r) === l));
    const n = buckets.labels.length;
    section.charts.push({
      id: `chart-pagewait-walk-${i}`,
      title: `Workload ${g}`,
      note: withDist.map((r) => walk_summary(k.policyOf.get(r)!, r)).join('  ·  '),
      spec: {
        width: Math.max(320, Math.min(900, n * Math.max(46, labels.length * 14 + 12))),
        height: 200,
        data: { values: rows },
        mark: { type: 'bar', cornerRadiusEnd: 1 },
        encoding: {
          x: { field: 'bucket', type: 'ordinal', scale: { domain: buckets.labels, paddingInner: 0.15 }, title: 'entries walked per wakeup', axis: { labelAngle: n > 12 ? -40 : 0, labelFontSize: 10 } },
          xOffset: { field: 'label', type: 'nominal', scale: { domain: labels } },
          y: { field: 'count', type: 'quantitative', title: log ? 'wakeups (log scale)' : 'wakeups', scale: log ? { type: 'symlog', domain: [0, decades[decades.length - 1]!] } : {}, axis: log ? { values: decades.slice(1), labelExpr: "format(datum.value, '~s')" } : { labelExpr: "format(datum.value, '~s')", tickCount: 5 } },
          color: { field: 'label', type: 'nominal', scale: { domain: k.policies, range: colors }, legend: null },
          tooltip: { field: 'tooltip', type: 'nominal' },
        },
      },
    });
  });
  if (noDist.length) section.notes.push(`No <code>${WALK}</code> distribution recorded for ${noDist.length === k.runs.length ? `any of the ${noDist.length} runs` : `${noDist.length} runs: ${noDist.map(html_escape).join(', ')}`}; their walk figures are in the per-workload tables.`);
  if (section.charts.length === 0) section.notes.unshift('No histogram to draw.');
  return section;
}

function walk_summary(label: string, r: CompareRun): string {
  const m = r.metrics;
  const parts: string[] = [];
  if (m['pagewait.wakeups'] !== undefined) parts.push(`${count_format(m['pagewait.wakeups'])} wakeups`);
  if (m['pagewait.walk_mean'] !== undefined) parts.push(`mean ${count_format(m['pagewait.walk_mean'])}`);
  if (m['pagewait.walk_p99'] !== undefined) parts.push(`p99 ${count_format(m['pagewait.walk_p99'])}`);
  if (m['pagewait.walk_max'] !== undefined) parts.push(`max ${count_format(m['pagewait.walk_max'])}`);
  if (m['pagewait.latency_p99_ns'] !== undefined) parts.push(`wait p99 ${ns_format(m['pagewait.latency_p99_ns'])}`);
  return `${label}: ${parts.join(', ')}`;
}
