/**
 * Compare two memmap layouts on a capture of this machine: what struct page costs today and what
 * memdescs would cost for the same pages. Reads /proc/kpageflags and /proc/kpagecount when it can
 * (root), otherwise uses the idle snapshot bundled with @foliolab/procfs, and says which it used.
 *
 *   node --conditions=@foliolab/source --import tsx examples/live-layouts.ts [layoutA layoutB] [--snapshot DIR] [--json]
 */
import { access, constants } from 'node:fs/promises';
import { LAYOUTS, layout_entry } from '@foliolab/machine';
import { PAGE_SIZE, layout_measure, page_type_by_name, type MemmapObjects } from '@foliolab/memmap';
import { PAGE_CLASSES, bundledSnapshotDir, readLiveCensus, readSnapshotCensus, type Census } from '@foliolab/procfs';

const args = process.argv.slice(2);
const json = args.includes('--json');
const snapAt = args.indexOf('--snapshot');
const snapshot = snapAt >= 0 ? args[snapAt + 1] : undefined;
if (snapAt >= 0 && !snapshot) {
  process.stderr.write('live-layouts: --snapshot needs a directory\n');
  process.exit(2);
}
const names = args.filter((a, i) => !a.startsWith('--') && !(snapAt >= 0 && i === snapAt + 1));
const [nameA, nameB] = names.length ? names : ['struct-page', 'memdesc'];
for (const n of [nameA, nameB]) {
  if (!n || !LAYOUTS.some((l) => l.name === n)) {
    process.stderr.write(`live-layouts: layout "${n ?? ''}" is not one of ${LAYOUTS.map((l) => l.name).join(', ')}\n`);
    process.exit(2);
  }
}

/** The live /proc when it is readable, else the bundled snapshot; `why` says which and why. */
async function capture(): Promise<{ census: Census; source: string }> {
  if (snapshot) return { census: await readSnapshotCensus(snapshot), source: `snapshot ${snapshot}` };
  try {
    await access('/proc/kpageflags', constants.R_OK);
    await access('/proc/kpagecount', constants.R_OK);
    return { census: await readLiveCensus(), source: 'live /proc of this machine' };
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    const dir = bundledSnapshotDir();
    return { census: await readSnapshotCensus(dir), source: `bundled idle snapshot (/proc/kpageflags not readable here: ${why})` };
  }
}

/** The census's page classes and the memmap's page types share their names. */
function objects_of(census: Census): MemmapObjects {
  const typeOfClass = PAGE_CLASSES.map((c) => page_type_by_name(c)!);
  const o = census.objects;
  const type = new Uint8Array(o.count);
  for (let i = 0; i < o.count; i++) type[i] = typeOfClass[o.cls[i]!]!;
  return { count: o.count, start: o.start, nrPages: o.nrPages, type };
}

const { census, source } = await capture();
const objects = objects_of(census);
const ram = census.pfns * PAGE_SIZE;
const measured = [nameA!, nameB!].map((name) => ({ name, ...layout_measure(layout_entry(name).create(), census.pfns, objects).bytes }));
const [a, b] = measured as [(typeof measured)[0], (typeof measured)[0]];

if (json) {
  process.stdout.write(JSON.stringify({ source, pfns: census.pfns, layouts: measured.map((m) => ({ name: m.name, bytes: m.total, percent: (m.total / ram) * 100, byType: m.byType })) }, null, 2) + '\n');
} else {
  const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
  process.stdout.write(`source: ${source}\n`);
  process.stdout.write(`${census.pfns} page frames (${mib(ram)} of RAM)\n\n`);
  const [ta, tb] = [a.byType as Record<string, number>, b.byType as Record<string, number>];
  const types = [...new Set([...Object.keys(ta), ...Object.keys(tb)])].filter((t) => (ta[t] ?? 0) || (tb[t] ?? 0));
  const w = Math.max(12, ...types.map((t) => t.length));
  process.stdout.write(`${'bytes by type'.padEnd(w)}  ${a.name.padStart(14)}  ${b.name.padStart(14)}\n`);
  for (const t of types) process.stdout.write(`${t.padEnd(w)}  ${mib(ta[t] ?? 0).padStart(14)}  ${mib(tb[t] ?? 0).padStart(14)}\n`);
  process.stdout.write(`${'total'.padEnd(w)}  ${mib(a.total).padStart(14)}  ${mib(b.total).padStart(14)}\n`);
  process.stdout.write(`${'% of RAM'.padEnd(w)}  ${((a.total / ram) * 100).toFixed(3).padStart(13)}%  ${((b.total / ram) * 100).toFixed(3).padStart(13)}%\n\n`);
  const saved = a.total - b.total;
  process.stdout.write(`${b.name} ${saved >= 0 ? 'saves' : 'costs'} ${mib(Math.abs(saved))} against ${a.name} (${((Math.abs(saved) / a.total) * 100).toFixed(1)}%)\n`);
}
