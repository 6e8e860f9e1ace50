import type { CompareResult, Composition, RunKind, RunRecord } from './schema.js';

/** The figures a reader looks at first, per kind of workload. */
export const KEY_METRICS: Record<string, readonly string[]> = {
  mapcount: ['mapcount.wrong', 'mapcount.unsafe_reuses', 'mapcount.unnecessary_copies', 'mapcount.metadata_bytes', 'mapcount.cache_lines', 'memmap.bytes'],
  fs: ['fs.mapping_calls', 'fs.data_bios', 'fs.bvecs', 'fs.buffer_head_bytes', 'fs.iomap_folio_state_bytes'],
  pagewait: ['pagewait.longest_bucket', 'pagewait.walk_max', 'pagewait.walk_pass_max', 'pagewait.foreign_walked', 'pagewait.latency_p99_ns', 'pagewait.attached_peak_bytes'],
  mixed: ['mapcount.wrong', 'fs.mapping_calls', 'memmap.bytes'],
  control: ['memmap.bytes'],
  memmap: ['memmap.bytes'],
};

export function composition_label(c: Composition, kind?: RunKind): string {
  switch (kind) {
    case 'mapcount': return `${c.mapcount} @ ${c.layout}`;
    case 'mixed': return `${c.mapcount} @ ${c.layout} (${c.fs})`;
    case 'fs': return `${c.fs}`;
    case 'pagewait': return `${c.pagewait} @ ${c.layout}`;
    default: return [c.layout, c.mapcount, c.pagewait, c.fs].filter(Boolean).join(' / ');
  }
}

function fmt(n: number | undefined): string {
  if (n === undefined) return '-';
  if (Number.isInteger(n)) return n.toLocaleString('en-US');
  return n >= 100 ? n.toFixed(0) : n.toFixed(2);
}

function delta(v: number | undefined, base: number | undefined): string {
  if (v === undefined || base === undefined || v === base) return '';
  if (base === 0) return ` (+${fmt(v)})`;
  const pct = ((v - base) / Math.abs(base)) * 100;
  return ` (${pct > 0 ? '+' : ''}${pct.toFixed(pct > -10 && pct < 10 ? 1 : 0)} %)`;
}

/** A plain-text table of rows (no external dependency so that every renderer works in a worker too). */
export function text_table(head: readonly string[], rows: readonly string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ').trimEnd();
  return [line(head), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n');
}

/**
 * The terminal report: per workload, each composition's key figures with the delta against the
 * workload's first (baseline) composition; the cow.c matrix folded into one line per policy.
 */
export function render_table(r: CompareResult): string {
  const out: string[] = [];
  out.push(`foliolab compare: ${r.runs.length} runs, seed ${r.seed}, ${r.host.kernel}, node ${r.host.node}`);
  const byWorkload = new Map<string, RunRecord[]>();
  for (const run of r.runs) if (!run.workload.startsWith('cow.')) (byWorkload.get(run.workload) ?? byWorkload.set(run.workload, []).get(run.workload)!).push(run);
  for (const kind of ['mapcount', 'fs', 'pagewait', 'mixed', 'control'] as RunKind[]) {
    const groups = [...byWorkload.values()].filter((g) => g[0]!.kind === kind);
    if (!groups.length) continue;
    const keys = KEY_METRICS[kind]!;
    const rows: string[][] = [];
    for (const g of groups) {
      const base = g.find((x) => x.status === 'ok');
      for (const run of g) {
        const label = `${run.workload}  ${composition_label(run.composition, kind)}`;
        if (run.status !== 'ok') {
          rows.push([label, run.status, ...keys.map((_, i) => (i === 0 ? (run.reason ?? '').slice(0, 60) : ''))]);
          continue;
        }
        rows.push([label, 'ok', ...keys.map((k) => fmt(run.metrics[k]) + (run === base ? '' : delta(run.metrics[k], base?.metrics[k])))]);
      }
    }
    out.push('', `## ${kind} (delta against each workload's first composition)`, text_table(['workload  composition', 'status', ...keys.map((k) => k.replace(/^[a-z]+\./, ''))], rows));
  }
  if (r.cowMatrix?.length) {
    const per = new Map<string, { cells: number; leaks: number; stale: number; notRun: number }>();
    for (const row of r.cowMatrix) {
      for (const [who, v] of Object.entries(row.results)) {
        const s = per.get(who) ?? { cells: 0, leaks: 0, stale: 0, notRun: 0 };
        s.cells++;
        if (v.status && v.status !== 'ok') s.notRun++;
        else {
          if (v.leak) s.leaks++;
          if (v.stalePin) s.stale++;
        }
        per.set(who, s);
      }
    }
    out.push('', `## cow.c matrix (${r.cowMatrix.length} cells)`, text_table(['policy', 'cells', 'write leaked', 'stale pin', 'not run'], [...per.entries()].map(([who, s]) => [who, String(s.cells), String(s.leaks), String(s.stale), String(s.notRun)])));
  }
  if (r.memmap) {
    out.push('', `## memmap of ${r.memmap.source} (${fmt(r.memmap.pfns)} PFNs)`, text_table(['layout', 'bytes', 'of memory'], r.memmap.layouts.map((l) => [l.name, fmt(l.bytes), `${l.percent.toFixed(4)} %`])));
  }
  return out.join('\n') + '\n';
}

function csv_cell(v: string): string {
  return /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** One row per run: workload, composition, status, reason, then every metric any run reported. */
export function render_csv(r: CompareResult): string {
  const keys = [...new Set(r.runs.flatMap((x) => Object.keys(x.metrics)))].sort();
  const head = ['workload', 'kind', 'layout', 'mapcount', 'pagewait', 'fs', 'status', 'reason', 'seed', 'duration_ms', ...keys];
  const lines = [head.join(',')];
  for (const x of r.runs) {
    const c = x.composition;
    lines.push([x.workload, x.kind, c.layout, c.mapcount ?? '', c.pagewait ?? '', c.fs ?? '', x.status, x.reason ?? '', String(x.seed), x.durationMs.toFixed(1), ...keys.map((k) => (x.metrics[k] === undefined ? '' : String(x.metrics[k])))].map(csv_cell).join(','));
  }
  return lines.join('\n') + '\n';
}
