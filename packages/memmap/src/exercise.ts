import { PageType } from './memdesc.js';
import { memmap_check } from './check.js';
import { VmBug, type Memmap } from './memmap.js';

/** One step of an allocation script: allocate 2^order pages of a type, or free the i-th live object (modulo). */
export type MemmapOp = { op: 'alloc'; order: number; type: PageType } | { op: 'free'; pick: number };

export interface ExerciseResult {
  allocated: number;
  failed: number;
  freed: number;
  live: number;
}

/**
 * Run an allocation script against a memmap and check, after every step, what the allocator promised:
 * no PFN handed out twice (an independent bitmap of owned PFNs), and, every `checkEvery` steps and at
 * the end, the full memmap_check. With `freeAll`, everything is freed at the end and the zone must be
 * whole max-order blocks again. Used by the layouts' property tests and by anyone writing a layout.
 */
export function memmap_exercise(mm: Memmap, ops: readonly MemmapOp[], opts: { checkEvery?: number; freeAll?: boolean } = {}): ExerciseResult {
  const owned = new Uint8Array(mm.pfns);
  const live: Array<{ id: number; type: PageType; pfn: number; nr: number }> = [];
  const res: ExerciseResult = { allocated: 0, failed: 0, freed: 0, live: 0 };
  const checkEvery = opts.checkEvery ?? 16;
  const release = (i: number) => {
    const o = live[i]!;
    live[i] = live[live.length - 1]!;
    live.pop();
    if (o.type === PageType.anon || o.type === PageType.file || o.type === PageType.ksm) {
      if (!mm.folio_put(o.id)) throw new VmBug(`exercise: folio ${o.id} not freed by its last put`);
    } else mm.free_object(o.type, o.id);
    for (let j = 0; j < o.nr; j++) owned[o.pfn + j] = 0;
    res.freed++;
  };
  ops.forEach((s, step) => {
    if (s.op === 'alloc') {
      const folio = s.type === PageType.anon || s.type === PageType.file || s.type === PageType.ksm;
      const id = folio ? mm.folio_alloc(s.order, s.type) : mm.alloc_object(s.type, s.order);
      if (id < 0) {
        res.failed++;
        if (mm.nr_free_pages() >= 1 << s.order && mm.buddy.buddyinfo().slice(s.order).some((n) => n > 0)) {
          throw new VmBug(`exercise: order-${s.order} allocation failed with a free block of that order available`);
        }
      } else {
        const pfn = mm.layout.object_pfn(s.type, id);
        const nr = mm.layout.object_nr_pages(s.type, id);
        if (nr !== 1 << s.order) throw new VmBug(`exercise: asked for order ${s.order}, got ${nr} pages`);
        if (pfn % nr !== 0) throw new VmBug(`exercise: order-${s.order} block at ${pfn} is not naturally aligned`);
        for (let j = 0; j < nr; j++) {
          if (owned[pfn + j]) throw new VmBug(`exercise: pfn ${pfn + j} handed out twice`);
          owned[pfn + j] = 1;
        }
        live.push({ id, type: s.type, pfn, nr });
        res.allocated++;
      }
    } else if (live.length > 0) release(s.pick % live.length);
    if ((step + 1) % checkEvery === 0) memmap_check(mm);
  });
  memmap_check(mm);
  if (opts.freeAll) {
    while (live.length > 0) release(live.length - 1);
    // As the kernel does before it reports fragmentation: per-cpu blocks back to the buddy lists.
    mm.buddy.drain_all_pages();
    memmap_check(mm);
  }
  res.live = live.length;
  return res;
}

/**
 * Make physical memory look like a long-running machine's: allocate every order-k block, then free
 * every other one. Afterwards no two blocks of order <= k allocated later are physically adjacent
 * (until the held ones are freed), so bvec merging of neighbouring pages cannot flatter a result.
 * Returns the folios it keeps.
 */
export function memmap_fragment(mm: Memmap, order: number): number[] {
  const got: number[] = [];
  for (;;) {
    const f = mm.folio_alloc(order, PageType.anon);
    if (f < 0) break;
    got.push(f);
  }
  const held: number[] = [];
  for (let i = 0; i < got.length; i++) {
    if (i % 2 === 0) mm.folio_put(got[i]!);
    else held.push(got[i]!);
  }
  return held;
}
