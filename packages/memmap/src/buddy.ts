import { MAX_PAGE_ORDER, NR_PAGE_ORDERS, PAGES_PER_SECTION, PFN_SECTION_SHIFT } from './constants.js';
import type { BuddyStore } from './layout.js';

/**
 * The buddy allocator of one zone (mm/page_alloc.c): free lists per order 0..MAX_PAGE_ORDER, split
 * on allocation (expand() puts the upper halves back), merge on free with the buddy at
 * pfn ^ (1 << order) (__free_one_page()).
 *
 * Invariant: a free block of order k starts at a multiple of 2^k, its first page is marked in the
 * BuddyStore with order k and its index on free list k, and no page of it belongs to anyone else.
 *
 * Sections whose memmap has not been initialized yet are free max-order blocks held back, as with
 * CONFIG_DEFERRED_STRUCT_PAGE_INIT: the zone grows into them (deferred_grow_zone) when the free
 * lists cannot satisfy a request, so a 1 TiB machine costs the host only what it touches.
 */
export class BuddyAllocator {
  private readonly lists: Int32Array[] = [];
  private readonly lens = new Int32Array(NR_PAGE_ORDERS);
  /** Sections not yet onlined, in the order deferred_grow_zone takes them. */
  private readonly deferred: number[] = [];
  private deferredNext = 0;
  private deferredPages = 0;
  private freePages = 0;
  readonly stats = { allocs: 0, frees: 0, splits: 0, merges: 0, deferred_grow: 0, failures: 0 };

  constructor(
    private readonly store: BuddyStore,
    private readonly pfns: number,
    private readonly onlineSection: (section: number) => void,
    deferredSections: readonly number[],
  ) {
    for (let o = 0; o < NR_PAGE_ORDERS; o++) this.lists.push(new Int32Array(16));
    for (const s of deferredSections) {
      this.deferred.push(s);
      this.deferredPages += this.sectionPages(s);
    }
    this.freePages = this.deferredPages;
  }

  private sectionPages(section: number): number {
    const start = section << PFN_SECTION_SHIFT;
    return Math.min(PAGES_PER_SECTION, this.pfns - start);
  }

  /** Pages on the free lists plus pages in sections not yet initialized. */
  nr_free_pages(): number {
    return this.freePages;
  }

  /** Free block counts per order, as /proc/buddyinfo prints them (deferred sections count as max-order blocks). */
  buddyinfo(): number[] {
    const out = Array.from(this.lens);
    for (let i = this.deferredNext; i < this.deferred.length; i++) for (const [, order] of this.blocksOf(this.deferred[i]!)) out[order]!++;
    return out;
  }

  /** The aligned power-of-two blocks that tile a section's present pages. */
  private blocksOf(section: number): Array<[number, number]> {
    const start = section << PFN_SECTION_SHIFT;
    const end = start + this.sectionPages(section);
    const blocks: Array<[number, number]> = [];
    let pfn = start;
    while (pfn < end) {
      let order = MAX_PAGE_ORDER;
      while (order > 0 && ((pfn & ((1 << order) - 1)) !== 0 || pfn + (1 << order) > end)) order--;
      blocks.push([pfn, order]);
      pfn += 1 << order;
    }
    return blocks;
  }

  /** deferred_grow_zone: initialize the next held-back section and put its blocks on the free lists. */
  private grow(): boolean {
    if (this.deferredNext >= this.deferred.length) return false;
    const section = this.deferred[this.deferredNext++]!;
    this.onlineSection(section);
    this.deferredPages -= this.sectionPages(section);
    // Highest first, so that allocation (which takes the most recently added block) starts low.
    for (const [pfn, order] of this.blocksOf(section).reverse()) this.list_add(pfn, order);
    this.stats.deferred_grow++;
    return true;
  }

  private list_add(pfn: number, order: number): void {
    let list = this.lists[order]!;
    const pos = this.lens[order]!;
    if (pos === list.length) {
      const bigger = new Int32Array(list.length * 2);
      bigger.set(list);
      this.lists[order] = list = bigger;
    }
    list[pos] = pfn;
    this.lens[order] = pos + 1;
    this.store.buddy_mark(pfn, order, pos);
  }

  private list_del(pfn: number, order: number): void {
    const list = this.lists[order]!;
    const pos = this.store.buddy_pos(pfn);
    const last = --this.lens[order]!;
    if (pos !== last) {
      const moved = list[last]!;
      list[pos] = moved;
      this.store.buddy_set_pos(moved, pos);
    }
    this.store.buddy_clear(pfn);
  }

  /** __rmqueue_smallest + expand. Returns the first PFN of a 2^order block, or -1 when the zone is exhausted. */
  alloc(order: number): number {
    if (order < 0 || order > MAX_PAGE_ORDER) throw new RangeError(`buddy: order ${order} outside 0..${MAX_PAGE_ORDER}`);
    for (;;) {
      for (let o = order; o < NR_PAGE_ORDERS; o++) {
        const len = this.lens[o]!;
        if (len === 0) continue;
        const pfn = this.lists[o]![len - 1]!;
        this.lens[o] = len - 1;
        this.store.buddy_clear(pfn);
        // expand(): hand the upper halves back, largest first.
        while (o > order) {
          o--;
          this.list_add(pfn + (1 << o), o);
          this.stats.splits++;
        }
        this.freePages -= 1 << order;
        this.stats.allocs++;
        return pfn;
      }
      if (!this.grow()) {
        this.stats.failures++;
        return -1;
      }
    }
  }

  /** __free_one_page: merge with free buddies as far as they go, then put the block on its list. */
  free(pfn: number, order: number): void {
    if (order < 0 || order > MAX_PAGE_ORDER || (pfn & ((1 << order) - 1)) !== 0 || pfn < 0 || pfn + (1 << order) > this.pfns) {
      throw new RangeError(`buddy: cannot free pfn ${pfn} order ${order}`);
    }
    if (this.store.buddy_order(pfn) >= 0) throw new Error(`buddy: double free of pfn ${pfn}`);
    this.freePages += 1 << order;
    this.stats.frees++;
    while (order < MAX_PAGE_ORDER) {
      const buddy = pfn ^ (1 << order);
      if (buddy + (1 << order) > this.pfns) break;
      if (this.store.buddy_order(buddy) !== order) break;
      this.list_del(buddy, order);
      pfn &= ~(1 << order);
      order++;
      this.stats.merges++;
    }
    this.list_add(pfn, order);
  }

  /** Visit every free block on the lists (not the deferred sections). */
  for_each_free_block(fn: (pfn: number, order: number, pos: number) => void): void {
    for (let o = 0; o < NR_PAGE_ORDERS; o++) {
      const list = this.lists[o]!;
      for (let i = 0; i < this.lens[o]!; i++) fn(list[i]!, o, i);
    }
  }

  deferred_sections(): number[] {
    return this.deferred.slice(this.deferredNext);
  }

  /** Host bytes of the free lists. */
  host_bytes(): number {
    let b = 0;
    for (const l of this.lists) b += l.byteLength;
    return b;
  }
}
