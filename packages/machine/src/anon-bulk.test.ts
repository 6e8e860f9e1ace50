import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Memmap, PageType, field_get_word, is_refusal, memmap_check, type AnonRmapWrite, type FieldDecl, type FieldHandle } from '@foliolab/memmap';
import { LAYOUTS } from './index.js';

/**
 * folio_alloc_bulk(..., anon): a layout's fused build (folio_create_bulk_anon) must leave exactly the
 * state of the generic path, which builds the folios and then makes the rmap's writes one field at a
 * time. The generic path is the same layout with the fused method hidden.
 */
const DECLS: FieldDecl[] = [
  { owner: 'test', name: '_mapcount', scope: 'page', init: -1 },
  { owner: 'test', name: '_mapcount', scope: 'folio', init: -1 },
  // Lands outside the record (an extra array, or a grown descriptor): the writes' other path.
  { owner: 'test', name: 'extra', scope: 'folio', init: 7 },
  { owner: 'test', name: 'wide', scope: 'page', words: 2, init: 3 },
];

function compose(layout: string, fused: boolean) {
  const l = LAYOUTS.find((e) => e.name === layout)!.create();
  if (!fused) (l as { folio_create_bulk_anon?: unknown }).folio_create_bulk_anon = undefined;
  const mm = new Memmap({ layout: l, memory: 16 << 20 });
  const placed: Array<{ handle: FieldHandle; words: number; unit: 'page' | 'folio' }> = [];
  for (const d of DECLS) {
    const p = mm.place(d);
    if (!is_refusal(p)) placed.push({ handle: p.handle, words: d.words ?? 1, unit: d.scope === 'page' ? 'page' : 'folio' });
  }
  const writes: AnonRmapWrite[] = placed.map((p, i) => ({ handle: p.handle, unit: p.unit, value: 100 + i }));
  return { mm, placed, writes };
}

function state(c: ReturnType<typeof compose>, folios: number[]): unknown {
  const { mm, placed } = c;
  const core = Object.values(mm.layout.core);
  return {
    folios: folios.map((f) => {
      const pfn = mm.folio_pfn(f);
      return [pfn, mm.layout.page_type(pfn), mm.layout.page_object(pfn), ...core.map((h) => [field_get_word(h, f, 0), field_get_word(h, f, 1)]), ...placed.map((p) => Array.from({ length: p.words }, (_, w) => field_get_word(p.handle, p.unit === 'page' ? pfn : f, w)))];
    }),
    byType: Array.from(mm.pagesByType),
    counters: mm.counters,
    buddy: mm.buddy.stats,
  };
}

describe('folio_alloc_bulk with the anon rmap writes', () => {
  for (const layout of LAYOUTS.map((l) => l.name)) {
    it(`${layout}: the fused build equals building, then writing field by field`, () => {
      const batch = fc.record({ n: fc.integer({ min: 1, max: 300 }), index: fc.oneof(fc.nat({ max: 1 << 20 }), fc.integer({ min: 2 ** 32 - 400, max: 2 ** 32 + 10 }), fc.constant(2 ** 40 - 3)), free: fc.nat({ max: 200 }) });
      fc.assert(
        fc.property(fc.array(batch, { minLength: 1, maxLength: 8 }), (batches) => {
          const runs = [true, false].map((fused) => {
            const c = compose(layout, fused);
            const live: number[] = [];
            const out = new Int32Array(300);
            const pfns = new Int32Array(300);
            for (const b of batches) {
              const got = c.mm.folio_alloc_bulk(b.n, PageType.anon, out, pfns, { index: b.index, writes: c.writes });
              live.push(...out.subarray(0, got));
              // Free some, so that later batches reuse pages and descriptors.
              for (const f of live.splice(0, Math.min(b.free, live.length))) c.mm.folio_put(f);
            }
            memmap_check(c.mm);
            return state(c, live);
          });
          expect(runs[0]).toEqual(runs[1]);
        }),
        { numRuns: 30 },
      );
    });
  }

  it('sets folio->index across a multiple of 2^32 pages exactly', () => {
    for (const fused of [true, false]) {
      const c = compose('struct-page', fused);
      const out = new Int32Array(8);
      expect(c.mm.folio_alloc_bulk(8, PageType.anon, out, new Int32Array(8), { index: 2 ** 32 - 3, writes: c.writes })).toBe(8);
      const index = Array.from(out, (f) => field_get_word(c.mm.layout.core.index, f, 1) * 2 ** 32 + (field_get_word(c.mm.layout.core.index, f, 0) >>> 0));
      expect(index).toEqual(Array.from({ length: 8 }, (_, i) => 2 ** 32 - 3 + i));
    }
  });

  it('refuses the anon writes for a folio type that is not anon', () => {
    const c = compose('struct-page', true);
    expect(() => c.mm.folio_alloc_bulk(4, PageType.file, new Int32Array(4), new Int32Array(4), { index: 0, writes: c.writes })).toThrow('file folios have no anon rmap');
  });
});
