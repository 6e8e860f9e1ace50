/**
 * One inode's extent map: logical block -> physical block runs, sorted by logical block, in typed
 * arrays. Holes are implicit (no extent). Delayed-allocation extents carry no physical block (-1).
 *
 * Invariants: extents are sorted, never overlap, have len >= 1; two neighbours are never mergeable
 * (same state, logically adjacent and, unless delalloc, physically adjacent): set() merges them.
 */
export const EXT_HOLE = 0;
export const EXT_DELALLOC = 1;
export const EXT_MAPPED = 2;
export const EXT_UNWRITTEN = 3;
export type ExtentState = 0 | 1 | 2 | 3;
export const EXTENT_STATE_NAMES = ['hole', 'delalloc', 'mapped', 'unwritten'] as const;

/** A lookup result, reused by callers (no allocation per lookup). */
export interface BlockMapping {
  state: ExtentState;
  /** First physical block, -1 for holes and delalloc. */
  pblk: number;
  /** Blocks in this run from the looked-up block (same state, physically contiguous). */
  len: number;
}

export function new_mapping(): BlockMapping {
  return { state: EXT_HOLE, pblk: -1, len: 0 };
}

export class ExtentMap {
  n = 0;
  lblk = new Float64Array(8);
  pblk = new Float64Array(8);
  len = new Float64Array(8);
  state = new Uint8Array(8);

  /** Index of the last extent starting at or before l, or -1. */
  find(l: number): number {
    let lo = 0;
    let hi = this.n - 1;
    let ans = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.lblk[mid]! <= l) {
        ans = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return ans;
  }

  /** Map block l for at most maxLen blocks. */
  lookup(l: number, maxLen: number, out: BlockMapping): BlockMapping {
    const i = this.find(l);
    if (i >= 0 && this.lblk[i]! + this.len[i]! > l) {
      const off = l - this.lblk[i]!;
      out.state = this.state[i]! as ExtentState;
      out.pblk = out.state === EXT_DELALLOC ? -1 : this.pblk[i]! + off;
      out.len = Math.min(this.len[i]! - off, maxLen);
      return out;
    }
    out.state = EXT_HOLE;
    out.pblk = -1;
    out.len = i + 1 < this.n ? Math.min(this.lblk[i + 1]! - l, maxLen) : maxLen;
    return out;
  }

  private ensure(cap: number): void {
    if (cap <= this.lblk.length) return;
    const c = Math.max(cap, this.lblk.length * 2);
    const g = <T extends Float64Array | Uint8Array>(a: T, mk: (n: number) => T): T => {
      const b = mk(c);
      b.set(a);
      return b;
    };
    this.lblk = g(this.lblk, (n) => new Float64Array(n));
    this.pblk = g(this.pblk, (n) => new Float64Array(n));
    this.len = g(this.len, (n) => new Float64Array(n));
    this.state = g(this.state, (n) => new Uint8Array(n));
  }

  /** Replace extents [j0, j1) by the k items in the scratch arrays. */
  private splice(j0: number, j1: number, k: number): void {
    const delta = k - (j1 - j0);
    if (delta !== 0) {
      this.ensure(this.n + delta);
      for (const a of [this.lblk, this.pblk, this.len, this.state] as const) a.copyWithin(j1 + delta, j1, this.n);
      this.n += delta;
    }
    for (let t = 0; t < k; t++) {
      this.lblk[j0 + t] = SL[t]!;
      this.pblk[j0 + t] = SP[t]!;
      this.len[j0 + t] = SN[t]!;
      this.state[j0 + t] = SS[t]!;
    }
  }

  /**
   * Remove [l, l+len) from the map and optionally put one new extent there. onFree receives every
   * physical run (mapped or unwritten) that leaves the map; the return value counts removed delalloc blocks.
   */
  private replace(l: number, len: number, st: ExtentState, pb: number, onFree?: (pblk: number, len: number) => void): number {
    const end = l + len;
    let j0 = this.find(l);
    if (j0 < 0 || this.lblk[j0]! + this.len[j0]! <= l) j0++;
    let j1 = j0;
    let k = 0;
    let delalloc = 0;
    let newAt = -1;
    while (j1 < this.n && this.lblk[j1]! < end) {
      const s = this.lblk[j1]!;
      const e = s + this.len[j1]!;
      const est = this.state[j1]!;
      const ep = this.pblk[j1]!;
      if (s < l) push(s, ep, l - s, est);
      if (st !== EXT_HOLE && newAt < 0 && e >= l) {
        newAt = k;
        push(l, pb, len, st);
      }
      const cs = Math.max(s, l);
      const ce = Math.min(e, end);
      if (est === EXT_DELALLOC) delalloc += ce - cs;
      else if (onFree) onFree(ep + (cs - s), ce - cs);
      if (e > end) push(end, est === EXT_DELALLOC ? -1 : ep + (end - s), e - end, est);
      j1++;
    }
    if (st !== EXT_HOLE && newAt < 0) {
      newAt = k;
      push(l, pb, len, st);
    }
    this.splice(j0, j1, k);
    if (newAt >= 0) this.merge_around(j0 + newAt);
    return delalloc;

    function push(a: number, b: number, c: number, d: number): void {
      SL[k] = a;
      SP[k] = b;
      SN[k] = c;
      SS[k] = d;
      k++;
    }
  }

  private mergeable(i: number, j: number): boolean {
    if (this.state[i] !== this.state[j] || this.lblk[i]! + this.len[i]! !== this.lblk[j]!) return false;
    return this.state[i] === EXT_DELALLOC || this.pblk[i]! + this.len[i]! === this.pblk[j]!;
  }

  private merge_around(i: number): void {
    if (i + 1 < this.n && this.mergeable(i, i + 1)) {
      this.len[i]! += this.len[i + 1]!;
      this.remove_at(i + 1);
    }
    if (i > 0 && this.mergeable(i - 1, i)) {
      this.len[i - 1]! += this.len[i]!;
      this.remove_at(i);
    }
  }

  private remove_at(i: number): void {
    for (const a of [this.lblk, this.pblk, this.len, this.state] as const) a.copyWithin(i, i + 1, this.n);
    this.n--;
  }

  /** Map [l, l+len) to state (and physical blocks from pb). Returns removed delalloc blocks. */
  set(l: number, len: number, st: ExtentState, pb: number, onFree?: (pblk: number, len: number) => void): number {
    return this.replace(l, len, st, st === EXT_DELALLOC ? -1 : pb, onFree);
  }

  /** Punch [l, l+len) to a hole. Returns removed delalloc blocks. */
  punch(l: number, len: number, onFree?: (pblk: number, len: number) => void): number {
    return this.replace(l, len, EXT_HOLE, -1, onFree);
  }

  /** Drop every delalloc extent (a crash loses in-memory reservations). Returns blocks dropped. */
  drop_delalloc(): number {
    let w = 0;
    let dropped = 0;
    for (let r = 0; r < this.n; r++) {
      if (this.state[r] === EXT_DELALLOC) {
        dropped += this.len[r]!;
        continue;
      }
      this.lblk[w] = this.lblk[r]!;
      this.pblk[w] = this.pblk[r]!;
      this.len[w] = this.len[r]!;
      this.state[w] = this.state[r]!;
      w++;
    }
    this.n = w;
    return dropped;
  }

  /** Number of extents of the given state overlapping [l, l+len). */
  count_in(l: number, len: number, st?: ExtentState): number {
    let i = this.find(l);
    if (i < 0 || this.lblk[i]! + this.len[i]! <= l) i++;
    let c = 0;
    for (; i < this.n && this.lblk[i]! < l + len; i++) if (st === undefined || this.state[i] === st) c++;
    return c;
  }
}

// Scratch for replace(): at most 3 items (left remnant, new extent, right remnant) plus kept pieces.
const SL = new Float64Array(8);
const SP = new Float64Array(8);
const SN = new Float64Array(8);
const SS = new Uint8Array(8);
