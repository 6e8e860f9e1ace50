import { BlockAllocator } from './balloc.js';
import { FsError } from './errors.js';
import { EXT_DELALLOC, EXT_HOLE, EXT_MAPPED, EXT_UNWRITTEN, ExtentMap, new_mapping, type BlockMapping } from './extent-map.js';

export interface SimFsOptions {
  blockSize: number;
  /** Device size in bytes (a multiple of the block size). */
  deviceBytes: number;
  /** Average extent length in blocks; 0 = allocate as contiguously as free space allows. */
  fragmentation?: number;
  seed?: number;
}

/** Validate a block size: a power of two from 512 B to 64 KiB. */
export function check_block_size(bs: unknown, field = 'blockSize'): number {
  if (typeof bs !== 'number' || !Number.isSafeInteger(bs) || bs <= 0) throw new FsError('EINVAL', field, `${String(bs)} is not a positive whole number of bytes`);
  if ((bs & (bs - 1)) !== 0) throw new FsError('EINVAL', field, `${bs} is not a power of two`);
  if (bs < 512 || bs > 65536) throw new FsError('EINVAL', field, `${bs} is outside 512 B..64 KiB`);
  return bs;
}

const MAX_LBLK = 2 ** 40;

/**
 * simfs: inodes with extent maps over a BlockAllocator. Sizes: i_size (in memory) and the on-disk
 * size (i_disksize), which only writeback, fsync and metadata operations move. A crash keeps the
 * on-disk state: mapped and unwritten extents and i_disksize; delayed allocations vanish.
 *
 * The maximum file size is min(blockSize * 2^32, 2^43) bytes: 32-bit logical block numbers as ext4,
 * capped so that every page index fits in 31 bits.
 */
export class SimFs {
  readonly blockSize: number;
  readonly blkbits: number;
  readonly maxFileSize: number;
  readonly balloc: BlockAllocator;
  readonly names = new Map<string, number>();
  private readonly inodeNames: string[] = [];
  isize = new Float64Array(16);
  disksize = new Float64Array(16);
  readonly extents: ExtentMap[] = [];
  /** Per-inode mapping sequence count: bumped on every extent change (iomap's validity_cookie). */
  seq: number[] = [];
  private readonly scratch = new_mapping();

  constructor(opts: SimFsOptions) {
    this.blockSize = check_block_size(opts.blockSize);
    this.blkbits = 31 - Math.clz32(this.blockSize);
    if (!Number.isSafeInteger(opts.deviceBytes) || opts.deviceBytes < this.blockSize || opts.deviceBytes % this.blockSize !== 0) {
      throw new FsError('EINVAL', 'deviceBytes', `${opts.deviceBytes} is not a positive multiple of the block size ${this.blockSize}`);
    }
    this.maxFileSize = Math.min(this.blockSize * 2 ** 32, 2 ** 43);
    this.balloc = new BlockAllocator(opts.deviceBytes / this.blockSize, opts.fragmentation ?? 0, opts.seed ?? 1);
  }

  get nr_inodes(): number {
    return this.extents.length;
  }

  create(name: string): number {
    const ino = this.extents.length;
    if (ino === this.isize.length) {
      const a = new Float64Array(ino * 2);
      a.set(this.isize);
      this.isize = a;
      const d = new Float64Array(ino * 2);
      d.set(this.disksize);
      this.disksize = d;
    }
    this.extents.push(new ExtentMap());
    this.seq.push(0);
    this.inodeNames.push(name);
    this.names.set(name, ino);
    return ino;
  }

  name_of(ino: number): string {
    return this.inodeNames[ino] ?? `#${ino}`;
  }

  map(ino: number, lblk: number, maxLen: number, out: BlockMapping): BlockMapping {
    return this.extents[ino]!.lookup(lblk, maxLen, out);
  }

  /** Turn the holes of [lblk, lblk+len) into delayed allocations. Returns the blocks reserved. */
  reserve_delalloc(ino: number, lblk: number, len: number): number {
    const em = this.extents[ino]!;
    const m = this.scratch;
    let reserved = 0;
    for (let l = lblk; l < lblk + len; ) {
      em.lookup(l, lblk + len - l, m);
      if (m.state === EXT_HOLE) {
        em.set(l, m.len, EXT_DELALLOC, -1);
        reserved += m.len;
        this.seq[ino]!++;
      }
      l += m.len;
    }
    return reserved;
  }

  /**
   * Allocate physical blocks for the first part of [lblk, lblk+len) (which must be a hole or delalloc):
   * one allocator call, so fragmentation may return fewer blocks. Returns the first physical block;
   * the count is in lastLen.
   */
  lastLen = 0;
  alloc_blocks(ino: number, lblk: number, len: number, unwritten: boolean): number {
    const em = this.extents[ino]!;
    const m = em.lookup(lblk, len, this.scratch);
    if (m.state === EXT_MAPPED || m.state === EXT_UNWRITTEN) throw new Error(`simfs: alloc_blocks over mapped block ${lblk} of inode ${ino}`);
    const want = m.len;
    let goal = -1;
    if (lblk > 0) {
      const prev = em.lookup(lblk - 1, 1, m).state as number;
      if (prev === EXT_MAPPED || prev === EXT_UNWRITTEN) goal = m.pblk + 1;
    }
    const pb = this.balloc.alloc(want, goal);
    const got = this.balloc.lastLen;
    em.set(lblk, got, unwritten ? EXT_UNWRITTEN : EXT_MAPPED, pb);
    this.seq[ino]!++;
    this.lastLen = got;
    return pb;
  }

  /** Unwritten -> written for [lblk, lblk+len) (I/O completion). Returns the number of extents converted. */
  convert_unwritten(ino: number, lblk: number, len: number): number {
    const em = this.extents[ino]!;
    const m = this.scratch;
    let n = 0;
    for (let l = lblk; l < lblk + len; ) {
      em.lookup(l, lblk + len - l, m);
      if (m.state === EXT_UNWRITTEN) {
        em.set(l, m.len, EXT_MAPPED, m.pblk);
        n++;
        this.seq[ino]!++;
      }
      l += m.len;
    }
    return n;
  }

  /** Free every block at or after lblk (truncate). Returns the delalloc blocks dropped. */
  truncate_blocks(ino: number, lblk: number): number {
    this.seq[ino]!++;
    return this.extents[ino]!.punch(lblk, MAX_LBLK - lblk, (pb, n) => this.balloc.release(pb, n));
  }

  /** Forget what was only in memory: delayed allocations and i_size beyond the on-disk size. */
  crash(): void {
    for (let ino = 0; ino < this.extents.length; ino++) {
      this.extents[ino]!.drop_delalloc();
      this.seq[ino]!++;
      this.isize[ino] = this.disksize[ino]!;
    }
  }
}
