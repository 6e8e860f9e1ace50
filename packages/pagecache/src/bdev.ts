import * as fs from 'node:fs';
import { FsError } from './errors.js';
import type { FsStats } from './metrics.js';
import type { PageData } from './page-data.js';

/** Block-layer queue limits (include/linux/blkdev.h) plus the readahead window of the bdi. */
export interface DeviceProfile {
  name: string;
  /** max_sectors_kb * 2: the largest request in 512-byte sectors. */
  maxSectors: number;
  /** max_segments (BLK_MAX_SEGMENTS = 128). */
  maxSegments: number;
  /** max_segment_size (BLK_MAX_SEGMENT_SIZE = 65536). */
  maxSegmentSize: number;
  logicalBlockSize: number;
  /** read_ahead_kb of the bdi (VM_READAHEAD_PAGES = 128 KiB by default). */
  readAheadKb: number;
}

/** Defaults of a 6.x kernel for a device that sets no limits of its own (BLK_DEF_MAX_SECTORS_CAP = 2560). */
export const DEFAULT_DEVICE: DeviceProfile = {
  name: 'default',
  maxSectors: 2560,
  maxSegments: 128,
  maxSegmentSize: 65536,
  logicalBlockSize: 512,
  readAheadKb: 128,
};

/** Validate a device profile: every limit a positive whole number (read_ahead_kb may be 0). */
export function device_profile_check(p: DeviceProfile): DeviceProfile {
  for (const k of ['maxSectors', 'maxSegments', 'maxSegmentSize', 'logicalBlockSize', 'readAheadKb'] as const) {
    if (!Number.isSafeInteger(p[k]) || p[k] < (k === 'readAheadKb' ? 0 : 1)) throw new FsError('EINVAL', `device.${k}`, `${p[k]} is not a positive whole number`);
  }
  if (p.maxSectors * 512 < p.logicalBlockSize) throw new FsError('EINVAL', 'device.maxSectors', `${p.maxSectors} sectors is less than one logical block`);
  return p;
}

/** BIO_MAX_VECS */
export const BIO_MAX_VECS = 256;
/** bio_add_page() refuses to grow a bio past UINT_MAX bytes. */
const BIO_MAX_SIZE = 0xffffffff;

export const REQ_OP_READ = 0;
export const REQ_OP_WRITE = 1;

/**
 * A bio: a starting sector and up to maxVecs bio_vecs, each one physically contiguous run of memory
 * (multi-page bvecs). Pooled and reused: the simulator never allocates a bio per I/O.
 */
export class Bio {
  op = REQ_OP_READ;
  sector = 0;
  size = 0;
  vcnt = 0;
  maxVecs = BIO_MAX_VECS;
  readonly addr = new Float64Array(BIO_MAX_VECS);
  readonly len = new Int32Array(BIO_MAX_VECS);

  /** bio_end_sector() */
  end_sector(): number {
    return this.sector + this.size / 512;
  }
}

/**
 * A block device. In data mode it is a real image file read and written with pread/pwrite; in
 * metadata mode no bytes move. Either way it counts what the block layer would see: bios and bvecs
 * as submitted, segments and splits against the queue limits (bio_split_rw), and requests after
 * plug back-merging (blk_attempt_plug_merge against the last request of the plug).
 *
 * I/O completes synchronously inside submit_bio.
 */
export class BlockDevice {
  readonly profile: DeviceProfile;
  private readonly pool: Bio[] = [];
  private fd = -1;
  private plugDepth = 0;
  /** The last request in the plug: op, start sector, sectors, segments; lastSectors 0 = none. */
  private lastOp = -1;
  private lastStart = 0;
  private lastSectors = 0;
  private lastSegs = 0;
  data: PageData | null = null;

  constructor(
    readonly stats: FsStats,
    readonly bytes: number,
    profile: Partial<DeviceProfile> = {},
    readonly imagePath?: string,
  ) {
    this.profile = device_profile_check({ ...DEFAULT_DEVICE, ...profile });
    if (imagePath !== undefined) this.open_image(imagePath);
  }

  /**
   * Change queue limits and read_ahead_kb at run time, as writing /sys/block/<dev>/queue/* does
   * (a machine built elsewhere gets the limits of a recorded device). Validated as a whole first:
   * a bad field changes nothing.
   */
  set_profile(profile: Partial<DeviceProfile>): void {
    Object.assign(this.profile, device_profile_check({ ...this.profile, ...profile }));
  }

  private open_image(path: string): void {
    try {
      this.fd = fs.openSync(path, 'w+');
      fs.ftruncateSync(this.fd, this.bytes);
    } catch (e) {
      if (this.fd >= 0) fs.closeSync(this.fd);
      this.fd = -1;
      const why = e instanceof Error ? e.message.replace(/^[A-Z]+: /, '') : String(e);
      throw new FsError('EIMAGE', path, `cannot create the image file (${why})`);
    }
  }

  get data_mode(): boolean {
    return this.fd >= 0;
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }

  /** bdi->io_pages: the largest read the readahead code may issue for a big request, in pages. */
  io_pages(): number {
    return Math.max(1, (this.profile.maxSectors * 512) >> 12);
  }

  bio_alloc(op: number, sector: number, maxVecs: number): Bio {
    const b = this.pool.pop() ?? new Bio();
    b.op = op;
    b.sector = sector;
    b.size = 0;
    b.vcnt = 0;
    b.maxVecs = Math.max(1, Math.min(BIO_MAX_VECS, maxVecs));
    return b;
  }

  /**
   * bio_add_page()/bio_add_folio(): extend the last bvec when the range is physically contiguous with
   * it (bvec_try_merge_page), else use a new bvec. False when the vec array is full or the size would overflow.
   */
  bio_add(b: Bio, phys: number, len: number): boolean {
    if (b.size + len > BIO_MAX_SIZE) return false;
    const v = b.vcnt;
    if (v > 0 && b.addr[v - 1]! + b.len[v - 1]! === phys) {
      b.len[v - 1]! += len;
      b.size += len;
      return true;
    }
    if (v >= b.maxVecs) return false;
    b.addr[v] = phys;
    b.len[v] = len;
    b.vcnt = v + 1;
    b.size += len;
    return true;
  }

  blk_start_plug(): void {
    this.plugDepth++;
  }

  blk_finish_plug(): void {
    if (--this.plugDepth <= 0) {
      this.plugDepth = 0;
      this.lastSectors = 0;
    }
  }

  /** submit_bio(): count, split to the queue limits, merge into requests, move the bytes, complete. */
  submit_bio(b: Bio): void {
    const st = this.stats;
    if (b.size === 0) {
      this.pool.push(b);
      return;
    }
    st.data_bios++;
    st.data_bio_bytes += b.size;
    st.bio_size_hist[31 - Math.clz32(b.size)]!++;
    st.bvecs += b.vcnt;
    this.split_and_queue(b);
    if (this.fd >= 0 && this.data !== null) this.move_bytes(b);
    this.pool.push(b);
  }

  /**
   * bio_split_rw(): walk the bvecs cutting segments of at most max_segment_size; start a new piece when
   * the piece would exceed max_segments or max_sectors. Each piece becomes a request or back-merges
   * into the plug's last request.
   */
  private split_and_queue(b: Bio): void {
    const p = this.profile;
    const maxBytes = Math.floor((p.maxSectors * 512) / p.logicalBlockSize) * p.logicalBlockSize;
    let pieceBytes = 0;
    let pieceSegs = 0;
    let pieceSector = b.sector;
    let pieces = 0;
    for (let v = 0; v < b.vcnt; v++) {
      let left = b.len[v]!;
      while (left > 0) {
        const seg = Math.min(left, p.maxSegmentSize, maxBytes - pieceBytes);
        if (seg <= 0 || pieceSegs + 1 > p.maxSegments) {
          this.queue_piece(b.op, pieceSector, pieceBytes, pieceSegs);
          pieces++;
          pieceSector += pieceBytes / 512;
          pieceBytes = 0;
          pieceSegs = 0;
          continue;
        }
        pieceBytes += seg;
        pieceSegs++;
        left -= seg;
      }
    }
    if (pieceBytes > 0) {
      this.queue_piece(b.op, pieceSector, pieceBytes, pieceSegs);
      pieces++;
    }
    this.stats.detail.bio_splits += pieces - 1;
  }

  private queue_piece(op: number, sector: number, bytes: number, segs: number): void {
    const st = this.stats;
    const p = this.profile;
    const sectors = bytes / 512;
    st.detail.segments += segs;
    st.request_bytes += bytes;
    if (
      this.plugDepth > 0 &&
      this.lastSectors > 0 &&
      this.lastOp === op &&
      this.lastStart + this.lastSectors === sector &&
      this.lastSectors + sectors <= p.maxSectors &&
      this.lastSegs + segs <= p.maxSegments
    ) {
      this.lastSectors += sectors;
      this.lastSegs += segs;
      st.detail.bio_backmerges++;
      return;
    }
    st.requests++;
    this.lastOp = op;
    this.lastStart = sector;
    this.lastSectors = this.plugDepth > 0 ? sectors : 0;
    this.lastSegs = segs;
  }

  private move_bytes(b: Bio): void {
    const data = this.data!;
    let pos = b.sector * 512;
    if (pos + b.size > this.bytes) throw new FsError('EIO', this.imagePath ?? 'device', `I/O at ${pos}+${b.size} past the end of the device (${this.bytes} bytes)`);
    for (let v = 0; v < b.vcnt; v++) {
      const len = b.len[v]!;
      if (b.op === REQ_OP_WRITE) data.write_to(this.fd, b.addr[v]!, len, pos, this.imagePath!);
      else data.read_from(this.fd, b.addr[v]!, len, pos);
      pos += len;
    }
  }
}
