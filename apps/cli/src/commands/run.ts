import type { Command } from 'commander';
import { choices_resolve, compositions_for, composition_label, run_one, text_table, workload_kind_of, workload_load, type RunRecord } from '@foliolab/compare';
import { register_external, is_external_spec } from '@foliolab/machine';
import { add_matrix_options, parse_matrix_options, type MatrixCliOptions } from './options.js';
import { CliError, write_file_atomic, check_output_path } from '../util.js';

interface RunCliOptions extends MatrixCliOptions {
  json?: boolean;
  out?: string;
}

/** `foliolab run`'s defaults: the three designs each issue compares, on today's struct page. */
const RUN_DEFAULTS = { layout: ['struct-page'], mapcount: ['per-page', 'per-folio', 'upstream'], fs: ['buffer-head', 'iomap'], pagewait: ['hashed', 'attached'] };

/** The observe records of one run as compact text: per page, per process, pfn and policy vs oracle counts. */
function render_observe(r: RunRecord): string {
  const out: string[] = [];
  for (const o of r.observe ?? []) {
    const procs = [...new Set(o.pages.flatMap((p) => Object.keys(p.procs)))];
    const rows = o.pages.map((p) => [
      String(p.index),
      ...procs.map((name) => {
        const x = p.procs[name];
        if (!x) return '-';
        const mark = x.page !== null && x.page !== x.oracle.page ? '!' : x.folio !== null && x.folio !== x.oracle.folio ? '!' : '';
        return `${x.pfn} ${x.page ?? '·'}/${x.folio ?? '·'} (${x.oracle.page}/${x.oracle.folio})${mark}`;
      }),
    ]);
    // Long ranges: keep the pages where something differs between neighbours.
    const keep = rows.filter((row, i) => i === 0 || i === rows.length - 1 || row.slice(1).join() !== rows[i - 1]!.slice(1).join());
    out.push(`observe "${o.label}" (pfn page/folio mapcount (oracle); ! = policy differs; repeated rows folded)`, text_table(['page', ...procs], keep));
  }
  return out.join('\n');
}

export function register(program: Command): void {
  const cmd = program
    .command('run')
    .argument('<workload>', 'a built-in workload name (see foliolab workloads) or a YAML/JSON file')
    .description('Run one workload under several policies and print their metrics side by side, and the observe records')
    .option('--json', 'print foliolab/run@1 JSON')
    .option('--out <file>', 'write the output to a file instead of stdout');
  add_matrix_options(cmd).action(async (ref: string, o: RunCliOptions) => {
    const { choices, run } = parse_matrix_options(o, RUN_DEFAULTS);
    const resolved = choices_resolve(choices);
    if (o.out) check_output_path(o.out);
    for (const kind of ['mapcount', 'pagewait', 'fs'] as const) for (const s of resolved[kind]) if (is_external_spec(s)) await register_external(kind, s);
    const w = await workload_load(ref);
    const kind = workload_kind_of(w);
    const runs: RunRecord[] = [];
    for (const c of compositions_for(kind, resolved)) runs.push(await run_one(w, c, run));
    // Every composition failed the same way: the workload does not fit a machine at all (an offset past
    // the largest file, a range no machine can map). That is bad input, not a result.
    if (runs.length > 0 && runs.every((r) => r.status === 'failed')) throw new CliError(runs[0]!.reason ?? 'every run failed');
    let text: string;
    if (o.json) {
      text =
        JSON.stringify(
          {
            schema: 'foliolab/run@1',
            workload: w.name,
            seed: runs[0]?.seed ?? w.machine.seed,
            runs: runs.map((r) => ({ ...r.composition, status: r.status, ...(r.reason ? { reason: r.reason } : {}), metrics: r.metrics, observe: r.observe ?? [] })),
          },
          null,
          2,
        ) + '\n';
    } else {
      const keys = [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))].filter((k) => runs.some((r) => r.metrics[k] !== runs[0]!.metrics[k]) || /wrong|unsafe|mapping_calls|data_bios|walk_max|longest/.test(k)).sort();
      const head = ['metric', ...runs.map((r) => composition_label(r.composition, kind))];
      const rows = [['status', ...runs.map((r) => r.status)], ...keys.map((k) => [k, ...runs.map((r) => (r.metrics[k] === undefined ? '-' : r.metrics[k]!.toLocaleString('en-US')))])];
      const parts = [`foliolab run ${w.name} (seed ${runs[0]?.seed})`, text_table(head, rows)];
      for (const r of runs) if (r.reason) parts.push(`${composition_label(r.composition, kind)}: ${r.status}: ${r.reason}`);
      for (const r of runs) if (r.observe?.length) parts.push('', `## ${composition_label(r.composition, kind)}`, render_observe(r));
      text = parts.join('\n') + '\n';
    }
    if (o.out) write_file_atomic(o.out, text);
    else process.stdout.write(text);
  });
}
