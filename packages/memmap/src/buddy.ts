import { MAX_PAGE_ORDER, NR_PAGE_ORDERS, PAGES_PER_SECTION, PFN_SECTION_SHIFT } from './constants.js';
import type { UnitRuns } from './field.js';
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
/** Stored in place of the order for a block that sits on a per-cpu list: it is free but not PageBuddy, so it never merges. */
export const PCP_FLAG = 16;
/** Orders that have per-cpu lists: up to PAGE_ALLOC_COSTLY_ORDER, and the PMD order for THPs. */
export const PCP_ORDERS: readonly number[] = [0, 1, 2, 3, 9];
/** rmqueue_bulk / free_pcppages_bulk batch for a large zone, and the high mark in pages. */
export const PCP_BATCH = 63;
export const PCP_HIGH = 4096;

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

export class BuddyAllocator {
  private readonly lists: Int32Array[] = [];
  /**
   * Per-cpu page lists (one simulated CPU), one ring per order: allocation and free work at the hot
   * end, draining takes from the cold end (the kernel's list head and tail). A block's recorded
   * position is its ring slot.
   */
  private readonly pcp: Int32Array[] = [];
  private readonly pcpStart = new Int32Array(NR_PAGE_ORDERS);
  private readonly pcpLens = new Int32Array(NR_PAGE_ORDERS);
  private readonly pcpOrder = new Uint8Array(NR_PAGE_ORDERS);
  private pcpCount = 0;
  private readonly lens = new Int32Array(NR_PAGE_ORDERS);
  /** Sections not yet onlined, in the order deferred_grow_zone takes them. */
  private readonly deferred: number[] = [];
  private deferredNext = 0;
  private deferredPages = 0;
  private freePages = 0;
  readonly stats = { allocs: 0, frees: 0, splits: 0, merges: 0, deferred_grow: 0, failures: 0, pcp_hits: 0, pcp_refills: 0, pcp_drains: 0 };

  constructor(
    private readonly store: BuddyStore,
    private readonly pfns: number,
    private readonly onlineSection: (section: number) => void,
    deferredSections: readonly number[],
  ) {
    for (let o = 0; o < NR_PAGE_ORDERS; o++) {
      this.lists.push(new Int32Array(16));
      this.pcp.push(new Int32Array(o < 4 ? 256 : 16));
    }
    for (const o of PCP_ORDERS) this.pcpOrder[o] = 1;
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

  /** Pages free: on the buddy lists, on the per-cpu lists, and in sections not yet initialized. */
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

  /** Initialize every held-back section now (no deferred struct page init). */
  deferred_init_all(): void {
    while (this.grow());
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

  /**
   * rmqueue(): orders with a per-cpu list take from it, refilling it in a batch from the buddy lists
   * (rmqueue_bulk) when it is empty; others go to the buddy lists directly. Returns the first PFN of a
   * 2^order block, or -1 when the zone is exhausted even after draining the per-cpu lists.
   */
  alloc(order: number): number {
    if (order < 0 || order > MAX_PAGE_ORDER) throw new RangeError(`buddy: order ${order} outside 0..${MAX_PAGE_ORDER}`);
    if (this.pcpOrder[order] === 1) {
      let len = this.pcpLens[order]!;
      if (len === 0) {
        this.pcp_refill(order);
        len = this.pcpLens[order]!;
      }
      if (len > 0) {
        const ring = this.pcp[order]!;
        const pfn = ring[(this.pcpStart[order]! + len - 1) & (ring.length - 1)]!;
        this.pcpLens[order] = len - 1;
        this.pcpCount -= 1 << order;
        this.store.buddy_clear(pfn);
        this.freePages -= 1 << order;
        this.stats.allocs++;
        this.stats.pcp_hits++;
        return pfn;
      }
    }
    let pfn = this.rmqueue_smallest(order);
    if (pfn < 0 && this.pcpCount > 0) {
      this.drain_all_pages();
      pfn = this.rmqueue_smallest(order);
    }
    if (pfn < 0) {
      this.stats.failures++;
      return -1;
    }
    this.freePages -= 1 << order;
    this.stats.allocs++;
    return pfn;
  }

  /**
   * alloc_pages_bulk() for order 0: up to n pages into out[0..), exactly the PFNs and the state that n
   * calls of alloc(0) would give while the per-cpu list (refilled from the buddy lists as it empties)
   * can serve them. Stops early, without the slow path, when the zone has no free block left for the
   * list: the caller falls back on alloc(0), which drains and fails as one call would. Returns the count.
   * With `clear` false the pages keep the marks the lists left (buddy_clear() not called): the caller
   * clears them itself before anything reads them (Layout.folio_create_bulk does, in its own pass).
   * `runs` (room for n) receives where out[0..got) breaks into runs of consecutive PFNs.
   */
  alloc_bulk(n: number, out: Int32Array, clear = true, runs: UnitRuns | null = null): number {
    const store = this.store;
    let got = 0;
    if (runs !== null) runs.count = 0;
    while (got < n) {
      const len = this.pcpLens[0]!;
      // Nothing left for a refill to find: the caller's alloc(0) makes that refill and the slow path.
      if (len === 0 && this.freePages - got - this.pcpCount === 0) break;
      if (len === 0 && n - got >= PCP_BATCH) {
        // Whole batches are wanted: each would be pushed on the empty list and popped again in the order the
        // buddy lists gave it, so they go to the caller directly (the per-cpu marks would all be cleared).
        // One rmqueue_bulk call for all of them is the same as one per batch: the blocks a batch leaves of
        // its source block are the smallest free ones, which the next batch takes first, so they are not
        // put on the buddy lists in between (each list_add writes the struct page of a block ahead).
        const batches = Math.floor((n - got) / PCP_BATCH);
        const k = this.rmqueue_bulk(0, batches * PCP_BATCH, out, got, runs);
        if (k === 0) break;
        if (clear) for (let i = got; i < got + k; i++) store.buddy_clear(out[i]!);
        got += k;
        this.stats.pcp_refills += Math.ceil(k / PCP_BATCH);
        continue;
      }
      if (len === 0) {
        // A last, partial batch: the refill's first n - got blocks would be pushed on the empty list and
        // popped at once, so they go to the caller directly (their per-cpu marks are never seen), and
        // the rest go on the list in the slots pcp_refill() gives them.
        const batch = this.refillScratch;
        const k = this.rmqueue_bulk(0, PCP_BATCH, batch);
        if (k === 0) break;
        const take = Math.min(k, n - got);
        for (let i = 0; i < take; i++) this.bulk_give(out, got + i, batch[i]!, clear, runs);
        got += take;
        this.pcp_add_batch(0, batch, take, k);
        this.stats.pcp_refills++;
        continue;
      }
      const ring = this.pcp[0]!;
      const mask = ring.length - 1;
      const start = this.pcpStart[0]!;
      const take = Math.min(len, n - got);
      for (let i = 0; i < take; i++) this.bulk_give(out, got + i, ring[(start + len - 1 - i) & mask]!, clear, runs);
      got += take;
      this.pcpLens[0] = len - take;
      this.pcpCount -= take;
    }
    if (runs !== null) runs.end(got);
    this.freePages -= got;
    this.stats.allocs += got;
    this.stats.pcp_hits += got;
    return got;
  }

  /** One page of alloc_bulk() to its caller: out[i] = pfn, cleared when asked, noted in the runs. */
  private bulk_give(out: Int32Array, i: number, pfn: number, clear: boolean, runs: UnitRuns | null): void {
    if (clear) this.store.buddy_clear(pfn);
    out[i] = pfn;
    if (runs !== null) runs.add(out, i);
  }

  /**
   * rmqueue_bulk(): move up to a batch of blocks of this order from the buddy lists to the per-cpu list.
   *
   * The result is exactly that of calling __rmqueue_smallest(order) once per block, computed per source
   * block instead of per page: the smallest free block B (order o) is taken off its list; the
   * sequential loop would take B's first block of this order and push the upper halves (expand), then
   * take the next block from the smallest of those halves, and so on, so it takes B's blocks in address
   * order and leaves the rest of B as the aligned blocks that tile it, one per list below o (those lists
   * were empty, since o was the smallest non-empty order). Those are pushed here directly; the blocks
   * taken are never marked on a buddy list in between, and the split count is what the loop would count.
   */
  private pcp_refill(order: number): void {
    const got = this.refillScratch;
    const n = this.rmqueue_bulk(order, Math.max(1, PCP_BATCH >> order), got);
    this.pcp_add_batch(order, got, 0, n);
    this.stats.pcp_refills++;
  }

  /**
   * Queue got[from..to) on the per-cpu list of this order. The kernel queues a batch behind anything
   * already there and allocates from the head: it is pushed so that got[from] is the next block taken
   * (pcp_push, last block first).
   */
  private pcp_add_batch(order: number, got: Int32Array, from: number, to: number): void {
    const ring = this.pcp[order]!;
    const len0 = this.pcpLens[order]!;
    if (len0 + to - from > ring.length) {
      for (let i = to - 1; i >= from; i--) this.pcp_push(got[i]!, order);
      return;
    }
    const mask = ring.length - 1;
    const flagged = order | PCP_FLAG;
    const store = this.store;
    let slot = (this.pcpStart[order]! + len0) & mask;
    for (let i = to - 1; i >= from; i--) {
      const pfn = got[i]!;
      ring[slot] = pfn;
      store.buddy_mark(pfn, flagged, slot);
      slot = (slot + 1) & mask;
    }
    this.pcpLens[order] = len0 + to - from;
    this.pcpCount += (to - from) << order;
  }

  private readonly refillScratch = new Int32Array(PCP_BATCH);

  /**
   * The buddy-list half of rmqueue_bulk(): up to `want` blocks of this order into got[at..), in the order
   * the lists give them, each source block's share a run of `runs` (given for order 0 only). Returns how many.
   */
  private rmqueue_bulk(order: number, want: number, got: Int32Array, at = 0, runs: UnitRuns | null = null): number {
    const lens = this.lens;
    let n = 0;
    while (n < want) {
      let o = order;
      while (o < NR_PAGE_ORDERS && lens[o] === 0) o++;
      if (o === NR_PAGE_ORDERS) {
        if (!this.grow()) break;
        continue;
      }
      const len = lens[o]! - 1;
      const pfn = this.lists[o]![len]!;
      lens[o] = len;
      // B's first page is taken: the per-cpu mark below overwrites its buddy-list mark (no clear needed).
      const units = 1 << (o - order);
      const take = Math.min(units, want - n);
      const first = at + n;
      for (let i = 0; i < take; i++) got[first + i] = pfn + (i << order);
      if (runs !== null) runs.add(got, first);
      n += take;
      // Splits the sequential loop makes: o - order for B, then ctz(k) for the block taken at unit k,
      // k = 1..take-1, whose sum is (take - 1) - popcount(take - 1).
      const splits = o - order + (take - 1) - popcount(take - 1);
      // What is left of B: from unit `take` up, the largest aligned block that fits, in increasing order.
      for (let k = take; k < units; ) {
        const j = 31 - Math.clz32(k & -k);
        this.list_add(pfn + (k << order), order + j);
        k += 1 << j;
      }
      this.stats.splits += splits;
    }
    return n;
  }

  private pcp_push(pfn: number, order: number): void {
    let ring = this.pcp[order]!;
    const len = this.pcpLens[order]!;
    if (len === ring.length) {
      // Grow the ring: unroll it into a buffer twice the size, cold end first.
      const start = this.pcpStart[order]!;
      const bigger = new Int32Array(ring.length * 2);
      for (let i = 0; i < len; i++) {
        bigger[i] = ring[(start + i) & (ring.length - 1)]!;
        this.store.buddy_set_pos(bigger[i]!, i);
      }
      this.pcp[order] = ring = bigger;
      this.pcpStart[order] = 0;
    }
    const slot = (this.pcpStart[order]! + len) & (ring.length - 1);
    ring[slot] = pfn;
    this.pcpLens[order] = len + 1;
    this.pcpCount += 1 << order;
    this.store.buddy_mark(pfn, order | PCP_FLAG, slot);
  }

  /** drain_all_pages(): give every per-cpu block back to the buddy lists, merging as they go. */
  drain_all_pages(): void {
    for (const o of PCP_ORDERS) this.pcp_drain(o, this.pcpLens[o]!);
  }

  /** free_pcppages_bulk(): the `count` coldest blocks of one per-cpu list go back to the buddy lists. */
  private pcp_drain(order: number, count: number): void {
    const ring = this.pcp[order]!;
    const len = this.pcpLens[order]!;
    const n = Math.min(count, len);
    if (n === 0) return;
    let start = this.pcpStart[order]!;
    for (let i = 0; i < n; i++) {
      const pfn = ring[start]!;
      start = (start + 1) & (ring.length - 1);
      this.store.buddy_clear(pfn);
      this.free_one_page(pfn, order);
    }
    this.pcpStart[order] = start;
    this.pcpLens[order] = len - n;
    this.pcpCount -= n << order;
    this.stats.pcp_drains++;
  }

  /** __rmqueue_smallest + expand: take the smallest free block that fits and split it down. */
  private rmqueue_smallest(order: number): number {
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
        return pfn;
      }
      if (!this.grow()) return -1;
    }
  }

  /** free_unref_page / __free_pages: per-cpu orders go to their list (drained in batches above the high mark), others merge now. */
  free(pfn: number, order: number): void {
    if (order < 0 || order > MAX_PAGE_ORDER || (pfn & ((1 << order) - 1)) !== 0 || pfn < 0 || pfn + (1 << order) > this.pfns) {
      throw new RangeError(`buddy: cannot free pfn ${pfn} order ${order}`);
    }
    if (this.store.buddy_order(pfn) >= 0) throw new Error(`buddy: double free of pfn ${pfn}`);
    this.freePages += 1 << order;
    this.stats.frees++;
    if (this.pcpOrder[order] === 1) {
      this.pcp_push(pfn, order);
      if (this.pcpCount > PCP_HIGH) for (const o of PCP_ORDERS) if (this.pcpCount > PCP_HIGH - PCP_BATCH) this.pcp_drain(o, Math.max(1, PCP_BATCH >> o));
      return;
    }
    this.free_one_page(pfn, order);
  }

  /** __free_one_page: merge with free buddies as far as they go, then put the block on its list. */
  private free_one_page(pfn: number, order: number): void {
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

  /** Visit every free block on the buddy lists and the per-cpu lists (flagged PCP_FLAG), not the deferred sections. */
  for_each_free_block(fn: (pfn: number, order: number, pos: number) => void): void {
    for (let o = 0; o < NR_PAGE_ORDERS; o++) {
      const list = this.lists[o]!;
      for (let i = 0; i < this.lens[o]!; i++) fn(list[i]!, o, i);
      const ring = this.pcp[o]!;
      for (let i = 0; i < this.pcpLens[o]!; i++) {
        const slot = (this.pcpStart[o]! + i) & (ring.length - 1);
        fn(ring[slot]!, o | PCP_FLAG, slot);
      }
    }
  }

  /** Pages sitting on per-cpu lists. */
  nr_pcp_pages(): number {
    return this.pcpCount;
  }

  deferred_sections(): number[] {
    return this.deferred.slice(this.deferredNext);
  }

  /** Host bytes of the free lists. */
  host_bytes(): number {
    let b = 0;
    for (const l of this.lists) b += l.byteLength;
    for (const l of this.pcp) b += l.byteLength;
    return b;
  }
}
