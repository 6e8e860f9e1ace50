import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Memmap, is_refusal, type Layout } from '@foliolab/memmap';
import { StructPageLayout } from '@foliolab/layout-struct-page';
import { MemdescLayout } from '@foliolab/layout-memdesc';
import { VM_HUGEPAGE, vm_check, vm_compose, vm_exercise, vm_fork, type Vm, type VmFuzzOp } from '@foliolab/vm';
import { UpstreamPolicy, createPolicy, name } from './index.js';

const KiB = 1024;
const MiB = 1 << 20;

function mkvm(pageMapcount: boolean, layout: Layout = new StructPageLayout(), memory = 64 * MiB): Vm {
  const c = vm_compose({ memmap: new Memmap({ layout, memory }), policy: createPolicy({ pageMapcount }), thp: 'always', mthp: [16 * KiB, 64 * KiB] });
  if (!c.ok) throw new Error(`refused: ${c.refusals.map((r) => r.reason).join('; ')}`);
  return c.vm;
}

/** An mTHP of 64 KiB written by App1, so that every MM maps it with 16 PTEs (mapcount stays > 1). */
function app1(vm: Vm) {
  const a1 = vm.spawn('App1');
  const v = vm.mmap(a1, 64 * KiB, { align: 64 * KiB });
  vm.touch(a1, v.start, 64 * KiB, true);
  const f = vm.layout.page_object(vm.follow_page(a1, v.start));
  expect(vm.memmap.folio_nr_pages(f)).toBe(16);
  return { a1, v, f, pol: vm.policy as UpstreamPolicy };
}

describe('upstream policy (v6.15 MM-id tracking)', () => {
  it('is named upstream; CONFIG_PAGE_MAPCOUNT is refused by memdesc, CONFIG_NO_PAGE_MAPCOUNT grows the folio descriptor', () => {
    expect(name).toBe('upstream');
    const r = vm_compose({ memmap: new Memmap({ layout: new MemdescLayout(), memory: 64 * MiB }), policy: createPolicy({ pageMapcount: true }) });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.refusals.map((x) => x.field)).toEqual(['_mapcount']);
    const ok = vm_compose({ memmap: new Memmap({ layout: new MemdescLayout(), memory: 64 * MiB }), policy: createPolicy({ pageMapcount: false }) });
    expect(ok.ok).toBe(true);
    const where = ok.placements.map((p) => (is_refusal(p) ? p.refused : p.where));
    expect(where[0]).toBe('folio descriptor +52 (_mapcount)');
    expect(where.slice(1).every((w) => w.startsWith('folio descriptor +'))).toBe(true);
  });

  for (const pmc of [true, false]) {
    it(`cover letter example 1 (${pmc ? 'PAGE_MAPCOUNT' : 'NO_PAGE_MAPCOUNT'}): App1 and App2 map, App1 unmaps everything → exclusive`, () => {
      const vm = mkvm(pmc);
      const { a1, v, f, pol } = app1(vm);
      expect(pol.slots(f)).toMatchObject({ ids: [a1.id, 0], shared: false });
      const a2 = vm_fork(vm, a1, 'App2');
      expect(pol.slots(f)).toMatchObject({ ids: [a1.id, a2.id], mapcounts: [16, 16], shared: true });
      expect(pol.folio_maybe_mapped_shared(f)).toBe(true);
      vm.munmap(a1, v.start, 64 * KiB);
      expect(pol.slots(f)).toMatchObject({ ids: [0, a2.id], shared: false });
      expect(pol.folio_mapcount(f)).toBe(16);
      expect(pol.folio_maybe_mapped_shared(f)).toBe(false);
      // ...so App2's write fault reuses the large folio in place.
      vm.touch(a2, v.start, 4096, true);
      expect(vm.follow_page(a2, v.start)).toBe(vm.memmap.folio_pfn(f));
      expect(vm.metrics.cow.reuses).toBe(1);
      expect(vm.metrics.cow.unsafeReuses).toBe(0);
      vm_check(vm);
    });

    it(`cover letter example 2 (${pmc ? 'PAGE_MAPCOUNT' : 'NO_PAGE_MAPCOUNT'}): App1, App2, App3 map, App1 and App2 unmap → maybe shared (a false positive)`, () => {
      const vm = mkvm(pmc);
      const { a1, v, f, pol } = app1(vm);
      const a2 = vm_fork(vm, a1, 'App2');
      const a3 = vm_fork(vm, a1, 'App3');
      expect(pol.slots(f).ids).toEqual([a1.id, a2.id]);
      vm.munmap(a1, v.start, 64 * KiB);
      vm.munmap(a2, v.start, 64 * KiB);
      expect(pol.slots(f)).toMatchObject({ ids: [0, 0], shared: true });
      expect(pol.folio_maybe_mapped_shared(f)).toBe(true);
      expect(vm.oracle.folio_mms(vm.memmap.folio_pfn(f), 16, true)).toBe(1);
      // App3 is alone but is told "maybe shared": its write copies, an unnecessary copy, never an unsafe reuse.
      vm.touch(a3, v.start, 4096, true);
      expect(vm.metrics.cow.unnecessaryCopies).toBe(1);
      expect(vm.metrics.cow.unsafeReuses).toBe(0);
      vm_check(vm);
    });
  }

  it('aligned PMD THP: folio mapcount 1; after PMD split _large_mapcount is 512 (+511)', () => {
    const vm = mkvm(true);
    const p = vm.spawn('p');
    const v = vm.mmap(p, 2 * MiB, { align: 2 * MiB, flags: VM_HUGEPAGE });
    vm.touch(p, v.start, 1, true);
    const f = vm.layout.page_object(vm.follow_page(p, v.start));
    expect(vm.policy.folio_mapcount(f)).toBe(1);
    vm.madvise_dontneed(p, v.start, 4096);
    expect(vm.policy.folio_mapcount(f)).toBe(511);
    expect(vm.deferred.has(f)).toBe(true);
    expect(vm.shrink()).toBe(1);
    expect(vm.metrics.split.folioSplit).toBe(1);
    vm_check(vm);
  });

  for (const [lname, mk, pmc] of [
    ['struct-page, PAGE_MAPCOUNT', () => new StructPageLayout(), true],
    ['struct-page, NO_PAGE_MAPCOUNT', () => new StructPageLayout(), false],
    ['memdesc, NO_PAGE_MAPCOUNT', () => new MemdescLayout(), false],
  ] as const) {
    it(`property (${lname}): maybe-mapped-shared never says exclusive when shared; exact where claimed; no unsafe reuse, no leak`, () => {
      const op = fc.record({ op: fc.nat(), a: fc.nat(), b: fc.nat(), c: fc.nat(), d: fc.nat() });
      fc.assert(
        fc.property(fc.array(op, { minLength: 10, maxLength: 40 }), (ops: VmFuzzOp[]) => {
          const vm = mkvm(pmc, mk(), 48 * MiB);
          vm.spawn('init');
          vm_exercise(vm, ops, { after: (v) => vm_check(v) });
          expect(vm.metrics.cow.unsafeReuses).toBe(0);
          expect(vm.metrics.leakedWrites).toBe(0);
          expect(vm.metrics.queries.maybe_mapped_shared.falseNegative).toBe(0);
          expect(vm.metrics.queries.folio_mapcount.wrong).toBe(0);
        }),
        { numRuns: 40 },
      );
    });
  }
});
