import { COUNT_LABEL_EXPR, POLICY_COLORS } from './charts.js';
import type { Section, VlSpec } from './charts.js';
import { kind_runs, workloads_of } from './composition.js';
import { bytes_format, bytes_unit, html_escape } from './format.js';
import type { CompareResult } from './types.js';

/** @foliolab/memmap's PAGE_TYPE_NAMES order, with a fixed color each so every memmap chart agrees. */
const PAGE_TYPE_COLORS: ReadonlyArray<[string, string]> = [
  ['none', '#e7e7e7'], ['hwpoison', '#e45756'], ['offline', '#79706e'], ['reserved', '#9d755d'], ['buddy', '#c7c7c7'],
  ['slab', '#f58518'], ['pagetable', '#b279a2'], ['zero_page', '#bab0ac'], ['hugetlb', '#eeca3b'], ['ksm', '#54a24b'],
  ['anon', '#4c78a8'], ['file', '#72b7b2'], ['unknown', '#ff9da6'],
];

interface StackRow {
  layout: string;
  type: string;
  bytes: number;
  order: number;
  tooltip: string;
}

interface TotalRow {
  layout: string;
  bytes: number;
  text: string;
}

function type_scale(types: Iterable<string>): { domain: string[]; range: string[] } {
  const present = new Set(types);
  const domain: string[] = [];
  const range: string[] = [];
  for (const [t, c] of PAGE_TYPE_COLORS) if (present.has(t)) domain.push(t), range.push(c);
  let extra = 0;
  for (const t of present) if (!domain.includes(t)) domain.push(t), range.push(POLICY_COLORS[extra++ % POLICY_COLORS.length]!);
  return { domain, range };
}

function stacked_spec(stack: StackRow[], totals: TotalRow[], layouts: string[]): VlSpec {
  const scale = type_scale(stack.map((r) => r.type));
  const { div, unit } = bytes_unit(Math.max(1, ...totals.map((t) => t.bytes)));
  const max = Math.max(1, ...totals.map((t) => t.bytes)) / div;
  const y = { field: 'layout', type: 'nominal', sort: layouts, title: null, axis: { labelFontSize: 12, labelLimit: 200, domain: false, ticks: false, labelPadding: 6 } };
  return {
    width: 760,
    height: { step: 34 },
    layer: [
      {
        data: { values: stack.map((r) => ({ ...r, bytes: r.bytes / div })) },
        mark: { type: 'bar', stroke: '#fff', strokeWidth: 0.5 },
        encoding: {
          y,
          x: { field: 'bytes', type: 'quantitative', aggregate: 'sum', title: `simulated kernel memory (${unit})`, scale: { domainMin: 0, domainMax: max * 1.3, nice: true }, axis: { labelExpr: COUNT_LABEL_EXPR, tickCount: 8 } },
          color: { field: 'type', type: 'nominal', scale, title: 'page type', legend: { orient: 'right', symbolType: 'square', offset: 18 } },
          order: { field: 'order', type: 'quantitative' },
          tooltip: { field: 'tooltip', type: 'nominal' },
        },
      },
      {
        data: { values: totals.map((t) => ({ ...t, bytes: t.bytes / div })) },
        mark: { type: 'text', align: 'left', baseline: 'middle', dx: 4, fontSize: 11, color: '#222' },
        encoding: { y, x: { field: 'bytes', type: 'quantitative' }, text: { field: 'text', type: 'nominal' } },
      },
    ],
  };
}

const type_rank = (t: string): number => {
  const i = PAGE_TYPE_COLORS.findIndex(([n]) => n === t);
  return i < 0 ? PAGE_TYPE_COLORS.length : i;
};

export function memmap_section(result: CompareResult): Section {
  const section: Section = {
    id: 'memmap',
    title: 'Memmap bytes by layout',
    intro: 'What each layout allocates to describe memory (the per-PFN array plus descriptors), split by what the pages are used for.',
    charts: [],
    notes: [],
  };
  const m = result.memmap;
  if (m && m.layouts.length) {
    const stack: StackRow[] = [];
    for (const l of m.layouts)
      for (const [type, bytes] of Object.entries(l.byType))
        if (bytes > 0) stack.push({ layout: l.name, type, bytes, order: type_rank(type), tooltip: `${l.name} · ${type}: ${bytes_format(bytes)} (${((100 * bytes) / l.bytes).toFixed(1)}% of the layout's bytes)` });
    const totals = m.layouts.map((l) => ({ layout: l.name, bytes: l.bytes, text: `${bytes_format(l.bytes)} · ${l.percent.toFixed(2)}% of RAM` }));
    section.charts.push({
      id: 'chart-memmap-machine',
      title: `A real machine: ${m.source}`,
      note: `${m.pfns.toLocaleString('en-US')} PFNs (${bytes_format(m.pfns * 4096)} of 4 KiB pages).`,
      spec: stacked_spec(stack, totals, m.layouts.map((l) => l.name)),
    });
  }

  // memmap and control workloads vary only the layout, so their memmap.bytes.* compare layouts directly.
  const k = kind_runs(result, ['memmap', 'control']);
  workloads_of(k.runs).forEach((w, i) => {
    const runs = k.runs.filter((r) => r.workload === w);
    const stack: StackRow[] = [];
    const totals: TotalRow[] = [];
    for (const r of runs) {
      const label = k.labelOf.get(r)!;
      if (r.status !== 'ok') {
        totals.push({ layout: label, bytes: 0, text: `${r.status}: ${r.reason ?? '(no reason given)'}` });
        continue;
      }
      for (const [name, v] of Object.entries(r.metrics)) {
        if (!name.startsWith('memmap.bytes.') || v <= 0) continue;
        const type = name.slice('memmap.bytes.'.length);
        stack.push({ layout: label, type, bytes: v, order: type_rank(type), tooltip: `${label} · ${type}: ${bytes_format(v)}` });
      }
      const total = r.metrics['memmap.bytes'];
      totals.push(total === undefined ? { layout: label, bytes: 0, text: 'no memmap.bytes' } : { layout: label, bytes: total, text: `${bytes_format(total)} · ${((100 * total) / result.memory).toFixed(2)}% of ${bytes_format(result.memory)}` });
    }
    section.charts.push({ id: `chart-memmap-run-${i}`, title: `Workload ${w}`, spec: stacked_spec(stack, totals, k.labels.filter((l) => runs.some((r) => k.labelOf.get(r) === l))) });
  });
  if (!m?.layouts.length && k.runs.length === 0) {
    section.notes.push('Not run: this result has neither a memmap measurement of a machine nor memmap or control runs.');
    return section;
  }
  if (!m?.layouts.length) section.notes.push('No memmap measurement of a real machine in this result (<code>foliolab memmap --live</code> or a snapshot adds one).');
  if (k.runs.length === 0) section.notes.push('No memmap or control workload runs in this result; each run\'s memmap.* figures are in the per-workload tables.');
  for (const r of k.runs.filter((x) => x.status !== 'ok')) section.notes.push(`${html_escape(r.workload)} · ${html_escape(k.labelOf.get(r)!)}: <strong>${r.status}</strong> — ${html_escape(r.reason ?? '(no reason given)')}`);
  return section;
}
