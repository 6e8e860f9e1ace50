import type { Section } from './charts.js';
import { html_escape } from './format.js';
import type { CompareResult, CowMatrixRow, CowResult } from './types.js';

export const COW_OUTCOMES = ['ok', 'leak', 'stale pin', 'leak + stale pin', 'not run'] as const;
export type CowOutcome = (typeof COW_OUTCOMES)[number];
const OUTCOME_COLORS = ['#a8dbb5', '#c0392b', '#f0a30a', '#6d0b0b', '#f2f2f2'];
const OUTCOME_MARK: Record<CowOutcome, string> = { ok: '', leak: 'L', 'stale pin': 'P', 'leak + stale pin': 'LP', 'not run': '–' };

export function cow_outcome(r: CowResult | undefined): CowOutcome {
  if (!r || (r.status !== undefined && r.status !== 'ok')) return 'not run';
  if (r.leak && r.stalePin) return 'leak + stale pin';
  if (r.leak) return 'leak';
  if (r.stalePin) return 'stale pin';
  return 'ok';
}

/**
 * Rows keyed by (case, backing), merged. A row whose case is a cell's workload name (cow.<case>.<backing>,
 * @foliolab/workloads' naming) with no backing, as @foliolab/compare writes for runs that produced no
 * verdict (refused), is folded into its cell's row.
 */
export function cow_rows_normalize(rows: readonly CowMatrixRow[]): CowMatrixRow[] {
  const out = new Map<string, CowMatrixRow>();
  for (const r of rows) {
    const m = r.backing === '' ? /^cow\.([^.]+)\.(.+)$/.exec(r.case) : null;
    const c = m ? m[1]! : r.case;
    const b = m ? m[2]! : r.backing;
    const key = JSON.stringify([c, b]);
    const row = out.get(key) ?? { case: c, backing: b, results: {} };
    out.set(key, row);
    for (const [p, res] of Object.entries(r.results)) if (!row.results[p] || cow_outcome(row.results[p]) === 'not run') row.results[p] = res;
  }
  return [...out.values()];
}

/** "per-folio@memdesc" -> policy per-folio on layout memdesc; a bare name runs on the default layout. */
function policy_split(key: string, defaultLayout: string): { policy: string; layout: string } {
  const at = key.lastIndexOf('@');
  return at > 0 ? { policy: key.slice(0, at).trim(), layout: key.slice(at + 1).trim() } : { policy: key, layout: defaultLayout };
}

/** The cow.c matrix: a case × backing grid per mapcount policy (and layout), one color per cell outcome. */
export function cow_section(result: CompareResult): Section {
  const section: Section = {
    id: 'cow',
    title: 'The cow.c matrix',
    intro:
      'Each anonymous case of <code>tools/testing/selftests/mm/cow.c</code> on each backing it runs on, per mapcount policy: <strong>leak</strong> — a write became visible to the other process or to the pipe holding a pin; <strong>stale pin</strong> — a longterm pin no longer sees the writer\'s page; <strong>not run</strong> — the policy has no result for that cell.',
    charts: [],
    notes: [],
  };
  const rows = cow_rows_normalize(result.cowMatrix ?? []);
  if (rows.length === 0) {
    section.notes.push('Not run: this result has no cow.c matrix.');
    return section;
  }
  const cases = [...new Set(rows.map((r) => r.case))];
  const backings = [...new Set(rows.map((r) => r.backing))];
  const policies = [...new Set(rows.flatMap((r) => Object.keys(r.results)))];
  const split = new Map(policies.map((p) => [p, policy_split(p, result.baseline.layout)] as const));
  const order = (xs: string[], first: string): string[] => (xs.includes(first) ? [first, ...xs.filter((x) => x !== first)] : xs);
  const mapcounts = order([...new Set([...split.values()].map((x) => x.policy))], result.baseline.mapcount);
  const layouts = order([...new Set([...split.values()].map((x) => x.layout))], result.baseline.layout);
  policies.sort((a, b) => mapcounts.indexOf(split.get(a)!.policy) - mapcounts.indexOf(split.get(b)!.policy) || layouts.indexOf(split.get(a)!.layout) - layouts.indexOf(split.get(b)!.layout));
  const cells: Array<{ case: string; backing: string; policy: string; mapcount: string; layout: string; outcome: CowOutcome; mark: string; tooltip: string }> = [];
  const counts = new Map<string, Map<CowOutcome, number>>(policies.map((p) => [p, new Map()]));
  for (const r of rows)
    for (const p of policies) {
      const res = r.results[p];
      const outcome = cow_outcome(res);
      counts.get(p)!.set(outcome, (counts.get(p)!.get(outcome) ?? 0) + 1);
      cells.push({ case: r.case, backing: r.backing, policy: p, mapcount: split.get(p)!.policy, layout: split.get(p)!.layout, outcome, mark: OUTCOME_MARK[outcome], tooltip: `${p} · ${r.case} · ${r.backing}: ${outcome}${res?.status && res.status !== 'ok' ? ` (${res.status})` : ''}${res?.reason ? ` — ${res.reason}` : ''}` });
    }
  const y = { field: 'case', type: 'nominal', sort: cases, title: null, axis: { labelLimit: 460, labelFontSize: 11, domain: false, ticks: false } };
  const x = { field: 'backing', type: 'nominal', sort: backings, title: null, axis: { orient: 'top', labelAngle: -35, labelFontSize: 10.5, domain: false, ticks: false } };
  section.charts.push({
    id: 'chart-cow-matrix',
    title: `${cases.length} cases × ${backings.length} backings × ${mapcounts.length} mapcount policies${layouts.length > 1 ? ` × ${layouts.length} layouts` : ''}`,
    note: cow_summary(policies, counts),
    spec: {
      data: { values: cells },
      facet: {
        column: { field: 'mapcount', type: 'nominal', sort: mapcounts, title: null, header: { labelFontSize: 13, labelFontWeight: 'bold', labelOrient: 'top', labelPadding: 8, labelLimit: 160 } },
        // A row of grids per layout, only when the cells ran on more than one.
        ...(layouts.length > 1 ? { row: { field: 'layout', type: 'nominal', sort: layouts, title: null, header: { labelFontSize: 12.5, labelFontWeight: 'bold', labelAngle: -90, labelOrient: 'left', labelPadding: 6 } } } : {}),
      },
      spacing: 18,
      spec: {
        width: { step: 24 },
        height: { step: 22 },
        encoding: { x, y, tooltip: { field: 'tooltip', type: 'nominal' } },
        layer: [
          {
            mark: { type: 'rect', stroke: '#fff', strokeWidth: 2, cornerRadius: 2 },
            encoding: { color: { field: 'outcome', type: 'nominal', scale: { domain: [...COW_OUTCOMES], range: OUTCOME_COLORS }, title: 'outcome', legend: { orient: 'bottom', direction: 'horizontal', symbolType: 'square', symbolStrokeColor: '#bbb', symbolStrokeWidth: 0.5 } } },
          },
          {
            transform: [{ filter: "datum.mark !== ''" }],
            mark: { type: 'text', fontSize: 9, fontWeight: 'bold' },
            encoding: {
              text: { field: 'mark', type: 'nominal' },
              color: { condition: { test: "datum.outcome === 'not run' || datum.outcome === 'stale pin'", value: '#333' }, value: '#fff' },
            },
          },
        ],
      },
    },
  });
  const bad = rows.flatMap((r) => policies.filter((p) => !['ok', 'not run'].includes(cow_outcome(r.results[p]))).map((p) => ({ r, p })));
  if (bad.length) {
    const items = bad.map(({ r, p }) => `<li><strong>${html_escape(p)}</strong> · ${html_escape(r.case)} · ${html_escape(r.backing)}: ${cow_outcome(r.results[p])}${r.results[p]!.reason ? ` — ${html_escape(r.results[p]!.reason!)}` : ''}</li>`);
    section.notes.push(`<details><summary>${bad.length} failing cells</summary><ul>${items.join('')}</ul></details>`);
  }
  return section;
}

/** Per policy, what went wrong; the policies with nothing but ok cells in one line. */
function cow_summary(policies: readonly string[], counts: Map<string, Map<CowOutcome, number>>): string {
  const clean: string[] = [];
  const parts: string[] = [];
  for (const p of policies) {
    const c = counts.get(p)!;
    const wrong = COW_OUTCOMES.filter((o) => o !== 'ok' && c.get(o));
    if (wrong.length === 0) clean.push(p);
    else parts.push(`${p}: ${wrong.map((o) => `${c.get(o)} ${o}`).join(', ')}`);
  }
  if (clean.length) parts.push(`ok in every cell: ${clean.join(', ')}`);
  return parts.join('  ·  ');
}
