import { describe, expect, it } from 'vitest';
import { DEFAULT_SUITE, builtinNames, builtinWorkloads, defaultSuite, isBuiltin, loadBuiltin } from './builtin.js';
import { COW_BACKINGS, COW_CASES, cowMatrix, type CowCell } from './cow-matrix.js';
import { offsets_random } from './prng.js';
import { runWorkload, type Target } from './runner.js';
import { OPS } from './schema.js';
import type { Step } from './types.js';
import { validateWorkload } from './validate.js';

/** A target that accepts every op and records calls after the first mark (or all, without one). */
function recorder(): { target: Target; calls: { op: string; args: Record<string, unknown>; afterMark: boolean }[] } {
  const calls: { op: string; args: Record<string, unknown>; afterMark: boolean }[] = [];
  let marked = false;
  const target: Target = {};
  for (const op of OPS) {
    if (op === 'repeat' || op === 'mark') continue;
    (target as Record<string, unknown>)[op] = (args: Record<string, unknown>) => {
      calls.push({ op, args, afterMark: marked });
      return op === 'observe' ? args['procs'] : undefined;
    };
  }
  return { target, calls: Object.assign(calls, { mark: () => (marked = true) }) };
}

function run_all(name: string) {
  const r = recorder();
  const res = runWorkload(loadBuiltin(name), r.target, { onMark: () => (r.calls as unknown as { mark(): void }).mark() });
  return { ...res, calls: r.calls };
}

describe('built-in workloads', () => {
  const all = builtinWorkloads();

  it('every built-in parses, validates, and has a description and a source', () => {
    expect(all.length).toBe(builtinNames().length);
    for (const b of all) {
      const w = loadBuiltin(b.name);
      expect(w.name).toBe(b.name);
      expect(validateWorkload(w).steps).toBe(b.steps);
      expect(b.description.length, b.name).toBeGreaterThan(80);
      expect(b.source.length, b.name).toBeGreaterThan(10);
    }
  });

  it('covers the situations of the issues', () => {
    const names = new Set(all.map((b) => b.name));
    for (const n of [
      'postgres-fork-cow', 'thp-partial-dontneed', 'mremap-realloc', 'seed004-aligned-pmd', 'seed004-pt-boundary', 'mmid-615-exclusive', 'mmid-615-maybe-shared',
      'fs-stream-read', 'fs-seq-write-fsync', 'fs-database', 'fs-kernel-build', 'fs-large-folio-overwrite',
      'seq-write-64m', 'cold-seq-read-64m', 'cold-read-1m', 'rand-overwrite-cached', 'rand-overwrite-uncached', 'small-files',
      'pagewait-numa-storm-2017', 'pagewait-bdev-readers-2024', 'pagewait-file-server',
    ])
      expect(names.has(n), n).toBe(true);
    expect(all.filter((b) => b.kind === 'pagewait')).toHaveLength(3);
  });

  it('the default suite names only built-ins', () => {
    const suite = defaultSuite();
    expect(suite.length).toBe(DEFAULT_SUITE.length - 1 + cowMatrix().length);
    for (const n of suite) expect(isBuiltin(n), n).toBe(true);
    expect(() => loadBuiltin('no-such-workload')).toThrow(/no-such-workload: is not a built-in workload/);
  });
});

describe('calibration workloads match tools/fs-probe', () => {
  const MiB = 1 << 20;
  const traced = (name: string) => run_all(name).calls.filter((c) => c.afterMark);
  const bytes = (calls: { op: string; args: Record<string, unknown> }[], op: string) => calls.filter((c) => c.op === op).reduce((s, c) => s + (c.args['size'] as number), 0);

  it('seq-write-64m: 64 writes of 1 MiB + fsync, all traced', () => {
    const t = traced('seq-write-64m');
    expect(t.map((c) => c.op)).toEqual(['open', ...Array(64).fill('write'), 'fsync', 'close']);
    expect(t.filter((c) => c.op === 'write').map((c) => c.args['offset'])).toEqual(Array.from({ length: 64 }, (_, i) => i * MiB));
  });
  it('cold reads: caches dropped before the mark, reads of 1 MiB after', () => {
    const r = run_all('cold-seq-read-64m');
    const before = r.calls.filter((c) => !c.afterMark).map((c) => c.op);
    expect(before.slice(-2)).toEqual(['close', 'drop_caches']);
    expect(bytes(r.calls.filter((c) => c.afterMark), 'read')).toBe(64 * MiB);
    expect(r.calls.filter((c) => c.afterMark && c.op === 'read').every((c) => c.args['size'] === MiB)).toBe(true);
    const one = traced('cold-read-1m').filter((c) => c.op === 'read');
    expect(one.map((c) => c.args)).toEqual([{ file: 'data', offset: 0, size: MiB }]);
  });
  it('rand-overwrite-*: 2,048 4 KiB writes at offsets_random(seed, 2048, 64 MiB, 4 KiB), then fsync', () => {
    for (const name of ['rand-overwrite-cached', 'rand-overwrite-uncached']) {
      const r = run_all(name);
      const t = r.calls.filter((c) => c.afterMark);
      const writes = t.filter((c) => c.op === 'write');
      expect(writes.map((c) => c.args['offset'])).toEqual(offsets_random(loadBuiltin(name).machine.seed, 2048, 64 * MiB, 4096));
      expect(writes.every((c) => c.args['size'] === 4096)).toBe(true);
      expect(t.slice(-2).map((c) => c.op)).toEqual(['fsync', 'close']);
      expect(r.calls.some((c) => !c.afterMark && c.op === 'drop_caches')).toBe(name.endsWith('uncached'));
    }
  });
  it('small-files: 1,000 distinct files of 8 KiB, then sync', () => {
    const t = traced('small-files');
    const files = new Set(t.filter((c) => c.op === 'write').map((c) => c.args['file']));
    expect(files.size).toBe(1000);
    expect(bytes(t, 'write')).toBe(1000 * 8192);
    expect(t.at(-1)!.op).toBe('sync');
  });
});

describe('the cow.c matrix', () => {
  const cells = cowMatrix();

  it('has every anon case on every backing, plus the collapse cases on the PTE-mapped THP', () => {
    const anon = COW_CASES.filter((c) => !c.collapse).length;
    const collapse = COW_CASES.filter((c) => c.collapse).length;
    expect([anon, collapse, COW_BACKINGS.length]).toEqual([11, 4, 6]);
    expect(cells).toHaveLength(anon * COW_BACKINGS.length + collapse);
    expect(new Set(cells.map((c) => `${c.cell.case}/${c.cell.backing}`)).size).toBe(cells.length);
  });

  /** The flat op list of a cell (cells have no repeat). */
  const flat = (c: CowCell): Step[] => c.steps;

  it.each(cells.map((c) => [c.name, c] as const))('%s ends with the observe steps its check needs', (_, c) => {
    const steps = flat(c);
    const t = c.cell;
    const idx = (pred: (s: Step) => boolean) => steps.findIndex(pred);
    const afterWrite = idx((s) => s.op === 'observe' && s.args.label === 'after-write');
    expect(afterWrite).toBeGreaterThan(0);
    const aw = steps[afterWrite]!;
    if (aw.op !== 'observe') throw new Error('unreachable');
    // The writer writes the whole observed range right before after-write.
    const w = steps[afterWrite - 1]!;
    expect(w.op).toBe('touch');
    if (w.op !== 'touch') throw new Error('unreachable');
    expect([w.args.proc, w.args.write, w.args.region, w.args.offset, w.args.size]).toEqual([t.writer, true, aw.args.region, aw.args.offset, aw.args.size]);
    expect(aw.args.procs).toContain(t.writer);
    if (t.reader) expect(aw.args.procs).toContain(t.reader);
    if (t.pinner) {
      const pinned = idx((s) => s.op === 'observe' && s.args.label === 'pinned');
      const pin = steps[pinned - 1]!;
      expect(pin.op).toBe('pin');
      if (pin.op !== 'pin' || steps[pinned]!.op !== 'observe') throw new Error('unreachable');
      expect(pin.args.proc).toBe(t.pinner);
      expect(steps[pinned]!.args).toMatchObject({ procs: [t.pinner], region: aw.args.region, offset: aw.args.offset, size: aw.args.size });
      expect(pinned).toBeLessThan(afterWrite);
      if (t.check === 'pin-sees-writer') expect(pin.args.mode).toMatch(/longterm/);
    } else expect(t.check).toBe('no-leak');
    // It runs: every step reaches a handler and both records come out.
    const r = recorder();
    const res = runWorkload(c, r.target);
    expect(res.observe.map((o) => o.label)).toEqual(t.pinner ? ['pinned', 'after-write'] : ['after-write']);
  });

  it('backings set up what cow.c sets up', () => {
    const by = (k: string, b: string) => cells.find((c) => c.cell.case === k && c.cell.backing === b)!;
    const ops = (c: CowCell) => c.steps.map((s) => (s.op === 'madvise' ? `madvise:${s.args.advice}` : s.op));
    expect(ops(by('cow-fork', 'thp-single-pte')).slice(0, 4)).toEqual(['spawn', 'mmap', 'touch', 'madvise:dontneed']);
    expect(ops(by('cow-fork', 'thp-partial-shared')).slice(3, 7)).toEqual(['madvise:dontfork', 'fork', 'exit', 'madvise:dofork']);
    expect(ops(by('cow-fork', 'thp-pte')).slice(3, 5)).toEqual(['mprotect', 'mprotect']);
    const mremap = by('cow-fork', 'thp-partial-mremap');
    expect(mremap.steps.at(-1)!.op === 'observe' && mremap.steps.at(-1)!.args).toMatchObject({ region: 'moved', size: 1 << 20 });
  });
});
