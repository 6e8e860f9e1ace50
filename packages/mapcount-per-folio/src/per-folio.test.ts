import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Memmap, PageType, is_refusal, type Layout } from '@foliolab/memmap';
import { StructPageLayout } from '@foliolab/layout-struct-page';
import { MemdescLayout } from '@foliolab/layout-memdesc';
import { VM_HUGEPAGE, vm_check, vm_compose, vm_exercise, vm_fork, vm_mremap, type FileFaultHandler, type Vm, type VmFuzzOp } from '@foliolab/vm';
import { createPolicy, name, type PerFolioOptions } from './index.js';

const KiB = 1024;
const MiB = 1 << 20;

function mkvm(opts: PerFolioOptions = {}, layout: Layout = new StructPageLayout(), fileFault?: (m: Memmap) => FileFaultHandler, memory = 64 * MiB): Vm {
  const memmap = new Memmap({ layout, memory });
  const c = vm_compose({ memmap, policy: createPolicy(opts), thp: 'always', mthp: [16 * KiB, 64 * KiB], fileFault: fileFault?.(memmap) });
  if (!c.ok) throw new Error('refused');
  return c.vm;
}

/** A page cache of one 2 MiB file folio: every fault maps one page of it and takes a reference. */
function oneFolioCache(memmap: Memmap): FileFaultHandler {
  let folio = -1;
  return {
    fault(_file, pgoff) {
      if (pgoff >= 512) return null;
      if (folio < 0) folio = memmap.folio_alloc(9, PageType.file);
      memmap.folio_ref_add(folio, 1);
      return { folio, page: memmap.folio_pfn(folio) + pgoff };
    },
  };
}

describe('per-folio policy (Wilcox, "Folio mapcount")', () => {
  it('is named per-folio and costs one 4-byte count per folio (struct page +48, or the memdesc folio descriptor with no growth)', () => {
    expect(name).toBe('per-folio');
    for (const layout of [new StructPageLayout(), new MemdescLayout()]) {
      const c = vm_compose({ memmap: new Memmap({ layout, memory: 64 * MiB }), policy: createPolicy() });
      expect(c.ok).toBe(true);
      const pl = c.placements[0]!;
      expect(is_refusal(pl)).toBe(false);
      if (!is_refusal(pl)) expect(pl.bytesPerUnit).toBe(0);
    }
  });

  for (const layout of ['struct-page', 'memdesc'] as const) {
    it(`${layout}: a naturally aligned PMD THP has mapcount 1, and splitting the PMD keeps it 1`, () => {
      const vm = mkvm({}, layout === 'memdesc' ? new MemdescLayout() : new StructPageLayout());
      const p = vm.spawn('p');
      const v = vm.mmap(p, 2 * MiB, { align: 2 * MiB, flags: VM_HUGEPAGE });
      vm.touch(p, v.start, 2 * MiB, true);
      const f = vm.layout.page_object(vm.follow_page(p, v.start));
      expect(vm.policy.folio_mapcount(f)).toBe(1);
      vm.mprotect(p, v.start, 4096, 1);
      expect(vm.metrics.split.pmd).toBe(1);
      expect(vm.policy.folio_mapcount(f)).toBe(1);
      // The oracle (upstream's definition: entries) says 512: that difference is the definition.
      expect(vm.oracle.folio_mapcount(vm.memmap.folio_pfn(f), 512)).toBe(512);
      vm_check(vm, { policyClaims: false });
    });
  }

  it('a folio mapped across a page-table boundary: 1 after a fault in one table, 2 after a fault in the other', () => {
    const vm = mkvm({}, new StructPageLayout(), oneFolioCache);
    const p = vm.spawn('p');
    // Top-down placement under a 1 MiB mapping puts the 2 MiB file mapping 1 MiB off a PMD boundary:
    // the folio's pages lie in two page tables.
    vm.mmap(p, MiB);
    const v = vm.mmap(p, 2 * MiB, { file: 'f', align: 4096 });
    expect(v.start % (2 * MiB)).toBe(MiB);
    const first = v.start + MiB;
    vm.touch(p, v.start, 1, false);
    const f = vm.layout.page_object(vm.follow_page(p, v.start));
    expect(vm.policy.folio_mapcount(f)).toBe(1);
    vm.touch(p, v.start + 4096, 1, false);
    expect(vm.policy.folio_mapcount(f)).toBe(1);
    vm.touch(p, first, 1, false);
    expect(vm.policy.folio_mapcount(f)).toBe(2);
    expect(vm.oracle.folio_mapcount(vm.memmap.folio_pfn(f), 512)).toBe(3);
  });

  it('the vmas variant counts VMAs: the same folio in two page tables of one VMA counts once', () => {
    const vm = mkvm({ variant: 'vmas' }, new StructPageLayout(), oneFolioCache);
    const p = vm.spawn('p');
    const v = vm.mmap(p, 2 * MiB, { file: 'f', align: 4096 });
    const first = Math.ceil(v.start / (2 * MiB)) * 2 * MiB;
    vm.touch(p, v.start, 1, false);
    vm.touch(p, first, 1, false);
    const f = vm.layout.page_object(vm.follow_page(p, v.start));
    expect(vm.policy.name).toBe('per-folio-vmas');
    expect(vm.policy.folio_mapcount(f)).toBe(1);
  });

  it('partial mremap of a THP: the VMA split made two tuples untold, so after the move the count is 1 where its definition says 2', () => {
    const vm = mkvm();
    const p = vm.spawn('p');
    const v = vm.mmap(p, 2 * MiB, { align: 2 * MiB, flags: VM_HUGEPAGE });
    vm.touch(p, v.start, 2 * MiB, true);
    const f = vm.layout.page_object(vm.follow_page(p, v.start));
    const to = vm_mremap(vm, p, v.start + MiB, MiB, MiB);
    // (lower VMA, old table) and (new VMA, new table) map the folio: two tuples.
    expect(Math.floor(to / (2 * MiB))).not.toBe(Math.floor(v.start / (2 * MiB)));
    expect(vm.policy.folio_mapcount(f)).toBe(1);
    vm_check(vm, { policyClaims: false });
  });

  it('partial mprotect splits a VMA without telling the count: it drifts below its own definition', () => {
    const vm = mkvm();
    const p = vm.spawn('p');
    const v = vm.mmap(p, 64 * KiB, { align: 64 * KiB });
    vm.touch(p, v.start, 64 * KiB, true);
    const f = vm.layout.page_object(vm.follow_page(p, v.start));
    vm.mprotect(p, v.start + 32 * KiB, 32 * KiB, 1);
    expect(p.vmas.length).toBe(2);
    vm.munmap(p, v.start + 32 * KiB, 32 * KiB);
    // Two tuples existed (two VMAs, one table); the munmap saw its tuple go and decremented to 0.
    expect(vm.policy.folio_mapcount(f)).toBe(0);
    expect(vm.oracle.folio_mapcount(vm.memmap.folio_pfn(f), 16)).toBe(8);
  });

  it('with the literal "1 means only us" reuse, a drifted count reuses a folio another process maps: unsafe', () => {
    const vm = mkvm({ reuse: 'mapcount' });
    const p = vm.spawn('p');
    const v = vm.mmap(p, 64 * KiB, { align: 64 * KiB });
    vm.touch(p, v.start, 64 * KiB, true);
    vm.mprotect(p, v.start + 32 * KiB, 32 * KiB, 1);
    const c = vm_fork(vm, p, 'c');
    vm.munmap(p, v.start + 32 * KiB, 32 * KiB);
    vm.exit(c);
    const c2 = vm_fork(vm, p, 'c2');
    vm.touch(c2, v.start, 4096, true);
    expect(vm.metrics.cow.unsafeReuses).toBeGreaterThan(0);
    expect(vm.metrics.leakedWrites).toBeGreaterThan(0);
  });

  for (const layout of ['struct-page', 'memdesc'] as const) {
    it(`property (${layout}): random programs keep the vm's invariants; with the refcount check no reuse is unsafe`, () => {
      const op = fc.record({ op: fc.nat(), a: fc.nat(), b: fc.nat(), c: fc.nat(), d: fc.nat() });
      fc.assert(
        fc.property(fc.array(op, { minLength: 10, maxLength: 40 }), (ops: VmFuzzOp[]) => {
          const vm = mkvm({}, layout === 'memdesc' ? new MemdescLayout() : new StructPageLayout(), undefined, 48 * MiB);
          vm.spawn('init');
          vm_exercise(vm, ops, { after: (v) => vm_check(v, { policyClaims: false }) });
          expect(vm.metrics.cow.unsafeReuses).toBe(0);
        }),
        { numRuns: 40 },
      );
    });
  }
});
