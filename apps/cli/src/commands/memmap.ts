import { access, constants } from 'node:fs/promises';
import type { Command } from 'commander';
import Table from 'cli-table3';
import { PAGE_TYPE_NAMES, PAGE_SIZE, layout_measure, page_type_by_name, type LayoutBytes } from '@foliolab/memmap';
import { parse_layout_list, type LayoutEntry } from '@foliolab/machine';
import {
  PAGE_CLASSES,
  ProcfsError,
  bundledSnapshotDir,
  censusFromArrays,
  flagsCensus,
  formatFlagsCensus,
  processFolioCensus,
  readLive,
  readProcessMap,
  readSnapshot,
  type Census,
  type KpageArrays,
  type ProcessFolioCensus,
  type ProcessMap,
} from '@foliolab/procfs';
import { CliError, check_output_path, format_bytes, format_int, format_percent, write_file_atomic } from '../util.js';
import { parse_pids } from './options.js';

export interface MemmapOptions {
  live?: boolean;
  snapshot?: string;
  layout?: string;
  json?: boolean;
  flags?: boolean;
  out?: string;
  /** Processes to read folio by folio: live ones with --live, captured ones with --snapshot. */
  pid?: string[];
}

export interface MemmapLayoutResult {
  name: string;
  bytes: number;
  percent: number;
  byType: Record<string, number>;
  memmap: number;
  descriptors: Record<string, number>;
  hvoFreed: number;
  hostBytesPerPage: number;
}

export interface MemmapReport {
  schema: 'foliolab/memmap@1';
  source: { kind: string; path?: string; fallback?: string };
  pfns: number;
  census: Record<string, number>;
  folios: Record<string, Record<string, number>>;
  layouts: MemmapLayoutResult[];
  verdict: string;
  /** Per process (`--pid`, or every process a snapshot captured): its pages, folio by folio. */
  processes?: ProcessFolioCensus[];
}

/** The idle snapshot shipped with @foliolab/procfs, used when the live /proc cannot be read. */
export const bundled_snapshot_dir = bundledSnapshotDir;

/** The census's page classes and the memmap's page types are the same vocabulary; map by name. */
function census_objects(census: Census) {
  const typeOfClass = PAGE_CLASSES.map((c) => {
    const t = page_type_by_name(c);
    if (t === undefined) throw new Error(`procfs class ${c} has no memmap page type`);
    return t;
  });
  const o = census.objects;
  const type = new Uint8Array(o.count);
  for (let i = 0; i < o.count; i++) type[i] = typeOfClass[o.cls[i]!]!;
  return { count: o.count, start: o.start, nrPages: o.nrPages, type };
}

export function measure_layouts(census: Census, layouts: readonly LayoutEntry[]): MemmapLayoutResult[] {
  const objects = census_objects(census);
  const memory = census.pfns * PAGE_SIZE;
  return layouts.map((entry) => {
    const m = layout_measure(entry.create(), census.pfns, objects);
    const b: LayoutBytes = m.bytes;
    return {
      name: entry.name,
      bytes: b.total,
      percent: (b.total / memory) * 100,
      byType: b.byType,
      memmap: b.memmap,
      descriptors: b.descriptors,
      hvoFreed: b.hvoFreed,
      hostBytesPerPage: m.hostBytes / census.pfns,
    };
  });
}

/** One honest line: what the memdesc move saves or costs here, and why. */
export function memdesc_verdict(census: Census, layouts: readonly MemmapLayoutResult[]): string {
  const sp = layouts.find((l) => l.name === 'struct-page');
  const md = layouts.find((l) => l.name === 'memdesc');
  if (!sp || !md) return 'compare struct-page with memdesc (--layout struct-page,memdesc) for the verdict';
  const delta = sp.bytes - md.bytes;
  const small = (census.folios.anon?.['0'] ?? 0) + (census.folios.file?.['0'] ?? 0);
  const word = delta >= 0 ? 'saves' : 'costs';
  return (
    `memdesc ${word} ${format_bytes(Math.abs(delta))} on this machine (${format_percent(Math.abs(delta) / (census.pfns * PAGE_SIZE), 3)} of memory): ` +
    `${format_bytes(sp.bytes)} of struct pages become ${format_bytes(md.memmap)} of words + ${format_bytes(md.bytes - md.memmap)} of descriptors; ` +
    `each of the ${format_int(small)} order-0 anon/file folios needs its own 80-byte descriptor, so those pages cost 88 B instead of 64 B`
  );
}

export function build_report(census: Census, layouts: readonly LayoutEntry[], fallback?: string, processes: readonly ProcessFolioCensus[] = []): MemmapReport {
  const results = measure_layouts(census, layouts);
  return {
    schema: 'foliolab/memmap@1',
    source: { kind: census.source.kind, ...(census.source.path ? { path: census.source.path } : {}), ...(fallback ? { fallback } : {}) },
    pfns: census.pfns,
    census: { ...census.pages },
    folios: census.folios,
    layouts: results,
    verdict: memdesc_verdict(census, results),
    ...(processes.length > 0 ? { processes: [...processes] } : {}),
  };
}

const COMPACT = { chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' }, style: { head: [], border: [] } };
/** Types that are not folios: a count of their "order-0 objects" says nothing. */
const NOT_FOLIOS = new Set(['none', 'buddy', 'reserved', 'hwpoison', 'offline', 'zero_page']);

export function render_report(r: MemmapReport): string {
  const lines: string[] = [];
  const where = r.source.kind === 'live' ? 'live /proc' : `snapshot ${r.source.path}`;
  lines.push(`foliolab memmap: ${where}, ${format_int(r.pfns)} PFNs (${format_bytes(r.pfns * PAGE_SIZE)})`);
  if (r.source.fallback) lines.push(`note: ${r.source.fallback}`);
  const types = new Table({ head: ['type', 'pages', 'memory', 'folios by order (order:count)'], ...COMPACT });
  for (const t of PAGE_TYPE_NAMES) {
    const pages = r.census[t] ?? 0;
    if (!pages) continue;
    const orders = NOT_FOLIOS.has(t) ? '' : Object.entries(r.folios[t] ?? {})
      .filter(([, n]) => n > 0)
      .map(([o, n]) => `${o}:${format_int(n)}`)
      .join(' ');
    types.push([t, format_int(pages), format_bytes(pages * PAGE_SIZE), orders]);
  }
  lines.push(types.toString());
  const lt = new Table({ head: ['layout', 'bytes', 'of memory', 'per-PFN array', 'descriptors', 'largest types'], ...COMPACT });
  for (const l of r.layouts) {
    const desc = Object.entries(l.descriptors).filter(([, b]) => b > 0).map(([k, b]) => `${k} ${format_bytes(b)}`).join(', ') || '-';
    const top = Object.entries(l.byType).sort((a, b) => b[1] - a[1]).slice(0, 3).map(([k, b]) => `${k} ${format_bytes(b)}`).join(', ');
    lt.push([l.name, format_int(l.bytes), `${l.percent.toFixed(4)} %`, format_bytes(l.memmap), desc, top]);
  }
  lines.push(lt.toString());
  lines.push(r.verdict);
  if (r.processes) lines.push(render_processes(r.processes));
  return lines.join('\n') + '\n';
}

/**
 * One row per process: where its pages are, folio by folio. "tuples" is what Wilcox's per-folio mapcount
 * would add for its large folios ((VMA, page table) pairs), "page maps" what per-page mapcounts add.
 */
export function render_processes(procs: readonly ProcessFolioCensus[]): string {
  const t = new Table({
    head: ['pid', 'comm', 'present', 'anon', 'file', 'pages by folio order', 'large folios', 'fully', 'partially', 'also mapped elsewhere', 'tuples / page maps'],
    ...COMPACT,
  });
  for (const p of procs) {
    const orders = Object.entries(p.pagesByOrder).map(([o, n]) => `${o}:${format_int(n)}`).join(' ');
    const lf = p.largeFolios;
    const nLarge = Object.values(lf.byOrder).reduce((a, b) => a + b, 0);
    t.push([
      String(p.pid),
      p.comm,
      format_int(p.pages.present),
      format_int(p.pages.anon),
      format_int(p.pages.file),
      orders || '-',
      format_int(nLarge),
      format_int(lf.fullyMappedHere),
      format_int(lf.partiallyMappedHere),
      format_int(lf.alsoMappedElsewhere),
      `${format_int(lf.tuplesHere)} / ${format_int(lf.pageMappingsHere)}`,
    ]);
  }
  return `processes (present pages grouped into the machine's folios by kpageflags; kpagecount says who else maps them):\n${t.toString()}`;
}

/** The processes to report: read live (after the arrays), or the ones the snapshot captured. */
async function processes_of(pids: readonly number[], snapshot: string | undefined, captured: readonly ProcessMap[] | undefined): Promise<ProcessMap[]> {
  if (captured === undefined) {
    const out: ProcessMap[] = [];
    for (const pid of pids) out.push(await readProcessMap(pid));
    return out;
  }
  if (pids.length === 0) return [...captured];
  return pids.map((pid) => {
    const p = captured.find((c) => c.pid === pid);
    if (p === undefined) throw new CliError(`--pid ${pid}: the snapshot ${snapshot} has no process ${pid} (it has ${captured.map((c) => c.pid).join(', ') || 'none; capture with --pid'})`);
    return p;
  });
}

async function proc_readable(): Promise<string | undefined> {
  try {
    await access('/proc/kpageflags', constants.R_OK);
    await access('/proc/kpagecount', constants.R_OK);
    return undefined;
  } catch (e) {
    return `/proc/kpageflags: ${(e as NodeJS.ErrnoException).code === 'EACCES' ? 'permission denied (reading it needs root)' : ((e as NodeJS.ErrnoException).code ?? 'unreadable')}`;
  }
}

async function load(opts: MemmapOptions, allowFallback: boolean): Promise<{ arrays: KpageArrays; census: Census; fallback?: string; processes?: ProcessMap[] }> {
  if (opts.snapshot !== undefined) {
    const snap = await readSnapshot(opts.snapshot);
    return { arrays: snap, processes: snap.processes, census: censusFromArrays(snap, { source: { kind: 'snapshot', path: opts.snapshot }, ...(snap.meminfo ? { meminfo: snap.meminfo } : {}) }) };
  }
  const why = await proc_readable();
  if (why !== undefined) {
    if (!allowFallback) throw new ProcfsError('/proc/kpageflags', why.replace(/^\/proc\/kpageflags: /, ''));
    const dir = bundled_snapshot_dir();
    const snap = await readSnapshot(dir);
    return {
      arrays: snap,
      census: censusFromArrays(snap, { source: { kind: 'snapshot', path: 'bundled idle snapshot (Linux 6.18, 25 GiB)' } }),
      fallback: `${why}; showing the bundled snapshot of an idle 25 GiB Linux 6.18 machine instead`,
    };
  }
  const live = await readLive();
  return { arrays: live, census: censusFromArrays(live, { source: { kind: 'live' }, ...(live.meminfo ? { meminfo: live.meminfo } : {}) }) };
}

export async function run_memmap(opts: MemmapOptions, allowFallback = false): Promise<void> {
  if (opts.live && opts.snapshot !== undefined) throw new CliError('--live and --snapshot: choose one source');
  if (!opts.live && opts.snapshot === undefined && !allowFallback) throw new CliError('memmap: say where the page flags come from: --live or --snapshot PATH');
  const layouts = parse_layout_list(opts.layout);
  if (opts.out) check_output_path(opts.out);
  const pids = parse_pids(opts.pid);
  if (opts.pid !== undefined && !opts.live && opts.snapshot === undefined) throw new CliError('--pid: needs --live (read the processes now) or --snapshot PATH (the processes it captured)');
  if (opts.pid !== undefined && opts.flags) throw new CliError('--pid: not with --flags (the flag census is of the whole machine)');
  const { arrays, census, fallback, processes } = await load(opts, allowFallback);
  const procs = (await processes_of(pids, opts.snapshot, processes)).map((p) => processFolioCensus(p, arrays));
  let text: string;
  if (opts.flags) {
    const entries = flagsCensus(arrays.flags, { raw: true });
    text = opts.json
      ? JSON.stringify({ schema: 'foliolab/flags@1', flags: entries.map((e) => ({ value: e.value, pages: e.pages, symbolic: e.symbolic, longSymbolic: e.longSymbolic })) }, null, 2) + '\n'
      : formatFlagsCensus(entries);
  } else {
    const report = build_report(census, layouts, fallback, procs);
    text = opts.json ? JSON.stringify(report, null, 2) + '\n' : render_report(report);
  }
  if (opts.out) write_file_atomic(opts.out, text);
  else process.stdout.write(text);
}

export function register(program: Command): void {
  program
    .command('memmap')
    .description('What the memmap costs on a real machine under each descriptor layout, from the live /proc or a snapshot')
    .option('--live', 'read /proc/kpageflags and /proc/kpagecount of this machine (needs root)')
    .option('--snapshot <path>', 'read a snapshot directory (kpageflags[.gz], kpagecount[.gz], ...)')
    .option('--layout <list>', 'comma-separated layouts: struct-page,struct-page-hvo,memdesc,struct-page-32 (default: all)')
    .option('--json', 'print foliolab/memmap@1 JSON')
    .option('--flags', 'print the flag-combination census exactly as the kernel\'s page-types -r does')
    .option('--out <file>', 'write the output to a file (whole or not at all) instead of stdout')
    .option('--pid <pid...>', 'also show these processes folio by folio: live ones with --live, captured ones with --snapshot (default there: all it captured)')
    .action(async (opts: MemmapOptions) => run_memmap(opts));
}
