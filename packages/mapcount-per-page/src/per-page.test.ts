import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Memmap, is_refusal } from '@foliolab/memmap';
import { StructPageLayout } from '@foliolab/layout-struct-page';
import { MemdescLayout } from '@foliolab/layout-memdesc';
import { VM_HUGEPAGE, vm_check, vm_compose, vm_exercise, vm_fork, type Vm, type VmFuzzOp } from '@foliolab/vm';
import { createPolicy, name } from './index.js';

const KiB = 1024;
const MiB = 1 << 20;

function mkvm(memory = 64 * MiB): Vm {
  const c = vm_compose({ memmap: new Memmap({ layout: new StructPageLayout(), memory }), policy: createPolicy(), thp: 'always', mthp: [16 * KiB, 64 * KiB] });
  if (!c.ok) throw new Error('refused');
  return c.vm;
}

describe('per-page policy', () => {
  it('is named per-page and declares _mapcount in struct page +48, the folio fields in page[1]', () => {
    expect(name).toBe('per-page');
    const c = vm_compose({ memmap: new Memmap({ layout: new StructPageLayout(), memory: 64 * MiB }), policy: createPolicy() });
    expect(c.ok).toBe(true);
    const where = c.placements.map((p) => (is_refusal(p) ? p.refused : p.where));
    expect(where).toEqual(['struct page +48 (_mapcount)', 'page[1] +24 (_entire_mapcount)', 'page[1] +20 (_nr_pages_mapped)']);
  });

  it('is refused by the memdesc layout, as a result: per-page state has no home in 8 bytes', () => {
    const c = vm_compose({ memmap: new Memmap({ layout: new MemdescLayout(), memory: 64 * MiB }), policy: createPolicy() });
    expect(c.ok).toBe(false);
    if (c.ok) return;
    expect(c.refusals).toHaveLength(1);
    expect(c.refusals[0]).toMatchObject({ policy: 'per-page', layout: 'memdesc', field: '_mapcount' });
    expect(c.refusals[0]!.reason).toMatch(/per-page field _mapcount has no home/);
  });

  it('legacy total mapcount rises by 511 (PTRS_PER_PMD - 1) on PMD split', () => {
    const vm = mkvm();
    const p = vm.spawn('p');
    const v = vm.mmap(p, 2 * MiB, { align: 2 * MiB, flags: VM_HUGEPAGE });
    vm.touch(p, v.start, 1, true);
    const f = vm.layout.page_object(vm.follow_page(p, v.start));
    const before = vm.policy.folio_mapcount(f)!;
    expect(before).toBe(1);
    vm.mprotect(p, v.start, 4096, 1); // a partial mprotect splits the PMD
    expect(vm.metrics.split.pmd).toBe(1);
    expect(vm.policy.folio_mapcount(f)! - before).toBe(511);
    expect(vm.policy.page_mapcount(f, vm.follow_page(p, v.start + 4096))).toBe(1);
    vm_check(vm);
  });

  it('folio_mapcount loops over every struct page: 512 cache lines for a PTE-mapped THP', () => {
    const vm = mkvm();
    const p = vm.spawn('p');
    const v = vm.mmap(p, 2 * MiB, { align: 2 * MiB, flags: VM_HUGEPAGE });
    vm.touch(p, v.start, 2 * MiB, true);
    vm.mprotect(p, v.start, 4096, 1);
    const f = vm.layout.page_object(vm.follow_page(p, v.start));
    const before = vm.policy.stats.cacheLines;
    vm.policy.folio_mapcount(f);
    expect(vm.policy.stats.cacheLines - before).toBe(512 + 1);
  });

  it('never reuses a large folio (pre-6.15): after fork and child exit each write copies a page, counted unnecessary', () => {
    const vm = mkvm();
    const p = vm.spawn('p');
    const v = vm.mmap(p, 64 * KiB, { align: 64 * KiB });
    vm.touch(p, v.start, 64 * KiB, true);
    const c = vm_fork(vm, p, 'c');
    vm.exit(c);
    vm.touch(p, v.start, 8 * KiB, true);
    expect(vm.metrics.cow.copies).toBe(2);
    expect(vm.metrics.cow.unnecessaryCopies).toBe(2);
    expect(vm.metrics.cow.unsafeReuses).toBe(0);
    vm_check(vm);
  });

  it('property: equals the oracle on every query it claims at every step; no unsafe reuse, no leak', () => {
    const op = fc.record({ op: fc.nat(), a: fc.nat(), b: fc.nat(), c: fc.nat(), d: fc.nat() });
    fc.assert(
      fc.property(fc.array(op, { minLength: 10, maxLength: 40 }), (ops: VmFuzzOp[]) => {
        const vm = mkvm(48 * MiB);
        vm.spawn('init');
        vm_exercise(vm, ops, { after: (v) => vm_check(v) });
        expect(vm.metrics.cow.unsafeReuses).toBe(0);
        expect(vm.metrics.leakedWrites).toBe(0);
        const q = vm.metrics.queries;
        for (const k of ['page_mapcount', 'folio_mapcount', 'mapped', 'partially_mapped', 'deferred_split'] as const) expect(q[k].wrong, k).toBe(0);
      }),
      { numRuns: 60 },
    );
  });
});
