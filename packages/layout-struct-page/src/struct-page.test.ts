import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MAX_PAGE_ORDER, Memmap, PageType, field_get, field_set, is_refusal, memmap_check, memmap_exercise, memmap_fragment, type MemmapOp, type Placement, type PlacementResult } from '@foliolab/memmap';
import { StructPageLayout, hvo_freed_bytes } from './index.js';

const MiB = 1 << 20;

describe('struct-page layout', () => {
  it('memmap_check names a word a freed struct page kept (free_page_is_bad)', () => {
    const mm = new Memmap({ layout: new StructPageLayout(), memory: 64 * MiB });
    const f = mm.folio_alloc(0, PageType.anon);
    const big = mm.folio_alloc(4, PageType.anon);
    field_set(mm.layout.core.index, f, 77);
    field_set(mm.layout.core.mapping, big, 5);
    mm.folio_put(f);
    mm.folio_put(big);
    memmap_check(mm);
    // A stale page->index on the free page, then on a tail page inside a free block.
    field_set(mm.layout.core.index, f, 77);
    expect(() => memmap_check(mm)).toThrow(`free pfn ${f} (block ${f}/0): struct page word 8 (index) is 77, not 0`);
    field_set(mm.layout.core.index, f, 0);
    field_set(mm.layout.core.mapping, big + 3, 9);
    expect(() => memmap_check(mm)).toThrow(/free pfn \d+ \(block \d+\/\d+\): struct page word 6 \(mapping\) is 9, not 0/);
  });

  it('costs 64 bytes per PFN: 1.5625 % of memory', () => {
    const mm = new Memmap({ layout: new StructPageLayout(), memory: 1024 * MiB });
    const b = mm.bytes();
    expect(b.total).toBe(262144 * 64);
    expect(b.total / (1024 * MiB)).toBe(0.015625);
    expect(b.byType.buddy).toBe(b.total);
  });

  it('names a folio by its head PFN and resolves tails through compound_head (counted)', () => {
    const mm = new Memmap({ layout: new StructPageLayout(), memory: 256 * MiB });
    const f = mm.folio_alloc(9, PageType.anon);
    expect(mm.folio_pfn(f)).toBe(f);
    expect(mm.folio_nr_pages(f)).toBe(512);
    expect(mm.folio_order(f)).toBe(9);
    expect(mm.folio_test_large(f)).toBe(true);
    const before = mm.counters.compound_head;
    expect(mm.page_folio(f + 300)).toBe(f);
    expect(mm.compound_head(f + 511)).toBe(f);
    expect(mm.counters.compound_head - before).toBe(2);
    const small = mm.folio_alloc(0, PageType.file);
    expect(mm.folio_order(small)).toBe(0);
    expect(mm.page_folio(small)).toBe(small);
    expect(mm.folio_ref_count(f)).toBe(1);
    expect(mm.folio_put(f)).toBe(true);
    expect(mm.page_type(f + 300)).toBe(PageType.none);
  });

  it('places kernel-named fields where the kernel has them and charges extra arrays for the rest', () => {
    const layout = new StructPageLayout();
    const mm = new Memmap({ layout, memory: 128 * MiB });
    const placed = (p: PlacementResult): Placement => {
      if (is_refusal(p)) throw new Error(p.refused);
      return p;
    };
    const pm = placed(mm.place({ owner: 't', name: '_mapcount', scope: 'page', init: -1 }));
    const lm = placed(mm.place({ owner: 't', name: '_large_mapcount', scope: 'large-folio', init: -1 }));
    const ids = placed(mm.place({ owner: 't', name: '_mm_ids', scope: 'large-folio', words: 2 }));
    const odd = placed(mm.place({ owner: 't', name: 'my_counter', scope: 'page' }));
    expect(pm.where).toMatch(/\+48/);
    expect(pm.bytesPerUnit).toBe(0);
    expect(lm.where).toBe('page[1] +16 (_large_mapcount)');
    expect(ids.where).toBe('page[1] +40 (_mm_ids)');
    expect(odd.bytesPerUnit).toBe(4);
    expect(mm.bytes().extra).toBe(4 * mm.pfns);
    const f = mm.folio_alloc(4);
    // Initialized at allocation: _mapcount -1 on every page, _large_mapcount -1 in page[1].
    for (let j = 0; j < 16; j++) expect(field_get(pm.handle, f + j)).toBe(-1);
    expect(field_get(lm.handle, f)).toBe(-1);
    // page[1]'s _large_mapcount is at byte 64+16 of the folio: the same slot as page[1]'s private word 2.
    field_set(lm.handle, f, 7);
    expect(field_get(layout.core.flags, f + 1) & 0xff).toBe(4); // _flags_1 low byte = order
    expect(mm.host_bytes()).toBeLessThan(mm.pfns * 68 + 65536);
  });

  it('HVO frees 7 of 8 vmemmap pages per 2 MiB hugetlb folio and 4095 of 4096 per 1 GiB', () => {
    expect(hvo_freed_bytes(512)).toBe(7 * 4096);
    expect(hvo_freed_bytes(262144)).toBe(4095 * 4096);
    const mm = new Memmap({ layout: new StructPageLayout({ hvo: true }), memory: 128 * MiB });
    const base = mm.bytes().total;
    const h = mm.alloc_object(PageType.hugetlb, 9);
    expect(base - mm.bytes().total).toBe(28672);
    mm.free_object(PageType.hugetlb, h);
    expect(mm.bytes().total).toBe(base);
  });

  it('property: random allocation and free keep every PFN in exactly one place and merge back whole', () => {
    const op: fc.Arbitrary<MemmapOp> = fc.oneof(
      fc.record({ op: fc.constant('alloc' as const), order: fc.integer({ min: 0, max: MAX_PAGE_ORDER }), type: fc.constantFrom(PageType.anon, PageType.file, PageType.slab, PageType.pagetable, PageType.unknown) }),
      fc.record({ op: fc.constant('free' as const), pick: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const mm = new Memmap({ layout: new StructPageLayout(), memory: 160 * MiB, debugVm: true });
        memmap_exercise(mm, ops, { freeAll: true });
        const info = mm.buddy.buddyinfo();
        expect(info.slice(0, MAX_PAGE_ORDER).every((n) => n === 0)).toBe(true);
        expect(info[MAX_PAGE_ORDER]! << MAX_PAGE_ORDER).toBe(mm.pfns);
      }),
      { numRuns: 40 },
    );
  });
});

describe('memmap_fragment', () => {
  it('holds every other order-k block, so nothing above order k can merge', () => {
    const mm = new Memmap({ layout: new StructPageLayout(), memory: 128 * MiB });
    const held = memmap_fragment(mm, 2);
    mm.buddy.drain_all_pages();
    expect(held.length).toBe(mm.pfns / 4 / 2);
    expect(mm.buddy.buddyinfo().slice(3).every((n) => n === 0)).toBe(true);
    for (const f of held) expect(mm.page_type(mm.folio_pfn(f) ^ 4)).toBe(PageType.buddy);
  });
});
