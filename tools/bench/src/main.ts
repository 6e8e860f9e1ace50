import { benchCensus, bundledSnapshotDir } from '@foliolab/procfs';
import { execFileSync } from 'node:child_process';
import { benchVm, type BenchVmResult } from '@foliolab/vm';
import { benchPagewait } from '@foliolab/pagewait';
import { benchFs } from '@foliolab/pagecache';
import { LAYOUTS, MAPCOUNT_POLICIES, PAGEWAIT_POLICIES, FS_BACKENDS } from '@foliolab/machine';
import { bench_allocator, bench_host_bytes, type Figure } from './memmap-bench.js';

/**
 * `npm run bench`: every figure the budgets of DESIGN §6 talk about, measured on this machine. Prints;
 * never fails on a missed budget (benchmarks are not tests), only marks it.
 */
function print(section: string, figures: Figure[]): void {
  process.stdout.write(`\n## ${section}\n`);
  for (const f of figures) {
    const v = f.value >= 1000 ? Math.round(f.value).toLocaleString('en-US') : f.value.toFixed(f.value < 10 ? 2 : 1);
    const b = f.budget ? `  [budget ${f.budget}: ${f.ok ? 'ok' : 'MISSED'}]` : '';
    process.stdout.write(`${f.name}: ${v} ${f.unit}${b}\n`);
  }
}

// `npm run bench -- vm fs`: only the sections whose name starts with one of the words given.
const only = process.argv.slice(2).filter((a) => !a.startsWith('-'));

async function section(name: string, fn: () => Promise<Figure[]> | Figure[]): Promise<void> {
  if (only.length > 0 && !only.some((w) => name.startsWith(w))) return;
  try {
    print(name, await fn());
  } catch (e) {
    process.stdout.write(`\n## ${name}\nskipped: ${(e as Error).message}\n`);
  }
}

const layout = (name: string) => () => LAYOUTS.find((l) => l.name === name)!.create();
const policy = (name: string) => () => MAPCOUNT_POLICIES.find((p) => p.name === name)!.create({});

// `--vm-one=<layout>:<policy>[:calibrate]`: the child process of vm_in_child() below; prints its result as JSON.
const vmOne = process.argv.find((a) => a.startsWith('--vm-one='));
if (vmOne !== undefined) {
  const [l, p, cal] = vmOne.slice('--vm-one='.length).split(':') as [string, string, string?];
  process.stdout.write(JSON.stringify(benchVm({ layouts: { [l]: layout(l) }, policies: { [p]: policy(p) }, calibrate: cal === 'calibrate' })));
  process.exit(0);
}

const snapshot = bundledSnapshotDir();

process.stdout.write(`foliolab bench — node ${process.version}, ${new Date().toISOString()}\n`);
await section('memmap: host memory per simulated page', () => bench_host_bytes(snapshot));
await section('memmap: allocator', () => bench_allocator());
await section('procfs: live census vs page-types', async () => {
  const r = await benchCensus();
  return Object.entries(r as unknown as Record<string, unknown>)
    .filter(([, v]) => typeof v === 'number')
    .map(([k, v]) => ({ name: k, value: v as number, unit: '' }));
});

const VM_LAYOUTS = ['struct-page', 'memdesc'];
const VM_POLICIES = ['per-page', 'per-folio', 'upstream', 'upstream-no-page-mapcount'];

/**
 * One composition's fault figures in a process of its own. In one process, a composition measured
 * after another gets host memory the previous one freed, already faulted in, and its first pass
 * looks faster the later it runs; a fresh process gives every composition the same new memory, and
 * its own host-kernel rate measured in that process.
 */
function vm_in_child(l: string, p: string, calibrate: boolean): BenchVmResult {
  const out = execFileSync(process.execPath, [...process.execArgv, process.argv[1]!, `--vm-one=${l}:${p}${calibrate ? ':calibrate' : ''}`], { encoding: 'utf8', maxBuffer: 1 << 24 });
  return JSON.parse(out) as BenchVmResult;
}

await section('vm: simulated 4 KiB anon faults vs the host kernel (budget >= 100x)', () => {
  // The calibration loop runs once, in the first composition's process, against that process's host rate.
  const runs = VM_LAYOUTS.flatMap((l, li) => VM_POLICIES.map((p, pi) => vm_in_child(l, p, li === 0 && pi === 0)));
  const host = runs.map((r) => r.hostPagesPerSec);
  const cal = { ...runs[0]!.calibration!, host: runs[0]!.hostPagesPerSec };
  const out: Figure[] = [
    { name: 'host kernel first-touch faults (pages/s; in each composition\'s process the faster of a measurement before and after it), lowest', value: Math.min(...host), unit: '/s' },
    { name: 'host kernel first-touch faults, highest', value: Math.max(...host), unit: '/s' },
    { name: 'calibration loop (free stack + struct page + PTE, nothing else), first pass', value: cal.cold, unit: '/s' },
    { name: 'calibration loop, x host kernel, first pass', value: cal.cold / cal.host, unit: 'x' },
    { name: 'calibration loop, again on the same memory', value: cal.warm, unit: '/s' },
    { name: 'calibration loop, x host kernel, again', value: cal.warm / cal.host, unit: 'x' },
  ];
  for (const row of runs.flatMap((r) => r.rows)) {
    if (row.refused) {
      out.push({ name: `${row.policy} @ ${row.layout}: refused (${row.refused.slice(0, 60)}…)`, value: 0, unit: '' });
      continue;
    }
    out.push({ name: `${row.policy} @ ${row.layout}: simulated faults/s, first pass`, value: row.faultsPerSec, unit: '/s', budget: '>= 100x host', ok: row.vsHost >= 100 });
    out.push({ name: `${row.policy} @ ${row.layout}: x host kernel, first pass`, value: row.vsHost, unit: 'x' });
    out.push({ name: `${row.policy} @ ${row.layout}: simulated faults/s, again after munmap`, value: row.faultsPerSecWarm, unit: '/s', budget: '>= 100x host', ok: row.vsHostWarm >= 100 });
    out.push({ name: `${row.policy} @ ${row.layout}: x host kernel, again after munmap`, value: row.vsHostWarm, unit: 'x' });
    out.push({ name: `${row.policy} @ ${row.layout}: fork of a 1 GiB THP process`, value: row.forkThpMs, unit: 'ms' });
    out.push({ name: `${row.policy} @ ${row.layout}: host bytes per simulated page`, value: row.hostBytesPerPage, unit: 'B' });
  }
  return out;
});

await section('pagewait: simulated wake-ups per second of host time', () =>
  benchPagewait({ policies: PAGEWAIT_POLICIES.map((p) => ({ name: p.name, create: () => p.create({}) })) }).flatMap((r) => [
    { name: `${r.scenario} / ${r.policy}: folio_wake_bit calls/s`, value: r.wakeupsPerSec, unit: '/s' },
    { name: `${r.scenario} / ${r.policy}: tasks woken/s`, value: r.tasksWokenPerSec, unit: '/s' },
  ]),
);

await section('fs: simulated buffered I/O (budget >= 1 GiB/s streaming reads in metadata mode)', () => {
  const backends = Object.fromEntries(FS_BACKENDS.filter((b) => ['buffer-head', 'ext4', 'iomap'].includes(b.name)).map((b) => [b.name, () => b.create({})]));
  const r = benchFs({ backends, layout: layout('struct-page') });
  return r.rows.map((row) => ({
    name: `${row.backend}, ${row.mode} mode, ${row.op} of ${row.bytes / 2 ** 20} MiB`,
    value: row.gibPerSec,
    unit: 'GiB/s',
    ...(row.mode === 'metadata' && row.op === 'stream-read-cold' ? { budget: '>= 1 GiB/s', ok: row.gibPerSec >= 1 } : {}),
  }));
});
