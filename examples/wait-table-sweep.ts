/**
 * Sweep PAGE_WAIT_TABLE_BITS of the kernel's hashed folio wait table on two built-in page-wait
 * workloads: the 2017 NUMA-migration storm (thousands of waiters on two hot folios) and a file
 * server (waiters spread over many folios). A bigger table separates the folios that merely share a
 * bucket, so the file server's walks shrink; the storm's walks are long because the waiters are on
 * the same folio, which no table size fixes ("We tried both 12 and 16 bit table and that didn't
 * make a difference", Tim Chen, 2017).
 *
 *   node --conditions=@foliolab/source --import tsx examples/wait-table-sweep.ts [--bits 4,6,8,10,12] [--bookmarks] [--json]
 */
import { createMachine } from '@foliolab/machine';
import { createHashedWaitPolicy, MAX_TABLE_BITS, MIN_TABLE_BITS } from '@foliolab/pagewait-hashed';
import { loadBuiltin, runWorkload } from '@foliolab/workloads';

const WORKLOADS = ['pagewait-numa-storm-2017', 'pagewait-file-server'];
const args = process.argv.slice(2);
const json = args.includes('--json');
const bookmarks = args.includes('--bookmarks');
const bitsAt = args.indexOf('--bits');
const bitsText = bitsAt >= 0 ? (args[bitsAt + 1] ?? '') : '4,6,8,10,12';
const bits = bitsText.split(',').map(Number);
if (bits.length === 0 || bits.some((b) => !Number.isInteger(b) || b < MIN_TABLE_BITS || b > MAX_TABLE_BITS)) {
  process.stderr.write(`wait-table-sweep: --bits: "${bitsText}" is not a list of whole numbers from ${MIN_TABLE_BITS} to ${MAX_TABLE_BITS}\n`);
  process.exit(2);
}

const COLUMNS = [
  ['pagewait.table_bytes', 'table bytes'],
  ['pagewait.walk_mean', 'walk mean'],
  ['pagewait.walk_p99', 'walk p99'],
  ['pagewait.walk_max', 'walk max'],
  ['pagewait.foreign_walked', 'foreign walked'],
  ['pagewait.longest_bucket', 'longest bucket'],
  ['pagewait.latency_p99_ns', 'wait p99 (us)'],
] as const;

interface Point {
  workload: string;
  bits: number;
  metrics: Record<string, number>;
}

const points: Point[] = [];
for (const name of WORKLOADS) {
  const w = loadBuiltin(name);
  const m = w.machine as unknown as { memory: number; seed?: number };
  for (const b of bits) {
    // The wait policy is an object you build: any WaitPolicy of @foliolab/pagewait fits here.
    const composed = createMachine({ memory: m.memory, seed: m.seed ?? 1, layout: 'struct-page', pagewait: createHashedWaitPolicy({ tableBits: b, bookmarks }) });
    if (!composed.ok) throw new Error(composed.reason);
    runWorkload(w, composed.machine.handlers as never, { seed: m.seed ?? 1 });
    points.push({ workload: name, bits: b, metrics: composed.machine.metrics() });
  }
}

if (json) {
  process.stdout.write(JSON.stringify({ bookmarks, points: points.map((p) => ({ workload: p.workload, bits: p.bits, ...Object.fromEntries(COLUMNS.map(([k]) => [k, p.metrics[k] ?? 0])) })) }, null, 2) + '\n');
} else {
  for (const name of WORKLOADS) {
    process.stdout.write(`${name} (hashed${bookmarks ? ' with bookmarks' : ''})\n`);
    process.stdout.write(`${'bits'.padStart(4)}  ${COLUMNS.map(([, h]) => h.padStart(14)).join('  ')}\n`);
    for (const p of points.filter((x) => x.workload === name)) {
      const cells = COLUMNS.map(([k]) => {
        const v = p.metrics[k] ?? 0;
        return (k === 'pagewait.latency_p99_ns' ? (v / 1000).toFixed(1) : Number.isInteger(v) ? String(v) : v.toFixed(2)).padStart(14);
      });
      process.stdout.write(`${String(p.bits).padStart(4)}  ${cells.join('  ')}\n`);
    }
    process.stdout.write('\n');
  }
}
