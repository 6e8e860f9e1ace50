import type { Command } from 'commander';
import { resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { compare, composition_label, render_csv, render_table, type CompareResult, type RunRecord } from '@foliolab/compare';
import { defaultSuite } from '@foliolab/workloads';
import { LAYOUTS, parse_layout_list } from '@foliolab/machine';
import { bundledSnapshotDir, censusFromArrays, readLive, readSnapshot, type Census } from '@foliolab/procfs';
import { add_matrix_options, parse_matrix_options, type MatrixCliOptions } from './options.js';
import { measure_layouts } from './memmap.js';
import { CliError, check_output_path, write_file_atomic } from '../util.js';

type Format = 'table' | 'json' | 'csv' | 'html';

interface CompareCliOptions extends MatrixCliOptions {
  jobs?: string;
  format?: string;
  out?: string;
  snapshot?: string;
  live?: boolean;
  progress?: boolean;
}

/** A progress bar on a terminal; a line per tenth of the runs elsewhere (CI logs stay short). */
function progress_reporter(total: number): { tick: (done: number, last: RunRecord) => void; stop: () => void } {
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: 'foliolab {bar} {value}/{total} runs | {eta_formatted} left | {last}', stream: process.stderr, hideCursor: true, clearOnComplete: true },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { last: '' });
    return { tick: (done, last) => bar.update(done, { last: `${last.workload} ${composition_label(last.composition, last.kind)}`.slice(0, 50) }), stop: () => bar.stop() };
  }
  let next = 0;
  return {
    tick: (done, last) => {
      if (done >= next || done === total) {
        process.stderr.write(`foliolab: ${done}/${total} runs (${last.workload}: ${last.status})\n`);
        next = done + Math.max(1, Math.ceil(total / 10));
      }
    },
    stop: () => undefined,
  };
}

async function memmap_section(o: { snapshot?: string; live?: boolean }, layouts: readonly string[]): Promise<CompareResult['memmap']> {
  let census: Census;
  let source: string;
  if (o.live) {
    census = censusFromArrays(await readLive(), { source: { kind: 'live' } });
    source = 'live /proc of this machine';
  } else {
    const dir = o.snapshot ?? bundledSnapshotDir();
    census = censusFromArrays(await readSnapshot(dir), { source: { kind: 'snapshot', path: dir } });
    source = o.snapshot ? `snapshot ${o.snapshot}` : 'bundled idle snapshot (Linux 6.18, 25 GiB)';
  }
  const entries = parse_layout_list(layouts.join(','));
  return { source, pfns: census.pfns, layouts: measure_layouts(census, entries).map((l) => ({ name: l.name, bytes: l.bytes, percent: l.percent, byType: l.byType })) };
}

export interface CompareRun {
  workloads: string[];
  options: CompareCliOptions;
  /** Write the HTML report here in addition to the chosen format (the default job does). */
  report?: string;
}

export async function run_compare({ workloads, options: o, report }: CompareRun): Promise<void> {
  const format = (o.format ?? 'table') as Format;
  if (!['table', 'json', 'csv', 'html'].includes(format)) throw new CliError(`--format: "${o.format}" is not one of table, json, csv, html`);
  if (format === 'html' && !o.out) throw new CliError('--format html: needs --out FILE.html');
  const jobs = o.jobs === undefined ? 2 : Number(o.jobs);
  if (!/^\d+$/.test(o.jobs ?? '2') || jobs < 1 || jobs > 64) throw new CliError(`--jobs: "${o.jobs}" is not a whole number from 1 to 64`);
  if (o.out) check_output_path(o.out);
  if (report) check_output_path(report, 'report');
  const { choices, run } = parse_matrix_options(o);
  const layouts = choices.layout ?? LAYOUTS.map((l) => l.name);
  const t0 = Date.now();
  let progress: ReturnType<typeof progress_reporter> | undefined;
  const result = await compare({
    workloads,
    choices,
    jobs,
    ...run,
    onProgress: (done, total, last) => {
      progress ??= progress_reporter(total);
      progress.tick(done, last);
    },
  });
  progress?.stop();
  result.memmap = await memmap_section(o, layouts);
  // The report draws no observe records: leave them to the JSON, not the HTML the user opens.
  const html = async () => (await import('@foliolab/report')).renderReport({ ...result, runs: result.runs.map(({ observe: _o, ...run }) => run) });
  const text = format === 'json' ? JSON.stringify(result, null, 2) + '\n' : format === 'csv' ? render_csv(result) : format === 'html' ? await html() : render_table(result);
  if (o.out) write_file_atomic(o.out, text);
  else process.stdout.write(text);
  if (report) {
    write_file_atomic(report, await html(), 'report');
    process.stderr.write(`foliolab: report written to ${resolve(report)} (${result.runs.length} runs in ${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
  }
}

export function register(program: Command): void {
  const cmd = program
    .command('compare')
    .argument('[workloads...]', 'built-in workload names or YAML/JSON files (default: the built-in suite)')
    .description('Run workloads under every composition of the chosen policies and compare them')
    .option('--jobs <n>', 'worker threads (default 2)')
    .option('--format <format>', 'table | json | csv | html (default table)')
    .option('--out <file>', 'write the result to a file (whole or not at all) instead of stdout')
    .option('--snapshot <dir>', 'measure the memmap section on this snapshot (default: the bundled idle snapshot)')
    .option('--live', 'measure the memmap section on this machine\'s /proc (needs root)');
  add_matrix_options(cmd).action(async (refs: string[], o: CompareCliOptions) => {
    await run_compare({ workloads: refs.length ? refs : defaultSuite(), options: o });
  });
}

/** `foliolab` with no arguments: the default suite under every registered policy, a table, and foliolab-report.html. */
export async function run_default(): Promise<void> {
  await run_compare({ workloads: defaultSuite(), options: {}, report: 'foliolab-report.html' });
}
