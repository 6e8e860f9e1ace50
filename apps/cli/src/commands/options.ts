import type { Command } from 'commander';
import { size_parse } from '@foliolab/workloads';
import type { CompareChoices, RunOptions } from '@foliolab/compare';
import { CliError } from '../util.js';

/** Options shared by `run` and `compare`. */
export interface MatrixCliOptions {
  layout?: string;
  mapcount?: string;
  pagewait?: string;
  fs?: string;
  seed?: string;
  memory?: string;
  blockSize?: string;
  folioMax?: string;
  waitTableBits?: string;
  debugVm?: boolean;
}

export function add_matrix_options(cmd: Command): Command {
  return cmd
    .option('--layout <list>', 'layouts: struct-page,struct-page-hvo,memdesc,struct-page-32')
    .option('--mapcount <list>', 'mapcount policies: per-page,per-folio,per-folio-vmas,upstream,upstream-no-page-mapcount, or a path to your own')
    .option('--pagewait <list>', 'wait policies: hashed,hashed-bookmarks,attached, or a path to your own')
    .option('--fs <list>', 'block-mapping backends: buffer-head,buffer-head-mpage,ext4,iomap,xfs')
    .option('--seed <n>', 'seed for every run (default: the workload\'s)')
    .option('--memory <size>', 'simulated RAM per machine, e.g. 1GiB (default: the workload\'s)')
    .option('--block-size <size>', 'fs block size, 512B..64KiB (default 4KiB)')
    .option('--folio-max <size>', 'largest page-cache folio (default 2MiB)')
    .option('--wait-table-bits <n>', 'PAGE_WAIT_TABLE_BITS for the hashed wait policies (default 8)')
    .option('--debug-vm', 'check every invariant after every step (CONFIG_DEBUG_VM)');
}

function list(option: string, v: string | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  const names = v.split(',').map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw new CliError(`${option}: needs at least one name`);
  return names;
}

function size(option: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const r = size_parse(/^\d+$/.test(v) ? Number(v) : v);
  if (!r.ok) throw new CliError(`${option}: ${r.reason}`);
  return r.value;
}

function whole(option: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max) throw new CliError(`${option}: "${v}" is not a whole number from ${min} to ${max}`);
  return n;
}

export function parse_matrix_options(o: MatrixCliOptions, defaults: CompareChoices = {}): { choices: CompareChoices; run: RunOptions } {
  const choices: CompareChoices = {
    ...defaults,
    ...(o.layout !== undefined ? { layout: list('--layout', o.layout) } : {}),
    ...(o.mapcount !== undefined ? { mapcount: list('--mapcount', o.mapcount) } : {}),
    ...(o.pagewait !== undefined ? { pagewait: list('--pagewait', o.pagewait) } : {}),
    ...(o.fs !== undefined ? { fs: list('--fs', o.fs) } : {}),
  };
  const run: RunOptions = {};
  const seed = whole('--seed', o.seed, 0, 2 ** 32 - 1);
  if (seed !== undefined) run.seed = seed;
  const memory = size('--memory', o.memory);
  if (memory !== undefined) {
    if (memory % 4096 !== 0 || memory < 16 * 2 ** 20 || memory > 2 ** 40) throw new CliError(`--memory: ${o.memory} must be a multiple of 4 KiB from 16 MiB to 1 TiB`);
    run.memory = memory;
  }
  const bs = size('--block-size', o.blockSize);
  if (bs !== undefined) {
    if (bs < 512 || bs > 65536 || (bs & (bs - 1)) !== 0) throw new CliError(`--block-size: ${o.blockSize} is not a power of two from 512B to 64KiB`);
    run.blockSize = bs;
  }
  const fm = size('--folio-max', o.folioMax);
  if (fm !== undefined) {
    if (fm < 4096 || fm > 2 ** 21 || (fm & (fm - 1)) !== 0) throw new CliError(`--folio-max: ${o.folioMax} is not a power of two from 4KiB to 2MiB`);
    run.folioMax = fm;
  }
  const wtb = whole('--wait-table-bits', o.waitTableBits, 1, 20);
  if (wtb !== undefined) run.waitTableBits = wtb;
  if (o.debugVm) run.debugVm = true;
  return { choices, run };
}

/** `--pid` values (repeated or comma-separated) as process ids, each once; a bad one is a one-line CliError. */
export function parse_pids(values: readonly string[] | undefined): number[] {
  const pids = (values ?? []).flatMap((v) => v.split(',')).map((v) => {
    if (!/^[1-9]\d*$/.test(v.trim())) throw new CliError(`--pid: ${JSON.stringify(v)} is not a process id (a positive integer)`);
    return Number(v.trim());
  });
  return [...new Set(pids)];
}
