import { grouped_bars_spec, legend_html, policy_range } from './charts.js';
import type { BarRow, Section } from './charts.js';
import { kind_runs } from './composition.js';
import { count_format, html_escape, bytes_format } from './format.js';
import type { CompareRun, CompareResult } from './types.js';

const MiB = 1024 * 1024;

/** Per MiB of file data moved (fs.bytes): what each backend spends on mapping, I/O and metadata. */
const PANELS: ReadonlyArray<{ id: string; title: string; xTitle: string; bytes: boolean; of: (m: Record<string, number>) => number | undefined }> = [
  { id: 'mapping-calls', title: 'Mapping calls per MiB', xTitle: 'get_block / iomap_begin calls per MiB', bytes: false, of: (m) => m['fs.mapping_calls'] },
  { id: 'data-bios', title: 'Data bios per MiB', xTitle: 'data bios submitted per MiB', bytes: false, of: (m) => m['fs.data_bios'] },
  {
    id: 'metadata-bytes',
    title: 'Metadata memory per MiB',
    xTitle: 'buffer_head + iomap_folio_state bytes per MiB',
    bytes: true,
    of: (m) => (m['fs.buffer_head_bytes'] === undefined && m['fs.iomap_folio_state_bytes'] === undefined ? undefined : (m['fs.buffer_head_bytes'] ?? 0) + (m['fs.iomap_folio_state_bytes'] ?? 0)),
  },
];

export function fs_section(result: CompareResult): Section {
  const k = kind_runs(result, 'fs');
  const section: Section = {
    id: 'fs',
    title: 'Filesystem backends',
    intro: 'buffer_head against iomap on the same file workloads, each figure divided by the MiB of file data the workload moved (fs.bytes), so small and large workloads read on one scale.',
    charts: [],
    notes: [],
  };
  if (k.runs.length === 0) {
    section.notes.push('Not run: this result has no fs runs.');
    return section;
  }
  const colors = policy_range(k.policies);
  section.legend = legend_html('fs backend', k.policies, colors, k.baselinePolicy);
  const noBytes = new Set<string>();
  for (const p of PANELS) {
    const rows: BarRow[] = k.runs.map((r: CompareRun) => {
      const label = k.labelOf.get(r)!;
      const mib = (r.metrics['fs.bytes'] ?? 0) / MiB;
      const raw = r.status === 'ok' ? p.of(r.metrics) : undefined;
      let value: number | null = null;
      let text: string;
      if (r.status !== 'ok') text = r.status;
      else if (raw === undefined) text = 'not measured';
      else if (!(mib > 0)) {
        text = 'no fs.bytes';
        noBytes.add(`${r.workload} · ${label}`);
      } else {
        value = raw / mib;
        text = p.bytes ? bytes_format(value) : count_format(value);
      }
      const detail = r.status !== 'ok' ? `${r.status}: ${r.reason ?? '(no reason given)'}` : raw === undefined ? text : `${text} per MiB (${p.bytes ? bytes_format(raw) : count_format(raw)} over ${bytes_format(mib * MiB)})`;
      return { group: k.groupOf.get(r)!, label: k.policyOf.get(r)!, value, text, missing: value === null, tooltip: `${r.workload} · ${label}: ${detail}` };
    });
    section.charts.push({ id: `chart-fs-${p.id}`, title: p.title, spec: grouped_bars_spec({ rows, groups: k.groups, labels: k.policies, colors, xTitle: p.xTitle, bytes: p.bytes }) });
  }
  if (noBytes.size) section.notes.push(`No per-MiB figure for ${[...noBytes].map(html_escape).join(', ')}: the run reports no fs.bytes (file bytes moved).`);
  for (const r of k.runs.filter((x) => x.status !== 'ok')) section.notes.push(`${html_escape(r.workload)} · ${html_escape(k.labelOf.get(r)!)}: <strong>${r.status}</strong> — ${html_escape(r.reason ?? '(no reason given)')}`);
  return section;
}
