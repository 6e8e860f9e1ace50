/**
 * Vega-Lite building blocks. Every chart carries its data inline (`data.values`), never a URL, and no
 * $schema (vega-embed is told the mode), so the page has nothing to fetch.
 */
import { bytes_unit, html_escape } from './format.js';

export type VlSpec = Record<string, unknown>;

export interface Chart {
  /** DOM id of the chart's container; unique in the page. */
  id: string;
  title: string;
  /** Plain text under the chart. */
  note?: string;
  spec: VlSpec;
}

export interface Section {
  id: string;
  title: string;
  /** HTML: what the charts show. */
  intro: string;
  /** HTML: a color key shared by the section's charts. */
  legend?: string;
  charts: Chart[];
  /** HTML paragraphs: what was not run, or could not be drawn, and why. */
  notes: string[];
}

/** Composition colors: the baseline (first label) always gets the first. No red: red means "wrong" here. */
export const POLICY_COLORS = ['#4c78a8', '#f58518', '#54a24b', '#b279a2', '#72b7b2', '#9d755d', '#eeca3b', '#ff9da6', '#bab0ac', '#79706e'];

export function policy_range(labels: readonly string[]): string[] {
  return labels.map((_, i) => POLICY_COLORS[i % POLICY_COLORS.length]!);
}

export function legend_html(title: string, labels: readonly string[], colors: readonly string[], baselineLabel?: string): string {
  const items = labels
    .map((l, i) => `<span class="key"><span class="swatch" style="background:${colors[i]}"></span>${html_escape(l)}${l === baselineLabel ? ' <em>(baseline)</em>' : ''}</span>`)
    .join('');
  return `<div class="legend"><span class="legend-title">${html_escape(title)}</span>${items}</div>`;
}

/** Counts on an axis: "1.2k" style above 10,000, plain below (keeps "0.5" from becoming "500m"). */
export const COUNT_LABEL_EXPR = "abs(datum.value) >= 10000 ? format(datum.value, '.3~s') : format(datum.value, ',.4~r')";

export interface BarRow {
  /** The band: a workload, plus the other varying choices. */
  group: string;
  /** The bar inside the band: the kind's own choice (its color). */
  label: string;
  /** null: nothing to draw (the run was refused, failed, or lacks the input); `text` says why. */
  value: number | null;
  /** Shown at the end of the bar (the formatted value) or at 0 (the reason there is no bar). */
  text: string;
  missing: boolean;
  tooltip: string;
}

/**
 * Horizontal grouped bars: one band per workload (and other varying choice), one bar per policy inside it, the value printed at
 * the bar's end so a zero is visibly a measured zero and a refused run is visibly refused.
 */
export function grouped_bars_spec(o: {
  rows: BarRow[];
  groups: string[];
  labels: string[];
  colors: string[];
  xTitle: string;
  bytes?: boolean;
  width?: number;
}): VlSpec {
  const raw = Math.max(0, ...o.rows.map((r) => r.value ?? 0));
  // Bytes are drawn in one binary unit chosen for the largest value, so the axis gets round ticks.
  const unit = o.bytes ? bytes_unit(raw) : { div: 1, unit: '' };
  const max = raw / unit.div;
  const integers = !o.bytes && o.rows.every((r) => r.value === null || Number.isInteger(r.value));
  const x = {
    type: 'quantitative',
    title: o.bytes ? `${o.xTitle} (${unit.unit})` : o.xTitle,
    axis: { labelExpr: COUNT_LABEL_EXPR, tickCount: 4, grid: true, ...(integers ? { tickMinStep: 1 } : {}) },
    // Headroom for the value printed past the longest bar; all-zero data gets a unit domain.
    scale: max > 0 ? { domainMin: 0, domainMax: max * 1.3, nice: true } : { domain: [0, 1] },
  };
  return {
    width: o.width ?? 230,
    height: { step: 13, for: 'offset' },
    data: { values: o.rows.map((r) => ({ ...r, value: r.value === null ? null : r.value / unit.div, xText: (r.value ?? 0) / unit.div })) },
    encoding: {
      y: { field: 'group', type: 'nominal', sort: o.groups, title: null, axis: { labelLimit: 260, labelFontSize: 11, domain: false, ticks: false, labelPadding: 6 } },
      yOffset: { field: 'label', type: 'nominal', sort: o.labels, scale: { domain: o.labels, paddingInner: 0.08 } },
      tooltip: { field: 'tooltip', type: 'nominal' },
    },
    layer: [
      {
        transform: [{ filter: 'datum.value !== null' }],
        mark: { type: 'bar', cornerRadiusEnd: 2 },
        encoding: {
          x: { field: 'value', ...x },
          color: { field: 'label', type: 'nominal', scale: { domain: o.labels, range: o.colors }, legend: null },
        },
      },
      {
        mark: { type: 'text', align: 'left', baseline: 'middle', dx: 3, fontSize: 9.5 },
        encoding: {
          x: { field: 'xText', type: 'quantitative' },
          text: { field: 'text', type: 'nominal' },
          color: { condition: { test: 'datum.missing', value: '#9a3412' }, value: '#333' },
        },
      },
    ],
    resolve: { scale: { x: 'shared' } },
  };
}
