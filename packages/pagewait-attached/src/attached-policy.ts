import { PG_locked, PG_writeback, type WaitEnv, type WaitPolicy } from '@foliolab/pagewait';
import { PAGE_WAIT_BYTES, WAITABLE_BITS_DEFAULT } from './page-wait.js';

/**
 * The tag that marks `mapping` as pointing at a page_wait. The seed says "the lowest significant bit";
 * bits 0 and 1 of `mapping` already mean PAGE_MAPPING_ANON / PAGE_MAPPING_MOVABLE (both: KSM), so the
 * model uses bit 2, the lowest bit still free in an 8-byte-aligned pointer. The costs counted do not
 * depend on which bit it is.
 */
export const PAGE_MAPPING_WAIT = 0x4;
/** Where the model's page_wait objects live (kmalloc-128 spacing), below 2^53 and apart from the host's mappings. */
export const PAGE_WAIT_ARENA_BASE = 0x7e00_0000_0000;
export const PAGE_WAIT_STRIDE = 128;

/** Whether a mapping value carries the page_wait tag (exact for integers below 2^53). */
export function mappingIsWaitTagged(mapping: number): boolean {
  return Math.floor(mapping / PAGE_MAPPING_WAIT) % 2 === 1;
}

const NB = WAITABLE_BITS_DEFAULT;

/**
 * Glisse 2018: a folio that somebody waits on gets its own page_wait, reached by replacing
 * folio->mapping with a tagged pointer to it; the original mapping is saved inside. The last waiter to
 * leave restores it. While tagged, every consumer access to `mapping` follows one more pointer, and the
 * truncate path's identity checks and writes must see through the tag.
 *
 * Invariant: a folio's mapping is tagged iff it has a live page_wait iff at least one entry is queued on
 * that page_wait's queues (a page_wait is freed in the same wake that empties it).
 */
export class AttachedWaitPolicy implements WaitPolicy {
  readonly name = 'attached';
  private env!: WaitEnv;
  private firstHead = 0;
  /** page_wait.base.mapping, per slot. */
  private saved!: Float64Array;
  private slotFolio!: Int32Array;
  private free!: Int32Array;
  private nfree = 0;
  private live = 0;
  private peakLive = 0;

  bind(env: WaitEnv): void {
    this.env = env;
    // A live page_wait has at least one queued entry and every entry is one task's: nrTasks bounds them.
    const n = env.nrTasks;
    this.firstHead = env.arena.allocHeads(n * NB);
    this.saved = new Float64Array(n);
    this.slotFolio = new Int32Array(n).fill(-1);
    this.free = new Int32Array(n);
    for (let i = 0; i < n; i++) this.free[i] = n - 1 - i; // pop lowest slot first
    this.nfree = n;
  }

  private static bitIndex(bit: number): number {
    if (bit === PG_locked) return 0;
    if (bit === PG_writeback) return 1;
    throw new RangeError(`pagewait-attached: page_wait has no queue for page-flag bit ${bit} (PG_locked and PG_writeback only)`);
  }

  /** The page_wait slot the folio's mapping points to, or -1. This read is the mechanism's own, uncounted. */
  slotOf(folio: number): number {
    const m = this.env.host.mappingRead(folio);
    if (!mappingIsWaitTagged(m)) return -1;
    return (m - PAGE_MAPPING_WAIT - PAGE_WAIT_ARENA_BASE) / PAGE_WAIT_STRIDE;
  }

  enqueue(w: number): void {
    const env = this.env;
    const folio = env.waiterFolio[w];
    const bi = AttachedWaitPolicy.bitIndex(env.waiterBit[w]);
    let s = this.slotOf(folio);
    if (s < 0) {
      // First waiter: attach a page_wait and tag mapping (cmpxchg(page->mapping, mapping, special_wait)).
      if (this.nfree === 0) throw new Error('pagewait-attached: page_wait pool exhausted (more live page_waits than tasks)');
      s = this.free[--this.nfree];
      this.saved[s] = env.host.mappingRead(folio);
      this.slotFolio[s] = folio;
      env.host.mappingWrite(folio, PAGE_WAIT_ARENA_BASE + s * PAGE_WAIT_STRIDE + PAGE_MAPPING_WAIT);
      if (++this.live > this.peakLive) this.peakLive = this.live;
    }
    const len = env.arena.addTail(this.firstHead + s * NB + bi, w);
    if (len > env.counters.longestQueue) env.counters.longestQueue = len;
  }

  wake(folio: number, bit: number): void {
    const env = this.env;
    const s = this.slotOf(folio);
    if (s < 0) {
      // PG_waiters was set by a waiter that never queued (folio_trylock_flag succeeded): nobody waits.
      env.clearWaiters(folio);
      return;
    }
    const heads = this.firstHead + s * NB;
    env.walk(heads + AttachedWaitPolicy.bitIndex(bit), folio, bit, false);
    for (let i = 0; i < NB; i++) if (env.arena.active(heads + i)) return;
    // Last waiter gone: restore the (possibly updated) mapping and free the page_wait.
    env.host.mappingWrite(folio, this.saved[s]);
    this.slotFolio[s] = -1;
    this.free[this.nfree++] = s;
    this.live--;
    env.clearWaiters(folio);
  }

  mappingRead(folio: number): number {
    const s = this.slotOf(folio);
    if (s < 0) return this.env.host.mappingRead(folio);
    this.env.counters.mappingIndirections++;
    return this.saved[s];
  }

  mappingIdentity(folio: number, expected: number, site: number): boolean {
    const s = this.slotOf(folio);
    if (s < 0) return this.env.host.mappingRead(folio) === expected;
    this.seeThrough(site);
    return this.saved[s] === expected;
  }

  mappingWrite(folio: number, value: number, site: number): void {
    if (mappingIsWaitTagged(value)) throw new RangeError(`pagewait-attached: mapping value ${value} carries the page_wait tag bit`);
    const s = this.slotOf(folio);
    if (s < 0) {
      this.env.host.mappingWrite(folio, value);
      return;
    }
    this.seeThrough(site);
    this.saved[s] = value;
  }

  private seeThrough(site: number): void {
    const c = this.env.counters;
    c.mappingIndirections++;
    c.truncateSeeThroughs++;
    c.seeThroughBySite[site]++;
  }

  staticTableBytes(): number {
    return 0;
  }

  attachedBytes(): number {
    return this.live * PAGE_WAIT_BYTES;
  }

  peakAttachedBytes(): number {
    return this.peakLive * PAGE_WAIT_BYTES;
  }

  /** Live page_waits right now. */
  livePageWaits(): number {
    return this.live;
  }

  /** Entries per queue of every live page_wait (PG_locked queue, then PG_writeback queue, per slot in slot order). */
  queueLengths(): Int32Array {
    const out: number[] = [];
    for (let s = 0; s < this.slotFolio.length; s++) {
      if (this.slotFolio[s] < 0) continue;
      for (let i = 0; i < NB; i++) out.push(this.env.arena.queueLen[this.firstHead + s * NB + i]);
    }
    return Int32Array.from(out);
  }
}

export function createAttachedWaitPolicy(): AttachedWaitPolicy {
  return new AttachedWaitPolicy();
}
