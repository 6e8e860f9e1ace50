import { vendor_scripts } from './assets.js';
import type { Chart, Section } from './charts.js';
import { bytes_format, html_escape, json_for_script } from './format.js';
import { CHART_CONFIG, PAGE_CSS } from './page-style.js';
import { cow_section } from './section-cow.js';
import { fs_section } from './section-fs.js';
import { mapcount_section } from './section-mapcount.js';
import { memmap_section } from './section-memmap.js';
import { pagewait_section } from './section-pagewait.js';
import { summary_html } from './section-summary.js';
import type { CompareResult } from './types.js';
import { validateCompareResult } from './validate.js';

/**
 * The page may run inline scripts (and Vega's expression compiler, which uses Function) and inline styles;
 * it may load nothing: no script, style, font, image or connection from anywhere.
 */
const CSP = "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

/** Runs in the page: draws every chart with vega-embed (SVG, so marks are DOM nodes) and records the outcome. */
const BOOT = `(function () {
  var charts = JSON.parse(document.getElementById('foliolab-charts').textContent);
  var state = { total: charts.length, rendered: 0, failed: 0, errors: [] };
  window.foliolabReport = state;
  charts.forEach(function (c) {
    var el = document.getElementById(c.id);
    vegaEmbed(el, c.spec, { renderer: 'svg', actions: false, mode: 'vega-lite' }).then(function () {
      el.setAttribute('data-rendered', 'ok');
      state.rendered++;
    }).catch(function (e) {
      el.setAttribute('data-rendered', 'error');
      el.textContent = 'This chart could not be drawn: ' + (e && e.message);
      state.failed++;
      state.errors.push(c.id + ': ' + (e && e.message));
      console.error('foliolab report: chart ' + c.id + ': ' + (e && e.message));
    });
  });
})();`;

function chart_html(c: Chart): string {
  return (
    `<figure class="chart-box"><figcaption>${html_escape(c.title)}</figcaption>` +
    `<div class="chart" id="${c.id}" data-chart="${c.id}"></div>` +
    (c.note ? `<p class="chart-note">${html_escape(c.note)}</p>` : '') +
    `</figure>`
  );
}

function section_html(s: Section): string {
  const notRun = s.charts.length === 0;
  const notes = s.notes.map((n) => `<p class="note${notRun && n.startsWith('Not run') ? ' notrun' : ''}">${n}</p>`).join('');
  return (
    `<section class="part" id="${s.id}" data-section="${s.id}" data-charts="${s.charts.length}"><h2>${html_escape(s.title)}</h2>` +
    `<p class="intro">${s.intro}</p>${notRun ? '' : (s.legend ?? '')}` +
    (notRun ? '' : `<div class="charts">${s.charts.map(chart_html).join('')}</div>`) +
    notes +
    `</section>`
  );
}

function header_html(r: CompareResult): string {
  const counts = new Map<string, number>();
  for (const run of r.runs) counts.set(run.status, (counts.get(run.status) ?? 0) + 1);
  const runs = [...counts].map(([s, n]) => `${n} ${s}`).join(', ') || 'none';
  const item = (dt: string, dd: string): string => `<div><dt>${dt}</dt><dd>${dd}</dd></div>`;
  const b = r.baseline;
  const versions = Object.entries(r.versions)
    .sort(([a], [c]) => (a < c ? -1 : 1))
    .map(([n, v]) => `<tr><td><code>${html_escape(n)}</code></td><td>${html_escape(v)}</td></tr>`)
    .join('');
  const vendor = vendor_scripts()
    .map((v) => `${v.name} ${v.version}`)
    .join(', ');
  return (
    `<header class="top"><h1>foliolab — memory-descriptor designs compared</h1>` +
    `<p class="sub">Generated ${html_escape(r.generatedAt)} · schema ${html_escape(r.schema)} · charts by ${html_escape(vendor)} (inlined)</p>` +
    `<dl class="meta">` +
    item('seed', String(r.seed)) +
    item('simulated memory', r.memory > 0 ? html_escape(bytes_format(r.memory)) : 'each workload\'s own (machine.memory)') +
    item('host', `${html_escape(r.host.kernel)} · node ${html_escape(r.host.node)}`) +
    item('baseline', `${html_escape(b.layout)} · ${html_escape(b.mapcount)} · ${html_escape(b.pagewait)} · ${html_escape(b.fs)}`) +
    item('runs', `${r.runs.length} (${html_escape(runs)})`) +
    item('packages', `${Object.keys(r.versions).length} versions`) +
    `</dl>` +
    `<details><summary>Package versions</summary><table>${versions || '<tr><td>none recorded</td></tr>'}</table></details>` +
    `</header>`
  );
}

/**
 * One self-contained HTML page for a foliolab/compare@1 result: the chart library and the data are inline,
 * and a Content-Security-Policy forbids every network fetch. Throws ReportError on input that is not a
 * compare@1 result.
 */
export function renderReport(result: CompareResult): string {
  const r = validateCompareResult(result);
  const sections = [memmap_section(r), mapcount_section(r), pagewait_section(r), fs_section(r), cow_section(r)];
  const charts = sections.flatMap((s) => s.charts.map((c) => ({ id: c.id, spec: { ...c.spec, config: CHART_CONFIG } })));
  const ids = new Set(charts.map((c) => c.id));
  if (ids.size !== charts.length) throw new Error('renderReport: two charts share an id (a bug in the report)');
  const nav = [...sections.map((s) => `<a href="#${s.id}"${s.charts.length ? '' : ' class="off" title="not run"'}>${html_escape(s.title)}</a>`), '<a href="#summary">Per-workload tables</a>'].join('');
  // The result without observe records (they can be large and no chart reads them), for anyone extracting numbers.
  const embedded = { ...r, runs: r.runs.map(({ observe: _observe, ...run }) => run) };
  const scripts = vendor_scripts()
    .map((v) => `<script data-vendor="${v.name}@${v.version}">\n${v.code}\n</script>`)
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="@foliolab/report">
<title>foliolab report — seed ${r.seed}, ${html_escape(r.generatedAt)}</title>
<style>${PAGE_CSS}</style>
</head>
<body>
${header_html(r)}
<nav class="toc">${nav}</nav>
<main>
${sections.map(section_html).join('\n')}
<section class="part" id="summary" data-section="summary"><h2>Per-workload tables</h2><p class="intro">Every metric of every run. Columns are compositions, the baseline first; under each value, its difference from the baseline's.</p>
${summary_html(r)}
</section>
</main>
<footer>Rendered by @foliolab/report. This file is self-contained: it loads nothing from the network.</footer>
<script type="application/json" id="foliolab-result">${json_for_script(embedded)}</script>
<script type="application/json" id="foliolab-charts">${json_for_script(charts)}</script>
${scripts}
<script>${BOOT}</script>
</body>
</html>
`;
}
