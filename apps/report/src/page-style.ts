/** The page's stylesheet and the Vega-Lite config every chart shares. System fonts only: nothing to download. */

export const FONT_STACK = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Liberation Sans', 'DejaVu Sans', Arial, sans-serif";

export const CHART_CONFIG = {
  font: FONT_STACK,
  background: '#ffffff',
  padding: 6,
  view: { stroke: null },
  axis: { labelColor: '#444', titleColor: '#555', titleFontWeight: 'normal', titleFontSize: 11, labelFontSize: 10.5, gridColor: '#ececec', domainColor: '#aaa', tickColor: '#aaa' },
  legend: { labelFontSize: 11, titleFontSize: 11, titleColor: '#555', labelColor: '#333' },
  header: { labelColor: '#333', titleColor: '#333' },
  text: { font: FONT_STACK },
};

export const PAGE_CSS = `
:root { --fg: #1d2329; --muted: #66707a; --line: #e3e6ea; --bg: #f6f7f9; --card: #fff; --accent: #4c78a8; --bad: #b42318; --good: #1a7f37; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.5 ${FONT_STACK}; color: var(--fg); background: var(--bg); }
header.top { background: #1f2a36; color: #f2f4f7; padding: 22px 32px 18px; }
header.top h1 { margin: 0 0 4px; font-size: 22px; font-weight: 600; letter-spacing: .2px; }
header.top .sub { margin: 0 0 14px; color: #b8c2cc; font-size: 13px; }
dl.meta { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, max-content)); gap: 6px 34px; margin: 0; }
dl.meta div { min-width: 0; }
dl.meta dt { font-size: 11px; text-transform: uppercase; letter-spacing: .6px; color: #94a3b3; }
dl.meta dd { margin: 0; font-size: 14px; font-variant-numeric: tabular-nums; }
header.top details { margin-top: 12px; font-size: 12.5px; color: #cfd6dd; }
header.top details summary { cursor: pointer; color: #b8c2cc; }
header.top details table { margin-top: 6px; border-collapse: collapse; }
header.top details td { padding: 1px 14px 1px 0; }
nav.toc { position: sticky; top: 0; z-index: 5; background: #fff; border-bottom: 1px solid var(--line); padding: 8px 32px; display: flex; gap: 18px; flex-wrap: wrap; font-size: 13px; }
nav.toc a { color: var(--accent); text-decoration: none; }
nav.toc a.off { color: var(--muted); }
main { padding: 8px 32px 40px; max-width: 1500px; }
section.part { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 18px 22px 14px; margin: 18px 0; }
section.part h2 { margin: 0 0 6px; font-size: 18px; font-weight: 600; }
section.part .intro { margin: 0 0 10px; color: #3b444d; max-width: 980px; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 16px; align-items: center; margin: 4px 0 10px; font-size: 12.5px; }
.legend-title { color: var(--muted); }
.legend .key { display: inline-flex; align-items: center; gap: 6px; }
.legend .swatch { width: 12px; height: 12px; border-radius: 2px; display: inline-block; }
.legend em { color: var(--muted); font-style: normal; }
.charts { display: flex; flex-wrap: wrap; gap: 14px 26px; align-items: flex-start; }
figure.chart-box { margin: 0; min-width: 0; }
figure.chart-box figcaption { font-weight: 600; font-size: 13.5px; margin: 4px 0 2px; }
figure.chart-box .chart-note { margin: 2px 0 0; font-size: 12px; color: var(--muted); max-width: 760px; }
.chart { min-height: 40px; }
.chart[data-rendered="error"] { color: var(--bad); font-weight: 600; }
p.note { margin: 8px 0 0; font-size: 13px; color: #4b5560; }
p.note.notrun { color: var(--muted); font-style: italic; font-size: 14px; }
p.note strong { color: var(--bad); }
details.workload, details.group { border-top: 1px solid var(--line); padding: 8px 0; }
details.workload > summary, details.group > summary { cursor: pointer; font-size: 14px; }
details.group > details.workload { margin-left: 18px; }
.pill { display: inline-block; font-size: 11px; padding: 0 7px; border-radius: 9px; background: #e8eef5; color: #33506e; margin-left: 4px; }
.pill.bad { background: #fde8e6; color: var(--bad); }
.muted { color: var(--muted); font-size: 12.5px; }
.table-wrap { overflow-x: auto; margin-top: 6px; }
table { border-collapse: collapse; font-size: 12.5px; font-variant-numeric: tabular-nums; }
th, td { padding: 3px 12px 3px 8px; text-align: right; border-bottom: 1px solid #f0f1f3; vertical-align: top; white-space: nowrap; }
th[scope="row"] { text-align: left; font-weight: 500; font-family: ui-monospace, 'DejaVu Sans Mono', 'Liberation Mono', monospace; font-size: 12px; color: #2f3841; }
thead th { background: #f3f5f8; font-weight: 600; border-bottom: 1px solid var(--line); }
thead th:first-child { text-align: left; }
.status-row td, .status-row th { background: #fafbfc; font-size: 12px; }
td.status { white-space: normal; max-width: 320px; text-align: right; }
td.status.ok { color: var(--good); }
td.status.bad { color: var(--bad); }
td.na { color: #a0a7ae; }
.base-tag { display: block; font-size: 10px; font-weight: 500; color: var(--muted); text-transform: uppercase; letter-spacing: .5px; }
.delta { display: block; font-size: 11px; color: var(--muted); }
.delta.up { color: #9a3412; }
.delta.down { color: #1d4ed8; }
.delta.same { color: #b0b6bc; }
p.caveat { font-size: 12px; color: var(--muted); margin: 4px 0 0; }
code { font-family: ui-monospace, 'DejaVu Sans Mono', 'Liberation Mono', monospace; font-size: .92em; }
footer { color: var(--muted); font-size: 12px; padding: 0 32px 30px; }
#vg-tooltip-element { font-family: ${FONT_STACK}; }
`;
