import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MAX_PAGE_ORDER, Memmap, MemdescTag, PageType, field_get, is_refusal, memdesc_address, memdesc_tag, memmap_check, memmap_exercise, type MemmapOp } from '@foliolab/memmap';
import { MemdescLayout } from './index.js';

const MiB = 1 << 20;

describe('memdesc layout', () => {
  it('memmap_check names a word a free page kept (free_page_is_bad)', () => {
    const mm = new Memmap({ layout: new MemdescLayout(), memory: 64 * MiB });
    const big = mm.folio_alloc(4, PageType.anon);
    const head = mm.folio_pfn(big);
    mm.folio_put(big);
    memmap_check(mm);
    // The high half of the memdesc word (a buddy list position) written on a page no free list marks.
    const tail = head + 3;
    expect(mm.layout.buddy_order(tail)).toBe(-1);
    mm.layout.buddy_set_pos(tail, 5);
    expect(() => memmap_check(mm)).toThrow(`free pfn ${tail} (block`);
    expect(() => memmap_check(mm)).toThrow('memdesc page word 1 is 5, not 0');
  });

  it('costs 8 bytes per PFN with no descriptors: 0.195 % of memory', () => {
    const mm = new Memmap({ layout: new MemdescLayout(), memory: 1024 * MiB });
    expect(mm.bytes().total).toBe(262144 * 8);
    expect(mm.bytes().total / (1024 * MiB)).toBeCloseTo(0.001953125, 12);
  });

  it('allocates and frees one descriptor per object, with the default sizes', () => {
    const layout = new MemdescLayout();
    const mm = new Memmap({ layout, memory: 256 * MiB });
    const words = mm.pfns * 8;
    const a = mm.folio_alloc(0, PageType.anon);
    const b = mm.folio_alloc(9, PageType.file);
    const s = mm.alloc_object(PageType.slab, 2);
    const p = mm.alloc_object(PageType.pagetable, 0);
    const h = mm.alloc_object(PageType.hugetlb, 9);
    const bytes = mm.bytes();
    expect(bytes.descriptors).toEqual({ folio: 160, hugetlb: 96, slab: 64, ptdesc: 64 });
    expect(bytes.total).toBe(words + 160 + 96 + 64 + 64);
    // An order-0 anon folio costs 8 + 80 bytes: more than struct page's 64. Shown, not hidden.
    expect(bytes.byType.anon).toBe(8 + 80);
    expect(bytes.byType.file).toBe(512 * 8 + 80);
    mm.folio_put(a);
    mm.folio_put(b);
    mm.free_object(PageType.slab, s);
    mm.free_object(PageType.pagetable, p);
    mm.free_object(PageType.hugetlb, h);
    expect(mm.bytes().total).toBe(words);
  });

  it('every page of a folio holds tag | 16-byte-aligned descriptor address; page_folio decodes it', () => {
    const layout = new MemdescLayout();
    const mm = new Memmap({ layout, memory: 128 * MiB });
    mm.folio_alloc(0);
    const f = mm.folio_alloc(4, PageType.file);
    const pfn = mm.folio_pfn(f);
    expect(f).toBe(1);
    for (let j = 0; j < 16; j++) expect(mm.page_folio(pfn + j)).toBe(f);
    expect(mm.folio_nr_pages(f)).toBe(16);
    const c = (layout as unknown as { pages: { chunks: Int32Array[] } }).pages.chunks[0]!;
    const lo = c[pfn * 2]! >>> 0;
    expect(memdesc_tag(lo)).toBe(MemdescTag.file);
    expect(memdesc_address(lo, c[pfn * 2 + 1]!) % 16).toBe(0);
  });

  it('refuses per-page fields; struct-page-32 has a home for _mapcount', () => {
    const mm = new Memmap({ layout: new MemdescLayout(), memory: 128 * MiB });
    const r = mm.place({ owner: 'per-page', name: '_mapcount', scope: 'page', init: -1 });
    expect(r.refused).toMatch(/per-page field _mapcount has no home/);
    const mm32 = new Memmap({ layout: new MemdescLayout({ structPage32: true }), memory: 128 * MiB });
    const ok = mm32.place({ owner: 'per-page', name: '_mapcount', scope: 'page', init: -1 });
    expect(ok.refused).toBeUndefined();
    expect(mm32.bytes().total).toBe(mm32.pfns * 32);
    if (is_refusal(ok)) return;
    const f = mm32.folio_alloc(2);
    for (let j = 0; j < 4; j++) expect(field_get(ok.handle, mm32.folio_pfn(f) + j)).toBe(-1);
  });

  it('grows the folio descriptor for fields it lacks, rounding to 16 bytes', () => {
    const layout = new MemdescLayout();
    const mm = new Memmap({ layout, memory: 128 * MiB });
    const a = mm.place({ owner: 'upstream', name: '_large_mapcount', scope: 'large-folio', init: -1 });
    const b = mm.place({ owner: 'upstream', name: '_entire_mapcount', scope: 'large-folio', init: -1 });
    const c = mm.place({ owner: 'upstream', name: '_mm_ids', scope: 'large-folio', words: 2 });
    expect([a, b, c].map((p) => (is_refusal(p) ? -1 : p.bytesPerUnit))).toEqual([16, 0, 0]);
    expect(layout.descriptor_size('folio')).toBe(96);
    const d = mm.place({ owner: 'upstream', name: '_mm_id_mapcount', scope: 'large-folio', words: 2, init: -1 });
    expect(is_refusal(d) ? -1 : d.bytesPerUnit).toBe(16);
    expect(layout.descriptor_size('folio')).toBe(112);
    const f = mm.folio_alloc(3);
    if (is_refusal(a)) return;
    expect(field_get(a.handle, f)).toBe(-1);
    expect(() => mm.place({ owner: 'late', name: 'x', scope: 'folio' })).toThrow(/already allocated/);
  });

  it('property: random allocation and free keep every PFN in exactly one place and merge back whole', () => {
    const op: fc.Arbitrary<MemmapOp> = fc.oneof(
      fc.record({ op: fc.constant('alloc' as const), order: fc.integer({ min: 0, max: MAX_PAGE_ORDER }), type: fc.constantFrom(PageType.anon, PageType.ksm, PageType.slab, PageType.pagetable, PageType.hugetlb, PageType.unknown) }),
      fc.record({ op: fc.constant('free' as const), pick: fc.nat() }),
    );
    for (const structPage32 of [false, true]) {
      fc.assert(
        fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
          const mm = new Memmap({ layout: new MemdescLayout({ structPage32 }), memory: 160 * MiB, debugVm: true });
          memmap_exercise(mm, ops, { freeAll: true });
          expect(mm.buddy.buddyinfo()[MAX_PAGE_ORDER]! << MAX_PAGE_ORDER).toBe(mm.pfns);
          expect(mm.bytes().total).toBe(mm.pfns * (structPage32 ? 32 : 8));
        }),
        { numRuns: 30 },
      );
    }
  });
});

describe('descriptor growth', () => {
  it('handles made before a field grows the descriptor index the grown descriptors (core fields included)', () => {
    const layout = new MemdescLayout();
    const mm = new Memmap({ layout, memory: 128 * MiB, debugVm: true });
    mm.place({ owner: 't', name: 'a', scope: 'folio', words: 2 });
    mm.place({ owner: 't', name: 'b', scope: 'large-folio', words: 3 });
    expect(layout.core.refcount.stride * 4).toBe(layout.descriptor_size('folio'));
    const ids = [mm.folio_alloc(0), mm.folio_alloc(2), mm.folio_alloc(0)];
    ids.forEach((f) => expect(mm.folio_ref_count(f)).toBe(1));
    mm.folio_put(ids[1]!);
    memmap_check(mm);
  });
});
