import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BuddyAllocator } from './buddy.js';
import { MAX_PAGE_ORDER, PAGES_PER_SECTION } from './constants.js';
import { UnitRuns } from './field.js';
import type { BuddyStore } from './layout.js';

/** The simplest possible store: two plain arrays. Independent of every layout. */
function plainStore(pfns: number): BuddyStore & { order: Int32Array; pos: Int32Array } {
  const order = new Int32Array(pfns).fill(-1);
  const pos = new Int32Array(pfns);
  return {
    order,
    pos,
    buddy_mark: (p, o, i) => { order[p] = o; pos[p] = i; },
    buddy_clear: (p) => { order[p] = -1; },
    buddy_order: (p) => order[p]!,
    buddy_pos: (p) => pos[p]!,
    buddy_set_pos: (p, i) => { pos[p] = i; },
  };
}

function make(pfns: number) {
  const store = plainStore(pfns);
  const onlined: number[] = [];
  const sections = Math.ceil(pfns / PAGES_PER_SECTION);
  const b = new BuddyAllocator(store, pfns, (s) => onlined.push(s), Array.from({ length: sections }, (_, i) => i));
  return { b, store, onlined };
}

describe('buddy allocator', () => {
  it('splits a max-order block and hands back the upper halves (expand)', () => {
    const { b } = make(PAGES_PER_SECTION);
    expect(b.alloc(5)).toBe(0);
    const info = b.buddyinfo();
    // One order-10 block split down to order 5: one free block at each order 5..9, 31 whole order-10 blocks.
    expect(info.slice(0, MAX_PAGE_ORDER)).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
    expect(info[MAX_PAGE_ORDER]).toBe(31);
    expect(b.nr_free_pages()).toBe(PAGES_PER_SECTION - 32);
  });

  it('refills the per-cpu list in a batch (rmqueue_bulk) and serves order-0 from it', () => {
    const { b } = make(PAGES_PER_SECTION);
    const first = b.alloc(0);
    expect(b.nr_pcp_pages()).toBe(62);
    for (let i = 0; i < 62; i++) b.alloc(0);
    expect(b.stats.pcp_hits).toBe(63);
    expect(b.stats.pcp_refills).toBe(1);
    expect(b.nr_free_pages()).toBe(PAGES_PER_SECTION - 63);
    expect(first).toBe(0);
  });

  it('merges with the buddy at pfn ^ (1 << order)', () => {
    const { b } = make(PAGES_PER_SECTION);
    const x = b.alloc(0);
    const y = b.alloc(0);
    expect(y).toBe(x ^ 1);
    b.free(x, 0);
    b.free(y, 0);
    // Order-0 frees sit on the per-cpu list until drained; then everything merges back.
    expect(b.nr_pcp_pages()).toBeGreaterThan(0);
    b.drain_all_pages();
    expect(b.buddyinfo()).toEqual([...Array(MAX_PAGE_ORDER).fill(0), 32]);
  });

  it('grows into deferred sections only when it must, and reports OOM as -1', () => {
    const pfns = PAGES_PER_SECTION * 2 + 1536; // a partial third section: 1024 + 512
    const { b, onlined } = make(pfns);
    expect(onlined).toEqual([]);
    expect(b.buddyinfo()[MAX_PAGE_ORDER]).toBe(65);
    expect(b.buddyinfo()[9]).toBe(1);
    b.alloc(3);
    expect(onlined).toEqual([0]);
    const got: number[] = [];
    for (;;) {
      const p = b.alloc(9);
      if (p < 0) break;
      got.push(p);
    }
    // 65 order-10 blocks = 130 order-9 blocks, plus the partial section's order-9 block, minus the one holding the order-3 page.
    expect(got.length).toBe(130);
    expect(onlined).toEqual([0, 1, 2]);
    // The order-9 blocks are gone; order 0 still has the rest of the split block.
    expect(b.alloc(0)).toBeGreaterThanOrEqual(0);
    expect(b.stats.failures).toBe(1);
  });

  it('rejects a double free and an unaligned free', () => {
    const { b } = make(PAGES_PER_SECTION);
    const p = b.alloc(2);
    b.free(p, 2);
    expect(() => b.free(p, 2)).toThrow(/double free/);
    expect(() => b.free(p + 1, 2)).toThrow(/cannot free/);
  });

  it('property: random alloc/free never hands out a page twice, and freeing everything merges back to max-order blocks', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.record({ alloc: fc.integer({ min: 0, max: MAX_PAGE_ORDER }) }), fc.record({ free: fc.nat() })), { maxLength: 300 }),
        fc.integer({ min: 1, max: 3 }),
        (ops, nsec) => {
          const pfns = nsec * PAGES_PER_SECTION;
          const { b, store } = make(pfns);
          const owner = new Uint8Array(pfns);
          const live: Array<[number, number]> = [];
          for (const o of ops) {
            if ('alloc' in o) {
              const p = b.alloc(o.alloc);
              if (p < 0) continue;
              expect(p % (1 << o.alloc)).toBe(0);
              for (let j = 0; j < 1 << o.alloc; j++) {
                expect(owner[p + j]).toBe(0);
                owner[p + j] = 1;
              }
              live.push([p, o.alloc]);
            } else if (live.length) {
              const [p, ord] = live.splice(o.free % live.length, 1)[0]!;
              for (let j = 0; j < 1 << ord; j++) owner[p + j] = 0;
              b.free(p, ord);
            }
            // Conservation: free + allocated = all.
            const used = live.reduce((s, [, ord]) => s + (1 << ord), 0);
            expect(b.nr_free_pages() + used).toBe(pfns);
          }
          for (const [p, ord] of live) b.free(p, ord);
          b.drain_all_pages();
          const info = b.buddyinfo();
          expect(info.slice(0, MAX_PAGE_ORDER).every((n) => n === 0)).toBe(true);
          expect(info[MAX_PAGE_ORDER]).toBe(pfns >> MAX_PAGE_ORDER);
          // No stray buddy marks on anything but max-order heads.
          for (let p = 0; p < pfns; p++) if (store.order[p]! >= 0) expect(store.order[p]).toBe(MAX_PAGE_ORDER);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('deferred_init_all', () => {
  it('initializes every section once and leaves the free lists whole', () => {
    const { b, onlined } = make(PAGES_PER_SECTION * 3);
    b.deferred_init_all();
    expect(onlined).toEqual([0, 1, 2]);
    expect(b.deferred_sections()).toEqual([]);
    expect(b.buddyinfo()[MAX_PAGE_ORDER]).toBe(96);
  });
});

/**
 * The textbook rmqueue_bulk: one __rmqueue_smallest + expand() per block, per-cpu lists as stacks
 * (allocation no frees). The allocator's per-source-block refill must give the same PFNs, leave the
 * same free blocks and count the same splits.
 */
function sequentialModel(pfns: number) {
  const lists: number[][] = Array.from({ length: MAX_PAGE_ORDER + 1 }, () => []);
  // deferred_init_all(): section after section, each pushed highest block first.
  for (let s = 0; s < pfns; s += PAGES_PER_SECTION) for (let p = s + PAGES_PER_SECTION - (1 << MAX_PAGE_ORDER); p >= s; p -= 1 << MAX_PAGE_ORDER) lists[MAX_PAGE_ORDER]!.push(p);
  const pcp = new Map<number, number[]>([0, 1, 2, 3, 9].map((o) => [o, []]));
  let splits = 0;
  const smallest = (order: number): number => {
    for (let o = order; o <= MAX_PAGE_ORDER; o++) {
      const pfn = lists[o]!.pop();
      if (pfn === undefined) continue;
      while (o > order) {
        o--;
        lists[o]!.push(pfn + (1 << o));
        splits++;
      }
      return pfn;
    }
    return -1;
  };
  return {
    alloc(order: number): number {
      const ring = pcp.get(order);
      if (!ring) return smallest(order);
      if (ring.length === 0) {
        const batch: number[] = [];
        for (let i = 0; i < Math.max(1, 63 >> order); i++) {
          const p = smallest(order);
          if (p < 0) break;
          batch.push(p);
        }
        ring.push(...batch.reverse());
      }
      return ring.length ? ring.pop()! : smallest(order);
    },
    info: () => lists.map((l) => l.length),
    splits: () => splits,
    ring_empty: (order: number) => pcp.get(order)!.length === 0,
  };
}

/** runs must be exactly the maximal runs of consecutive PFNs in out[0..got): what a scan would find. */
function expectMaximalRuns(out: Int32Array, got: number, runs: UnitRuns): void {
  const want: number[] = [];
  for (let i = 0; i < got; i++) if (i === 0 || out[i] !== out[i - 1]! + 1) want.push(i);
  want.push(got);
  expect(Array.from(runs.at.subarray(0, runs.count + 1))).toEqual(want);
}

describe('rmqueue_bulk', () => {
  it('takes a fresh max-order block page by page and leaves the blocks that tile the rest', () => {
    const { b } = make(PAGES_PER_SECTION);
    expect(b.alloc(0)).toBe(0);
    // 63 pages taken from [0, 1024): left are 63 (order 0), 64 (6), 128 (7), 256 (8), 512 (9).
    expect(b.buddyinfo()).toEqual([1, 0, 0, 0, 0, 0, 1, 1, 1, 1, 31]);
    // expand() on the order-10 block (10 splits), then ctz(k) for the block taken at page k = 1..62.
    let ctz = 0;
    for (let k = 1; k < 63; k++) ctz += Math.log2(k & -k);
    expect(b.stats.splits).toBe(10 + ctz);
  });

  it('property: the same PFNs, free blocks and split count as one __rmqueue_smallest per block', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: MAX_PAGE_ORDER })), { maxLength: 400 }), fc.integer({ min: 1, max: 2 }), (orders, nsec) => {
        const pfns = nsec * PAGES_PER_SECTION;
        const { b } = make(pfns);
        b.deferred_init_all();
        const m = sequentialModel(pfns);
        for (const o of orders) expect(b.alloc(o)).toBe(m.alloc(o));
        expect(b.buddyinfo()).toEqual(m.info());
        expect(b.stats.splits).toBe(m.splits());
      }),
      { numRuns: 80 },
    );
  });

  it('property: alloc_bulk(n) gives the PFNs, free blocks, splits and refills of n alloc(0) calls', () => {
    // Bulks of one or more whole batches (63, 126, 504, ...) are taken from the buddy lists in one go.
    const op = fc.oneof(fc.integer({ min: 0, max: MAX_PAGE_ORDER }), fc.record({ bulk: fc.oneof(fc.integer({ min: 1, max: 700 }), fc.constantFrom(63, 126, 504, 512)), runs: fc.boolean() }));
    const runs = new UnitRuns(700);
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const { b, store } = make(2 * PAGES_PER_SECTION);
        b.deferred_init_all();
        const m = sequentialModel(2 * PAGES_PER_SECTION);
        // The same calls on a second allocator, bulks made of alloc(0): the marks must end up the same.
        const single = make(2 * PAGES_PER_SECTION);
        single.b.deferred_init_all();
        const out = new Int32Array(700);
        let refills = 0;
        for (const o of ops) {
          if (typeof o === 'number') {
            if (o === 0 || [1, 2, 3, 9].includes(o)) refills += m.ring_empty(o) ? 1 : 0;
            expect(b.alloc(o)).toBe(m.alloc(o));
            single.b.alloc(o);
            continue;
          }
          for (let i = 0; i < o.bulk; i++) single.b.alloc(0);
          const got = b.alloc_bulk(o.bulk, out, true, o.runs ? runs : null);
          expect(got).toBe(o.bulk);
          if (o.runs) expectMaximalRuns(out, got, runs);
          for (let i = 0; i < got; i++) {
            refills += m.ring_empty(0) ? 1 : 0;
            expect(out[i]).toBe(m.alloc(0));
          }
        }
        expect(b.buddyinfo()).toEqual(m.info());
        expect(b.stats.splits).toBe(m.splits());
        expect(b.stats.pcp_refills).toBe(refills);
        // Free blocks and per-cpu blocks carry the same order and list position, taken pages none.
        expect(store.order).toEqual(single.store.order);
        for (let p = 0; p < 2 * PAGES_PER_SECTION; p++) if (store.order[p]! >= 0) expect(store.pos[p]).toBe(single.store.pos[p]);
      }),
      { numRuns: 60 },
    );
  });

  it('property: alloc_bulk(n, out, clear, runs) reports the maximal runs of consecutive PFNs it gave', () => {
    // Frees in random order leave the per-cpu list and the buddy lists scattered: runs of every length.
    const op = fc.oneof(fc.record({ alloc: fc.integer({ min: 0, max: 3 }) }), fc.record({ free: fc.nat() }), fc.record({ bulk: fc.integer({ min: 1, max: 600 }) }));
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const { b } = make(PAGES_PER_SECTION);
        const held: Array<[number, number]> = [];
        const out = new Int32Array(600);
        const runs = new UnitRuns(600);
        for (const o of ops) {
          if ('alloc' in o) {
            const p = b.alloc(o.alloc);
            if (p >= 0) held.push([p, o.alloc]);
          } else if ('free' in o) {
            if (held.length === 0) continue;
            const [p, order] = held.splice(o.free % held.length, 1)[0]!;
            b.free(p, order);
          } else {
            const got = b.alloc_bulk(o.bulk, out, true, runs);
            expectMaximalRuns(out, got, runs);
            for (let i = 0; i < got; i++) held.push([out[i]!, 0]);
          }
        }
      }),
      { numRuns: 100 },
    );
  });
});
