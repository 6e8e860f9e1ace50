const SHIFT = 9;
const SLOTS = 1 << SHIFT;
const MASK = SLOTS - 1;
/** Per-chunk counters after the slots: present pages, dirty folios (heads in this chunk). */
const NR_PRESENT = SLOTS;
const NR_DIRTY = SLOTS + 1;

/**
 * The page cache index of one address_space: page index -> folio id, in 512-slot Int32Array chunks
 * (a two-level radix tree; a large folio occupies one slot per page, as a multi-index xarray entry
 * resolves every index it covers). Slots hold folio id + 1 (0 = empty). Chunk keys are kept sorted
 * so that ordered walks (writeback, truncate) visit chunks in index order.
 *
 * Invariants: slot i holds f+1 iff index i lies in [folio_index(f), folio_index(f)+nr_pages(f));
 * chunk[NR_PRESENT] counts its non-empty slots; chunk[NR_DIRTY] counts its dirty folio heads (the
 * xarray's PAGECACHE_TAG_DIRTY, kept as a count so walks can skip clean chunks).
 */
export class PageIndex {
  private readonly chunks = new Map<number, Int32Array>();
  private keys: number[] = [];
  nrpages = 0;
  nrDirty = 0;

  get(index: number): number {
    const c = this.chunks.get(index >>> SHIFT);
    return c === undefined ? -1 : c[index & MASK]! - 1;
  }

  private chunk_for(k: number): Int32Array {
    let c = this.chunks.get(k);
    if (c === undefined) {
      c = new Int32Array(SLOTS + 2);
      this.chunks.set(k, c);
      this.keys.splice(this.key_at_or_after(k), 0, k);
    }
    return c;
  }

  /** True when no slot of [index, index+nr) is occupied. */
  range_empty(index: number, nr: number): boolean {
    for (let i = index; i < index + nr; ) {
      const c = this.chunks.get(i >>> SHIFT);
      const stop = Math.min(index + nr, ((i >>> SHIFT) + 1) << SHIFT);
      if (c !== undefined && c[NR_PRESENT]! > 0) {
        for (let j = i; j < stop; j++) if (c[j & MASK] !== 0) return false;
      }
      i = stop;
    }
    return true;
  }

  insert(index: number, nr: number, folio: number): void {
    for (let i = index; i < index + nr; i++) {
      const c = this.chunk_for(i >>> SHIFT);
      c[i & MASK] = folio + 1;
      c[NR_PRESENT]!++;
    }
    this.nrpages += nr;
  }

  remove(index: number, nr: number): void {
    for (let i = index; i < index + nr; i++) {
      const k = i >>> SHIFT;
      const c = this.chunks.get(k)!;
      c[i & MASK] = 0;
      if (--c[NR_PRESENT]! === 0) {
        this.chunks.delete(k);
        const at = this.keys.indexOf(k);
        if (at >= 0) this.keys.splice(at, 1);
      }
    }
    this.nrpages -= nr;
  }

  /** Account a folio head at index becoming dirty (+1) or clean (-1). */
  tag_dirty(index: number, d: number): void {
    this.chunks.get(index >>> SHIFT)![NR_DIRTY]! += d;
    this.nrDirty += d;
  }

  /** The first occupied index >= from and <= last, or -1. */
  next_present(from: number, last: number): number {
    let ki = this.key_at_or_after(from >>> SHIFT);
    for (; ki < this.keys.length; ki++) {
      const k = this.keys[ki]!;
      if (k << SHIFT > last) return -1;
      const c = this.chunks.get(k)!;
      const lo = Math.max(from, k << SHIFT);
      const hi = Math.min(last, (k << SHIFT) + MASK);
      for (let i = lo; i <= hi; i++) if (c[i & MASK] !== 0) return i;
    }
    return -1;
  }

  /** The first index >= from and <= last whose folio is a dirty-tagged head, or -1. isDirtyHead(f, index) decides. */
  next_dirty(from: number, last: number, isDirtyHead: (f: number, index: number) => boolean): number {
    let ki = this.key_at_or_after(from >>> SHIFT);
    for (; ki < this.keys.length; ki++) {
      const k = this.keys[ki]!;
      if (k << SHIFT > last) return -1;
      const c = this.chunks.get(k)!;
      if (c[NR_DIRTY] === 0) continue;
      const lo = Math.max(from, k << SHIFT);
      const hi = Math.min(last, (k << SHIFT) + MASK);
      for (let i = lo; i <= hi; i++) {
        const f = c[i & MASK]! - 1;
        if (f >= 0 && isDirtyHead(f, i)) return i;
      }
    }
    return -1;
  }

  private key_at_or_after(k: number): number {
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.keys[mid]! < k) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Host bytes of the index (chunks of 514 int32). */
  host_bytes(): number {
    return this.chunks.size * (SLOTS + 2) * 4;
  }
}
