import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { VmBug } from '@foliolab/memmap';
import { PageState } from './page-state.js';
import { PfnUint8 } from './pfn-array.js';
import { vm_check, vm_compose, vm_fork, NoMapcountPolicy } from './index.js';
import { Memmap } from '@foliolab/memmap';
import { StructPageLayout } from '@foliolab/layout-struct-page';

describe('PageState', () => {
  it('property: PTE counts are exact past 127 and PageAnonExclusive never disturbs them', () => {
    const op = fc.record({ pfn: fc.nat(3), kind: fc.constantFrom('inc', 'inc', 'inc', 'dec', 'pae-on', 'pae-off'), n: fc.integer({ min: 1, max: 200 }) });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const st = new PageState(2);
        // pfns 32766..32769: two on each side of a section boundary
        const base = 32766;
        const count = [0, 0, 0, 0];
        const pae = [false, false, false, false];
        for (const o of ops) {
          const pfn = base + o.pfn;
          if (o.kind === 'inc') {
            for (let i = 0; i < o.n; i++) st.ptes_inc(pfn, 1);
            count[o.pfn]! += o.n;
          } else if (o.kind === 'dec') {
            const n = Math.min(o.n, count[o.pfn]!);
            for (let i = 0; i < n; i++) st.ptes_dec(pfn, 1);
            count[o.pfn]! -= n;
          } else {
            st.pae_set(pfn, 1, o.kind === 'pae-on');
            pae[o.pfn] = o.kind === 'pae-on';
          }
          for (let j = 0; j < 4; j++) {
            expect(st.ptes(base + j)).toBe(count[j]);
            expect(st.pae(base + j)).toBe(pae[j]);
            expect(st.over.has(base + j)).toBe(count[j]! > 127);
          }
        }
      }),
    );
  });

  it('counts a run of pages in one call and refuses to go below zero', () => {
    const st = new PageState(1);
    st.ptes_inc(100, 4);
    st.ptes_dec(100, 2);
    expect([st.ptes(100), st.ptes(101), st.ptes(102), st.ptes(103)]).toEqual([0, 0, 1, 1]);
    expect(() => st.ptes_dec(100, 1)).toThrow(VmBug);
  });

  it('pae_clear_free() clears only PageAnonExclusive', () => {
    const st = new PageState(1);
    st.pae_set(10, 4, true);
    st.ptes_inc(11, 1);
    st.pae_clear_free(10, 4);
    expect([10, 11, 12, 13].map((p) => st.pae(p))).toEqual([false, false, false, false]);
    expect(st.ptes(11)).toBe(1);
  });
});

describe('PfnUint8', () => {
  it('has an entry per section from the start: reads of a section not yet made are 0, a PFN past the machine is refused', () => {
    const a = new PfnUint8(3);
    expect(a.chunks.length).toBe(3);
    expect(a.get(2 * 32768 + 7)).toBe(0);
    expect(a.chunks.every((c) => c.length === 0)).toBe(true);
    a.ensure(2 * 32768 + 7)[7] = 5;
    expect(a.get(2 * 32768 + 7)).toBe(5);
    expect(a.chunks.map((c) => c.length)).toEqual([0, 0, 32768]);
    expect(() => a.ensure(3 * 32768)).toThrow(RangeError);
    a.eager();
    expect(a.chunks.map((c) => c.length)).toEqual([32768, 32768, 32768]);
    expect(a.get(2 * 32768 + 7)).toBe(5);
  });
});

describe('a page mapped by more than 127 processes', () => {
  it('keeps the oracle exact through 200 forks and their exits', () => {
    const c = vm_compose({ memmap: new Memmap({ layout: new StructPageLayout(), memory: 256 << 20 }), policy: new NoMapcountPolicy(), thp: 'never' });
    if (!c.ok) throw new Error('refused');
    const vm = c.vm;
    const p = vm.spawn('p');
    const v = vm.mmap(p, 8192);
    vm.touch(p, v.start, 8192, true);
    const pfn = vm.follow_page(p, v.start);
    for (let i = 0; i < 200; i++) vm_fork(vm, p, `c${i}`);
    expect(vm.oracle.pte_count(pfn)).toBe(201);
    expect(vm.oracle.page_mapcount(pfn, pfn)).toBe(201);
    vm_check(vm, { policyClaims: false });
    // The parent's write copies: the shared page loses one mapping.
    vm.touch(p, v.start, 4096, true);
    expect(vm.oracle.pte_count(pfn)).toBe(200);
    for (let i = 0; i < 150; i++) vm.exit(vm.proc(`c${i}`));
    expect(vm.oracle.pte_count(pfn)).toBe(50);
    expect(vm.pageState.over.size).toBe(0);
    vm_check(vm, { policyClaims: false });
  });
});
