/**
 * Sanity of the recorded kernel fixtures (runs anywhere, no root). Expected values come from the workload
 * definitions and arithmetic on them, not from the probe's own code paths.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { result_validate, type ProbeResult } from './result.js';
import { WORKLOAD_SPECS, workload_expand } from './workloads.js';
import { FS_NAMES, FS_CONFIGS } from './probe.js';

const FIXTURES = fileURLToPath(new URL('../fixtures', import.meta.url));
const PAGE = 4096;

/** mulberry32 written with BigInt arithmetic, independent of prng.ts's Math.imul version. */
function mulberry32_reference(seed: number, n: number): number[] {
  const M = 0xffffffffn;
  let a = BigInt(seed >>> 0);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5n) & M;
    let t = ((a ^ (a >> 15n)) * (a | 1n)) & M;
    t = (t ^ ((t + (((t ^ (t >> 7n)) * (t | 61n)) & M)) & M)) & M;
    out.push(Number((t ^ (t >> 14n)) & M));
  }
  return out;
}

function pages_of(hist: Record<string, number>): number {
  return Object.entries(hist).reduce((n, [order, count]) => n + count * 2 ** Number(order), 0);
}

function count_of(hist: Record<string, number>): number {
  return Object.values(hist).reduce((a, b) => a + b, 0);
}

describe.each(FS_NAMES.flatMap((fs) => WORKLOAD_SPECS.map((w) => [fs, w.name] as const)))('fixture %s / %s', (fs, name) => {
  const file = `${FIXTURES}/${fs}/${name}.json`;
  const spec = WORKLOAD_SPECS.find((w) => w.name === name)!;
  const present = existsSync(file);
  const doc = present ? (JSON.parse(readFileSync(file, 'utf8')) as ProbeResult) : undefined;
  const m = (doc?.metrics ?? {}) as Record<string, number> & Record<'data_bio_size_hist' | 'folios_added_by_order', Record<string, number>>;

  it('exists and matches the result schema', () => {
    expect(present).toBe(true);
    expect(result_validate(doc)).toEqual([]);
    expect(doc!.fs).toBe(fs);
    expect(doc!.workload).toBe(name);
    expect(doc!.seed).toBe(spec.seed);
    expect(doc!.repeats).toBeGreaterThanOrEqual(3);
  });

  it('moves exactly the bytes the workload reads or writes (distinct blocks for overwrites)', () => {
    let bytes: number;
    if (spec.kind === 'rand-overwrite') {
      const blocks = spec.file_bytes / spec.io_bytes;
      const offsets = mulberry32_reference(spec.seed, spec.count).map((x) => (x % blocks) * spec.io_bytes);
      expect(doc!.offsets).toEqual(offsets);
      bytes = new Set(offsets).size * spec.io_bytes;
    } else if (spec.kind === 'small-files') bytes = spec.files * spec.file_bytes;
    else bytes = spec.file_bytes;
    expect(m['data_bio_bytes']).toBe(bytes);
    expect(m['request_bytes']).toBe(bytes);
    expect(count_of(m.data_bio_size_hist)).toBe(m['data_bios']);
    for (const r of doc!.runs) expect(count_of(r.metrics.data_bio_size_hist)).toBe(r.metrics.data_bios);
    expect(m['requests']).toBeGreaterThanOrEqual(1);
  });

  it('adds to the page cache exactly the pages the workload touches', () => {
    const pages = pages_of(m.folios_added_by_order);
    if (spec.kind === 'rand-overwrite') {
      const touched = new Set(doc!.offsets!.map((o) => Math.floor(o / PAGE))).size;
      expect(pages).toBe(spec.cached ? 0 : touched);
    } else if (spec.kind === 'small-files') expect(pages).toBe((spec.files * spec.file_bytes) / PAGE);
    else expect(pages).toBe(spec.file_bytes / PAGE);
  });

  it('keeps mapping calls on the path of its filesystem', () => {
    expect(m['mapping_calls']).toBe(m['get_block_calls']! + m['iomap_begin_calls']!);
    expect(m['buffer_head_bytes']).toBe(m['buffer_heads_allocated']! * 104);
    const family = FS_CONFIGS[fs].family;
    if (family === 'ext4') expect(m['iomap_begin_calls']).toBe(0);
    else {
      expect(m['get_block_calls']).toBe(0);
      expect(m['buffer_heads_allocated']).toBe(0);
    }
    if (family === 'ext4' && (spec.kind === 'seq-write' || spec.kind === 'small-files')) {
      // ext4 delalloc reserves and maps one block per get_block call at write time.
      const blocks = spec.kind === 'seq-write' ? spec.file_bytes / FS_CONFIGS[fs].block_bytes : (spec.files * spec.file_bytes) / FS_CONFIGS[fs].block_bytes;
      expect(m['get_block_calls']).toBe(blocks);
      expect(m['delalloc_reservations']).toBe(blocks);
      expect(m['buffer_heads_allocated']).toBe(blocks);
    }
    if (spec.kind === 'seq-write' || spec.kind === 'small-files') expect(m['extents_allocated']).toBeGreaterThanOrEqual(1);
    if (spec.kind === 'rand-overwrite' || spec.kind === 'seq-read') {
      expect(m['delalloc_reservations']).toBe(0);
      expect(m['extents_allocated']).toBe(0);
    }
  });

  it('stores per metric the median of its runs and flags the kernel deterministic only when all runs agree', () => {
    for (const [key, value] of Object.entries(doc!.metrics)) {
      const vals = doc!.runs.map((r) => (r.metrics as unknown as Record<string, unknown>)[key]);
      const same = vals.every((v) => JSON.stringify(v) === JSON.stringify(vals[0]));
      expect(doc!.deterministic[key], key).toBe(same);
      if (typeof value === 'number') {
        const nums = (vals as number[]).slice().sort((a, b) => a - b);
        expect(value, key).toBe(nums[Math.floor((nums.length - 1) / 2)]);
      } else {
        expect(vals.map((v) => JSON.stringify(v)), key).toContain(JSON.stringify(value));
      }
    }
  });

  it('records the device queue limits and a clean trace', () => {
    expect(doc!.queue['max_sectors_kb']).toBeGreaterThan(0);
    expect(doc!.queue['logical_block_size']).toBe(512);
    for (const r of doc!.runs) {
      expect(r.trace.lost_events).toBe(0);
      expect(r.trace.unparsed_lines).toBe(0);
      expect(Object.values(r.resident_before).every((n) => n === 0)).toBe(true);
    }
  });
});

describe('workload definitions', () => {
  it('expand deterministically for a seed and list offsets for random workloads only', () => {
    for (const spec of WORKLOAD_SPECS) {
      const a = workload_expand(spec);
      expect(workload_expand(spec)).toEqual(a);
      expect(a.offsets !== undefined).toBe(spec.kind === 'rand-overwrite');
      const written = a.traced.reduce((n, s) => n + (s.op === 'pwrite' ? s.length : 0), 0);
      const read = a.traced.reduce((n, s) => n + (s.op === 'pread' ? s.length : 0), 0);
      expect({ write_bytes: written, read_bytes: read }).toEqual(a.expect);
    }
  });

  it('draw different offsets for a different seed', () => {
    const spec = WORKLOAD_SPECS.find((w) => w.kind === 'rand-overwrite')!;
    expect(workload_expand(spec, 2).offsets).not.toEqual(workload_expand(spec, 1).offsets);
    expect(workload_expand(spec, 2).offsets).toEqual(mulberry32_reference(2, 2048).map((x) => (x % 16384) * 4096));
  });
});
