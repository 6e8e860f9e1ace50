import { benchCensus, bundledSnapshotDir } from '@foliolab/procfs';
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

async function section(name: string, fn: () => Promise<Figure[]> | Figure[]): Promise<void> {
  try {
    print(name, await fn());
  } catch (e) {
    process.stdout.write(`\n## ${name}\nskipped: ${(e as Error).message}\n`);
  }
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
