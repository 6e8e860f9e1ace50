import { describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { Memmap, PageType, field_get_word, is_refusal, memmap_check } from '@foliolab/memmap';
import { VmStepError, vm_check, vm_compose, vm_exercise, vm_fork, type Vm, type VmFuzzOp } from '@foliolab/vm';
import { LAYOUTS, MAPCOUNT_POLICIES } from './index.js';

const KiB = 1024;
const MiB = 1 << 20;

/**
 * Everything a run of faults can change, read through public state: per PFN the layout's view and
 * every core and declared field word of its page and folio, the vm's per-PFN bytes, the oracle, the
 * page tables, the buddy allocator, and every counter.
 */
function vm_state(vm: Vm): unknown {
  const L = vm.layout;
  const handles = [...Object.values(vm.core), ...vm.placements.flatMap((p) => (is_refusal(p) ? [] : [p.handle]))];
  const words = vm.placements.map((p) => p.decl.words ?? 1);
  const pfns: number[] = [];
  for (let pfn = 0; pfn < vm.memmap.pfns; pfn++) {
    const obj = L.page_object(pfn);
    pfns.push(L.page_type(pfn), obj, L.buddy_order(pfn), L.buddy_pos(pfn), vm.pae(pfn) ? 1 : 0, vm.oracle.pte_count(pfn));
    if (obj >= 0 && L.object_pfn(L.page_type(pfn), obj) === pfn) {
      handles.forEach((h, i) => {
        const nw = i < Object.keys(vm.core).length ? (h === vm.core.index ? 2 : 1) : words[i - Object.keys(vm.core).length]!;
        for (const unit of [pfn, obj]) {
          const c = h.chunks[unit >>> h.shift];
          if (c === undefined || c.length === 0) continue;
          for (let w = 0; w < nw; w++) pfns.push(field_get_word(h, unit, w));
        }
      });
    }
  }
  return {
    pfns,
    ent: Array.from(vm.pt.ent),
    metrics: vm.metrics,
    policy: vm.policy.stats,
    memmap: vm.memmap.counters,
    byType: Array.from(vm.memmap.pagesByType),
    buddy: vm.memmap.buddy.stats,
    buddyinfo: vm.memmap.buddy.buddyinfo(),
    free: vm.memmap.buddy.nr_free_pages(),
    rss: [...vm.mms.values()].map((m) => [m.name, m.rssAnon, m.rssFile, m.pgtables]),
  };
}

function compose(layout: string, policy: string, faultBatch: boolean, thp: 'never' | 'madvise' | 'always', memory: number, eagerInit = false): Vm | null {
  const c = vm_compose({
    memmap: new Memmap({ layout: LAYOUTS.find((l) => l.name === layout)!.create(), memory, eagerInit }),
    policy: MAPCOUNT_POLICIES.find((p) => p.name === policy)!.create({}),
    thp,
    mthp: thp === 'never' ? [] : [16 * KiB, 64 * KiB],
    faultBatch,
  });
  return c.ok ? c.vm : null;
}

describe('batched anonymous faults', () => {
  const op = fc.record({ op: fc.nat(), a: fc.nat(), b: fc.nat(), c: fc.nat(), d: fc.nat() });
  const pairs = LAYOUTS.filter((l) => l.name === 'struct-page' || l.name === 'memdesc').flatMap((l) => MAPCOUNT_POLICIES.map((p) => [l.name, p.name] as const));

  for (const [layout, policy] of pairs) {
    if (compose(layout, policy, true, 'never', 8 * MiB) === null) continue;
    it(`${policy} @ ${layout}: leave exactly the state of one fault at a time, out of memory included`, () => {
      fc.assert(
        fc.property(
          fc.array(op, { minLength: 5, maxLength: 30 }),
          fc.constantFrom('never' as const, 'madvise' as const, 'always' as const),
          // 6 MiB runs out of memory inside batches; 48 MiB does not.
          fc.constantFrom(6 * MiB, 48 * MiB),
          (ops: VmFuzzOp[], thp, memory) => {
            const states = [true, false].map((faultBatch) => {
              const vm = compose(layout, policy, faultBatch, thp, memory)!;
              vm.spawn('init');
              vm_exercise(vm, ops);
              vm_check(vm, { policyClaims: false });
              memmap_check(vm.memmap);
              return vm_state(vm);
            });
            expect(states[0]).toEqual(states[1]);
          },
        ),
        { numRuns: Number(process.env.RUNS ?? 25) },
      );
    });
  }

  // Runs of faults that stop at mapped pages, at table ends and where memory runs out, in two processes.
  const touchOp = fc.record({
    kind: fc.constantFrom('read', 'write', 'write', 'write', 'munmap', 'dontneed', 'fork', 'exit-child'),
    first: fc.nat({ max: 2047 }),
    pages: fc.integer({ min: 1, max: 1500 }),
    who: fc.nat({ max: 1 }),
  });
  for (const [layout, policy] of [['struct-page', 'per-page'], ['struct-page', 'upstream'], ['memdesc', 'per-folio']] as const) {
    it(`${policy} @ ${layout}: runs of write faults over partly mapped ranges equal one fault at a time`, () => {
      let short = 0;
      fc.assert(
        fc.property(fc.array(touchOp, { minLength: 1, maxLength: 12 }), fc.constantFrom(5 * MiB, 12 * MiB), (ops, memory) => {
          const states = [true, false].map((faultBatch) => {
            const vm = compose(layout, policy, faultBatch, 'never', memory)!;
            const p = vm.spawn('p');
            const v = vm.mmap(p, 8 * MiB, { align: 4096 });
            for (const o of ops) {
              const mm = o.who === 1 ? vm.mms.get('c') : p;
              if (mm === undefined) continue;
              const start = v.start + o.first * 4096;
              const len = Math.min(o.pages, 2048 - o.first) * 4096;
              if (o.kind === 'read' || o.kind === 'write') {
                const before = vm.metrics.oom;
                try {
                  vm.touch(mm, start, len, o.kind === 'write');
                } catch (e) {
                  // SIGSEGV past a hole munmap made: both runs stop at the same page.
                  if (!(e instanceof VmStepError)) throw e;
                }
                if (vm.metrics.oom > before) short++;
              } else if (o.kind === 'munmap') vm.munmap(mm, start, len);
              else if (o.kind === 'dontneed') vm.madvise_dontneed(mm, start, len);
              else if (o.kind === 'fork' && !vm.mms.has('c')) {
                try {
                  vm_fork(vm, p, 'c');
                } catch (e) {
                  if (!(e instanceof VmStepError)) throw e; // out of memory for the child's page tables
                }
              }
              else if (o.kind === 'exit-child' && vm.mms.has('c')) vm.exit(vm.mms.get('c')!);
            }
            vm_check(vm, { policyClaims: false });
            return vm_state(vm);
          });
          expect(states[0]).toEqual(states[1]);
        }),
        {
          numRuns: Number(process.env.RUNS ?? 25),
          // Always include a run that exhausts memory in the middle of a batch (5 MiB is 1,280 pages).
          examples: [[[{ kind: 'write', first: 0, pages: 1500, who: 0 }, { kind: 'write', first: 1400, pages: 600, who: 0 }], 5 * MiB]],
        },
      );
      // The property must reach memory exhaustion inside a run, or it proves little about the slow path.
      expect(short).toBeGreaterThan(0);
    });
  }

  // Batches go run by run of consecutive PFNs and folios; a run must stop at a memory section (32,768
  // PFNs) and at a descriptor chunk (4,096 memdesc folios).
  for (const [layout, policy] of [['struct-page', 'per-page'], ['memdesc', 'per-folio']] as const) {
    it(`${policy} @ ${layout}: runs across descriptor chunks, and broken runs, equal one fault at a time`, () => {
      const states = [true, false].map((faultBatch) => {
        const vm = compose(layout, policy, faultBatch, 'never', 128 * MiB, true)!;
        const p = vm.spawn('p');
        // 7 faults first, so that the 512-fault batches after them do not start on a multiple of 4,096.
        const w = vm.mmap(p, 7 * 4096, { align: 4096 });
        vm.touch(p, w.start, 7 * 4096, true);
        const v = vm.mmap(p, 40 * MiB, { align: 4096 });
        vm.touch(p, v.start, 40 * MiB, true);
        // Every third page freed and faulted again: runs of two.
        for (let off = 0; off < 8 * MiB; off += 3 * 4096) vm.madvise_dontneed(p, v.start + off, 4096);
        vm.touch(p, v.start, 8 * MiB, true);
        vm_check(vm, { policyClaims: true });
        return vm_state(vm);
      });
      expect(states[0]).toEqual(states[1]);
    });

    it(`${policy} @ ${layout}: a run of PFNs across a memory section boundary equals one fault at a time`, () => {
      const states = [true, false].map((faultBatch) => {
        const vm = compose(layout, policy, faultBatch, 'never', 320 * MiB, true)!;
        const mm = vm.memmap;
        // Empty the allocator, then give back 44 pages around PFN 32,768 highest first: the per-cpu list
        // hands them out lowest first. The first 4 become the process's page tables, the 40 faults get one
        // run from 32,752 to 32,791, across the section boundary.
        const held = new Map<number, number>();
        for (let f = mm.folio_alloc(0, PageType.anon); f >= 0; f = mm.folio_alloc(0, PageType.anon)) held.set(mm.folio_pfn(f), f);
        for (let k = 0; k < 44; k++) {
          expect(held.has(32_791 - k)).toBe(true);
          mm.folio_put(held.get(32_791 - k)!);
          held.delete(32_791 - k);
        }
        const p = vm.spawn('p');
        const v = vm.mmap(p, 40 * 4096, { align: 4096 });
        vm.touch(p, v.start, 40 * 4096, true);
        expect(Array.from({ length: 40 }, (_, k) => vm.follow_page(p, v.start + k * 4096))).toEqual(Array.from({ length: 40 }, (_, k) => 32_752 + k));
        for (const f of held.values()) mm.folio_put(f);
        vm_check(vm, { policyClaims: true });
        return vm_state(vm);
      });
      expect(states[0]).toEqual(states[1]);
    });
  }

  it('take the batch path for a run of write faults, and one do_anonymous_page() per fault without it', () => {
    for (const faultBatch of [true, false]) {
      const vm = compose('struct-page', 'per-page', faultBatch, 'never', 64 * MiB)!;
      const p = vm.spawn('p');
      const v = vm.mmap(p, 4 * MiB, { align: 4096 });
      const single = vi.spyOn(vm, 'do_anonymous_page');
      vm.touch(p, v.start, 4 * MiB, true);
      expect(vm.metrics.faults.anon).toBe(1024);
      expect(single).toHaveBeenCalledTimes(faultBatch ? 0 : 1024);
      vm_check(vm, { policyClaims: true });
    }
  });
});
