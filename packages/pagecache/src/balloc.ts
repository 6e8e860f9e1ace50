import { FsError } from './errors.js';
import { Prng } from './prng.js';

/**
 * The block allocator of simfs: a bitmap of the device's blocks and a next-fit goal, like mballoc's
 * goal-directed search. `avgExtentBlocks` is the fragmentation parameter: 0 allocates as long a run
 * as is free; N > 0 cuts every allocation into pieces whose lengths are drawn (seeded) around a mean
 * of N blocks, leaving a free gap after each piece so consecutive pieces are not physically adjacent.
 *
 * Invariant: bit b is set iff block b belongs to exactly one extent of one inode; `free` counts clear bits.
 */
export class BlockAllocator {
  private readonly bits: Uint32Array;
  free: number;
  private goal = 0;
  private readonly rng: Prng;

  constructor(
    readonly nblocks: number,
    readonly avgExtentBlocks: number,
    seed: number,
  ) {
    if (!Number.isSafeInteger(avgExtentBlocks) || avgExtentBlocks < 0) {
      throw new FsError('EINVAL', 'fragmentation', `${avgExtentBlocks} is not a whole number of blocks >= 0 (0 = unfragmented)`);
    }
    this.bits = new Uint32Array(Math.ceil(nblocks / 32));
    this.free = nblocks;
    this.rng = new Prng(seed ^ 0x5eed_b10c);
  }

  test(b: number): boolean {
    return (this.bits[b >>> 5]! & (1 << (b & 31))) !== 0;
  }

  private set_range(b: number, n: number, on: boolean): void {
    for (let i = b; i < b + n; ) {
      const w = i >>> 5;
      const bit = i & 31;
      if (bit === 0 && i + 32 <= b + n) {
        this.bits[w] = on ? 0xffffffff : 0;
        i += 32;
        continue;
      }
      if (on) this.bits[w]! |= 1 << bit;
      else this.bits[w]! &= ~(1 << bit);
      i++;
    }
  }

  private next_free(from: number): number {
    let b = from;
    while (b < this.nblocks) {
      const w = this.bits[b >>> 5]!;
      if (w === 0xffffffff && (b & 31) === 0) {
        b += 32;
        continue;
      }
      if ((w & (1 << (b & 31))) === 0) return b;
      b++;
    }
    return -1;
  }

  /** Length of the free run starting at b, at most max. */
  private free_run(b: number, max: number): number {
    let n = 0;
    while (n < max && b + n < this.nblocks && !this.test(b + n)) n++;
    return n;
  }

  /**
   * Allocate up to `want` blocks near `goal` (-1: the allocator's own cursor). Returns the first block;
   * the length is in lastLen. Throws ENOSPC when nothing is free.
   */
  lastLen = 0;
  alloc(want: number, goal = -1): number {
    if (this.free === 0) throw new FsError('ENOSPC', 'device', `no free blocks left of ${this.nblocks}`);
    let limit = want;
    if (this.avgExtentBlocks > 0) {
      // Exponential piece lengths with the requested mean, at least 1 block.
      const piece = 1 + Math.floor(-Math.log(1 - this.rng.next()) * (this.avgExtentBlocks - 1));
      limit = Math.min(want, piece);
    }
    // A fragmented device ignores the caller's contiguity hint: pieces land where the cursor (with its gaps) is.
    if (this.avgExtentBlocks > 0) goal = -1;
    let start = goal >= 0 && goal < this.nblocks && !this.test(goal) ? goal : this.next_free(goal >= 0 && goal < this.nblocks ? goal : this.goal);
    if (start < 0) start = this.next_free(0);
    const n = this.free_run(start, limit);
    this.set_range(start, n, true);
    this.free -= n;
    this.goal = start + n;
    if (this.avgExtentBlocks > 0) this.goal += 1 + this.rng.below(Math.max(1, this.avgExtentBlocks));
    if (this.goal >= this.nblocks) this.goal = 0;
    this.lastLen = n;
    return start;
  }

  release(b: number, n: number): void {
    this.set_range(b, n, false);
    this.free += n;
  }
}
