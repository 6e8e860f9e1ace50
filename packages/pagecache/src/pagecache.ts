import {
  PAGE_SHIFT,
  PAGE_SIZE,
  PG_dirty,
  PG_locked,
  PG_lru,
  PG_private,
  PG_uptodate,
  PG_writeback,
  PageType,
  field_get,
  field_set,
  type CoreFolioFields,
  type Memmap,
} from '@foliolab/memmap';
import { BlockDevice, type DeviceProfile } from './bdev.js';
import { FsError } from './errors.js';
import { WB_SYNC_ALL, WB_SYNC_NONE, type BlockMapper, type ReadaheadBatch, type WritebackControl } from './mapper.js';
import { FsStats } from './metrics.js';
import { PageData } from './page-data.js';
import { PageIndex } from './page-index.js';
import { Readahead } from './readahead.js';
import { SimFs, check_block_size } from './simfs.js';

export interface PageCacheOptions {
  memmap: Memmap;
  mapper: BlockMapper;
  /** fs block size in bytes: a power of two, 512 B..64 KiB. */
  blockSize: number;
  /** Largest folio in bytes (default 2 MiB, MAX_PAGECACHE_ORDER); the backend may allow less. */
  folioMax?: number;
  /** 'metadata' (default): no bytes move. 'data': real bytes, an image file at `image`. */
  mode?: 'metadata' | 'data';
  image?: string;
  /** Device size in bytes (default 8 GiB; the image file is sparse). */
  deviceBytes?: number;
  /** Average extent length in blocks (0 = unfragmented). */
  fragmentation?: number;
  seed?: number;
  device?: Partial<DeviceProfile>;
  /** read_ahead_kb (overrides device.readAheadKb). */
  readAheadKb?: number;
  /** Cap on cached pages: reclaim starts above it (default: no cap besides memory itself). */
  maxCachePages?: number;
  /** dirty_background threshold in pages (default 10 % of memory); Infinity = never write back in the background. */
  dirtyBackgroundPages?: number;
}

/** Per-inode page cache state: the address_space and the file's readahead state (file_ra_state). */
export class AddressSpace {
  readonly index = new PageIndex();
  raStart = 0;
  raSize = 0;
  raAsync = 0;
  raOrder = 0;
  prevPos = -1;
  constructor(readonly ino: number) {}
}

const MAX_PAGECACHE_ORDER = 9;
const PAGEVEC_SIZE = 31;

/**
 * The page cache over simfs and a block device, with a BlockMapper backend.
 *
 * Folio fields used: flags (PG_locked, PG_uptodate, PG_dirty, PG_writeback, PG_private, PG_lru,
 * PG_readahead), `mapping` ((ino + 1) << 2, so the low tag bits stay clear as for a pointer), `index`
 * (first page index) and `private` (backend state id + 1). The cache holds one reference per folio.
 *
 * Invariants: a folio is in exactly one index at the pages it covers; PG_dirty on a cached folio
 * iff it is counted in its index's dirty tag; cached bytes beyond i_size are zero; a folio marked
 * uptodate holds the file's current bytes.
 */
export class PageCache {
  readonly mm: Memmap;
  readonly core: CoreFolioFields;
  readonly mapper: BlockMapper;
  readonly fs: SimFs;
  readonly bdev: BlockDevice;
  readonly stats = new FsStats();
  readonly data: PageData | null;
  readonly blockSize: number;
  readonly blkbits: number;
  /** mapping_min_folio_order (block size > page size) and the max the backend and folioMax allow. */
  readonly minOrder: number;
  readonly maxOrder: number;
  readonly spaces: AddressSpace[] = [];
  readonly ra: Readahead;
  readonly maxCachePages: number;
  readonly dirtyBackgroundPages: number;
  nrCachePages = 0;
  nrDirtyPages = 0;
  private lru = new Int32Array(1024);
  private lruHead = 0;
  private lruTail = 0;
  private readonly open = new Set<number>();
  private inReclaim = false;
  private readonly wbcs: WritebackControl[] = [];

  constructor(opts: PageCacheOptions) {
    this.mm = opts.memmap;
    this.core = this.mm.layout.core;
    this.mapper = opts.mapper;
    this.blockSize = check_block_size(opts.blockSize);
    this.blkbits = 31 - Math.clz32(this.blockSize);
    const folioMax = opts.folioMax ?? PAGE_SIZE << MAX_PAGECACHE_ORDER;
    if (!Number.isSafeInteger(folioMax) || folioMax < PAGE_SIZE || (folioMax & (folioMax - 1)) !== 0 || folioMax > PAGE_SIZE << 10) {
      throw new FsError('EINVAL', 'folioMax', `${folioMax} is not a power of two from 4 KiB to 4 MiB`);
    }
    this.minOrder = Math.max(0, this.blkbits - PAGE_SHIFT);
    const wanted = 31 - Math.clz32(folioMax / PAGE_SIZE);
    this.maxOrder = Math.max(this.minOrder, Math.min(wanted, this.mapper.maxFolioOrder));
    const mode = opts.mode ?? 'metadata';
    if (mode !== 'metadata' && mode !== 'data') throw new FsError('EINVAL', 'mode', `${String(mode)} is not metadata or data`);
    if (mode === 'data' && (opts.image === undefined || opts.image === '')) throw new FsError('EINVAL', 'image', 'data mode needs the path of an image file');
    const deviceBytes = opts.deviceBytes ?? 8 * 2 ** 30;
    this.fs = new SimFs({ blockSize: this.blockSize, deviceBytes, fragmentation: opts.fragmentation ?? 0, seed: opts.seed ?? 1 });
    const profile = { ...opts.device };
    if (opts.readAheadKb !== undefined) profile.readAheadKb = opts.readAheadKb;
    this.bdev = new BlockDevice(this.stats, deviceBytes, profile, mode === 'data' ? opts.image : undefined);
    this.data = mode === 'data' ? new PageData() : null;
    this.bdev.data = this.data;
    this.ra = new Readahead(this);
    this.maxCachePages = opts.maxCachePages ?? Infinity;
    this.dirtyBackgroundPages = opts.dirtyBackgroundPages ?? Math.floor(this.mm.pfns / 10);
    this.mapper.attach(this);
  }

  // ---------------------------------------------------------------- files
  /** open(): look the file up (creating it unless create is false) and mark it open. */
  open_file(name: string, create = true): number {
    if (typeof name !== 'string' || name === '') throw new FsError('EINVAL', 'file', 'a file name is required');
    let ino = this.fs.names.get(name);
    if (ino === undefined) {
      if (!create) throw new FsError('ENOENT', name, 'no such file (open with create: false)');
      ino = this.fs.create(name);
      this.spaces.push(new AddressSpace(ino));
    }
    this.open.add(ino);
    return ino;
  }

  close_file(ino: number): void {
    this.open.delete(ino);
  }

  /** The inode of an open file, or a typed error naming it. */
  ino_of(name: string): number {
    const ino = this.fs.names.get(name);
    if (ino === undefined) throw new FsError('EBADF', name, 'the file was never opened');
    if (!this.open.has(ino)) throw new FsError('EBADF', name, 'the file is not open (closed)');
    return ino;
  }

  isize(ino: number): number {
    return this.fs.isize[ino]!;
  }

  check_range(ino: number, pos: number, len: number, what: string): void {
    const name = this.fs.name_of(ino);
    if (!Number.isSafeInteger(pos) || pos < 0) throw new FsError('EINVAL', `${name}: ${what}.offset`, `${pos} is not a whole number of bytes >= 0`);
    if (!Number.isSafeInteger(len) || len < 0) throw new FsError('EINVAL', `${name}: ${what}.size`, `${len} is not a whole number of bytes >= 0`);
    if (pos + len > this.fs.maxFileSize) {
      throw new FsError('EFBIG', `${name}: ${what}.offset`, `${pos}+${len} is past the maximum file size ${this.fs.maxFileSize} bytes`);
    }
  }

  // ---------------------------------------------------------------- folio accessors
  folio_ino(f: number): number {
    return (field_get(this.core.mapping, f) >> 2) - 1;
  }
  folio_index(f: number): number {
    return field_get(this.core.index, f);
  }
  folio_nr_pages(f: number): number {
    return this.mm.folio_nr_pages(f);
  }
  folio_size(f: number): number {
    return this.mm.folio_nr_pages(f) << PAGE_SHIFT;
  }
  folio_pos(f: number): number {
    return field_get(this.core.index, f) * PAGE_SIZE;
  }
  folio_phys(f: number): number {
    return this.mm.folio_pfn(f) * PAGE_SIZE;
  }
  folio_order(f: number): number {
    return this.mm.folio_order(f);
  }
  test(f: number, bit: number): boolean {
    return (field_get(this.core.flags, f) & (1 << bit)) !== 0;
  }
  set(f: number, bit: number): void {
    field_set(this.core.flags, f, field_get(this.core.flags, f) | (1 << bit));
  }
  clear(f: number, bit: number): void {
    field_set(this.core.flags, f, field_get(this.core.flags, f) & ~(1 << bit));
  }
  folio_test_uptodate(f: number): boolean {
    return this.test(f, PG_uptodate);
  }
  folio_mark_uptodate(f: number): void {
    this.set(f, PG_uptodate);
  }
  folio_get_private(f: number): number {
    return field_get(this.core.private, f) - 1;
  }
  folio_attach_private(f: number, v: number): void {
    field_set(this.core.private, f, v + 1);
    this.set(f, PG_private);
  }
  folio_detach_private(f: number): void {
    field_set(this.core.private, f, 0);
    this.clear(f, PG_private);
  }

  // ---------------------------------------------------------------- folio bytes (data mode)
  folio_zero(f: number, off: number, len: number): void {
    if (this.data !== null && len > 0) this.data.zero(this.folio_phys(f) + off, len);
  }
  folio_copy_in(f: number, off: number, src: Uint8Array | null, srcOff: number, len: number): void {
    if (this.data !== null && src !== null && len > 0) this.data.copy_in(this.folio_phys(f) + off, src, srcOff, len);
  }
  folio_copy_out(f: number, off: number, dst: Uint8Array | null, dstOff: number, len: number): void {
    if (this.data !== null && dst !== null && len > 0) this.data.copy_out(this.folio_phys(f) + off, dst, dstOff, len);
  }

  // ---------------------------------------------------------------- folio lifetime
  /** filemap_alloc_folio(): a file folio from the buddy allocator, reclaiming clean cache if memory is short. -1 if none. */
  filemap_alloc_folio(order: number): number {
    const nr = 1 << order;
    if (this.nrCachePages + nr > this.maxCachePages) this.shrink(this.nrCachePages + nr - this.maxCachePages);
    let f = this.mm.folio_alloc(order, PageType.file);
    if (f < 0) {
      this.shrink(nr);
      f = this.mm.folio_alloc(order, PageType.file);
    }
    return f;
  }

  /** filemap_add_folio(): insert a new locked folio at index. */
  filemap_add_folio(ino: number, f: number, index: number): void {
    const nr = this.folio_nr_pages(f);
    field_set(this.core.mapping, f, (ino + 1) << 2);
    field_set(this.core.index, f, index);
    this.set(f, PG_locked);
    this.set(f, PG_lru);
    this.spaces[ino]!.index.insert(index, nr, f);
    this.nrCachePages += nr;
    this.stats.folios_by_order[this.folio_order(f)]!++;
    this.lru_add(f);
  }

  /** Remove a folio from its mapping and drop the cache's reference (its private state must be gone). */
  filemap_remove_folio(f: number): void {
    const ino = this.folio_ino(f);
    const as = this.spaces[ino]!;
    const nr = this.folio_nr_pages(f);
    if (this.test(f, PG_dirty)) this.account_clean(as, f);
    as.index.remove(this.folio_index(f), nr);
    this.nrCachePages -= nr;
    field_set(this.core.mapping, f, 0);
    this.clear(f, PG_lru);
    this.mm.folio_put(f);
  }

  folio_unlock(f: number): void {
    this.clear(f, PG_locked);
  }

  /**
   * __filemap_get_folio(FGP_WRITEBEGIN | fgf_set_order(len)): the folio at the page of pos, locked;
   * a new one sized by the write (capped by the mapping's max order, aligned, not overlapping cached
   * folios) when none is cached. New folios are not uptodate.
   */
  write_get_folio(ino: number, pos: number, len: number): number {
    const as = this.spaces[ino]!;
    let index = Math.floor(pos / PAGE_SIZE);
    const f0 = as.index.get(index);
    if (f0 >= 0) {
      this.set(f0, PG_locked);
      return f0;
    }
    const shift = len > 0 ? 31 - Math.clz32(len) : 0;
    let order = shift <= PAGE_SHIFT ? 0 : shift - PAGE_SHIFT;
    if (order > this.maxOrder) order = this.maxOrder;
    if (order < this.minOrder) order = this.minOrder;
    index -= index & ((1 << this.minOrder) - 1);
    if (index & ((1 << order) - 1)) order = Math.max(this.minOrder, 31 - Math.clz32(index & -index));
    for (;;) {
      if (as.index.range_empty(index, 1 << order)) {
        const f = this.filemap_alloc_folio(order);
        if (f >= 0) {
          this.filemap_add_folio(ino, f, index);
          return f;
        }
      }
      if (order <= this.minOrder) break;
      order--;
    }
    throw new FsError('ENOMEM', this.fs.name_of(ino), `no memory for a page cache folio at offset ${pos}`);
  }

  /** i_size update of generic_write_end / iomap_write_end. */
  write_end_size(ino: number, end: number): void {
    if (end > this.fs.isize[ino]!) this.fs.isize[ino] = end;
  }

  // ---------------------------------------------------------------- dirty accounting
  /** filemap_dirty_folio(): set PG_dirty and tag it. Returns true if it was clean. */
  filemap_dirty_folio(ino: number, f: number): boolean {
    if (this.test(f, PG_dirty)) return false;
    this.set(f, PG_dirty);
    this.spaces[ino]!.index.tag_dirty(this.folio_index(f), 1);
    this.nrDirtyPages += this.folio_nr_pages(f);
    return true;
  }

  private account_clean(as: AddressSpace, f: number): void {
    this.clear(f, PG_dirty);
    as.index.tag_dirty(this.folio_index(f), -1);
    this.nrDirtyPages -= this.folio_nr_pages(f);
  }

  /** folio_cancel_dirty(): drop the dirty state without writing (truncate, crash). */
  folio_cancel_dirty(f: number): void {
    if (this.test(f, PG_dirty)) this.account_clean(this.spaces[this.folio_ino(f)]!, f);
  }

  // ---------------------------------------------------------------- read
  /** filemap_read(): copy [pos, pos+len) clipped to i_size into dst. Returns bytes read. */
  read(ino: number, pos: number, len: number, dst: Uint8Array | null = null, dstOff = 0): number {
    this.check_range(ino, pos, len, 'read');
    return this.ra.filemap_read(ino, pos, len, dst, dstOff);
  }

  /** ->read_folio on a locked folio (filemap_read_folio), then unlock. */
  read_folio(ino: number, f: number): void {
    this.stats.detail.read_folio_calls++;
    this.set(f, PG_locked);
    this.mapper.read_folio(ino, f);
    this.folio_unlock(f);
  }

  /** read_pages(): hand a readahead batch to the backend inside a plug. */
  read_pages(rac: ReadaheadBatch): void {
    if (rac.count === 0) return;
    this.stats.detail.readahead_batches++;
    this.bdev.blk_start_plug();
    if (this.mapper.hasReadahead) this.mapper.readahead(rac.ino, rac);
    else
      for (let i = 0; i < rac.count; i++) {
        this.stats.detail.read_folio_calls++;
        this.mapper.read_folio(rac.ino, rac.folios[i]!);
      }
    this.bdev.blk_finish_plug();
    for (let i = 0; i < rac.count; i++) this.folio_unlock(rac.folios[i]!);
    rac.count = 0;
    rac.nrPages = 0;
  }

  // ---------------------------------------------------------------- write
  /** A buffered write(); src null in metadata mode. */
  write(ino: number, pos: number, len: number, src: Uint8Array | null = null, srcOff = 0): number {
    this.check_range(ino, pos, len, 'write');
    if (len === 0) return 0;
    this.mapper.buffered_write(ino, pos, len, src, srcOff);
    this.stats.detail.write_bytes += len;
    this.balance_dirty_pages();
    return len;
  }

  /** Background writeback when dirty pages pass dirty_background (wb_start_background_writeback). */
  private balance_dirty_pages(): void {
    if (this.nrDirtyPages <= this.dirtyBackgroundPages || this.inReclaim) return;
    const target = Math.floor(this.dirtyBackgroundPages / 2);
    for (let ino = 0; ino < this.spaces.length && this.nrDirtyPages > target; ino++) {
      if (this.spaces[ino]!.index.nrDirty > 0) this.writeback(ino, WB_SYNC_NONE, 0, Infinity, this.nrDirtyPages - target);
    }
  }

  // ---------------------------------------------------------------- writeback
  private wbc_get(): WritebackControl {
    return this.wbcs.pop() ?? { syncMode: WB_SYNC_NONE, start: 0, end: 0, nrToWrite: 0, index: 0, folios: new Int32Array(64), count: 0, pagesWritten: 0 };
  }

  /**
   * do_writepages() for [start, end] bytes of one file: the backend's writepages inside a plug, then
   * completion: PG_writeback cleared and i_disksize moved up to what reached the disk.
   */
  writeback(ino: number, syncMode: 0 | 1, startByte = 0, endByte = Infinity, nrToWrite = Infinity): number {
    const as = this.spaces[ino]!;
    if (as.index.nrDirty === 0) return 0;
    const wbc = this.wbc_get();
    wbc.syncMode = syncMode;
    wbc.start = Math.floor(startByte / PAGE_SIZE);
    wbc.end = endByte === Infinity ? 2 ** 31 - 1 : Math.floor((endByte - 1) / PAGE_SIZE);
    wbc.nrToWrite = nrToWrite;
    // A large folio that starts before the range but overlaps it is written too.
    const f0 = as.index.get(wbc.start);
    wbc.index = f0 >= 0 ? this.folio_index(f0) : wbc.start;
    wbc.count = 0;
    wbc.pagesWritten = 0;
    this.bdev.blk_start_plug();
    this.mapper.writepages(ino, wbc);
    this.bdev.blk_finish_plug();
    const isize = this.fs.isize[ino]!;
    let maxEnd = this.fs.disksize[ino]!;
    for (let i = 0; i < wbc.count; i++) {
      const f = wbc.folios[i]!;
      this.clear(f, PG_writeback);
      const end = Math.min(isize, this.folio_pos(f) + this.folio_size(f));
      if (end > maxEnd) maxEnd = end;
    }
    this.fs.disksize[ino] = maxEnd;
    this.stats.detail.folios_written += wbc.count;
    const pages = wbc.pagesWritten;
    this.wbcs.push(wbc);
    return pages;
  }

  /**
   * writeback_iter(): the next dirty folio of the range, locked, with PG_dirty cleared
   * (folio_clear_dirty_for_io) and PG_writeback set, its bytes beyond i_size zeroed; -1 at the end.
   * Folios wholly beyond EOF are cleaned and skipped. WB_SYNC_NONE skips locked folios and stops at its budget.
   */
  writeback_next(ino: number, wbc: WritebackControl): number {
    const as = this.spaces[ino]!;
    const isize = this.fs.isize[ino]!;
    for (;;) {
      if (wbc.syncMode === WB_SYNC_NONE && wbc.nrToWrite <= 0) return -1;
      if (wbc.index > wbc.end) return -1;
      const i = as.index.next_dirty(wbc.index, wbc.end, (f, idx) => idx === this.folio_index(f) && this.test(f, PG_dirty));
      if (i < 0) {
        wbc.index = wbc.end + 1;
        return -1;
      }
      const f = as.index.get(i);
      const nr = this.folio_nr_pages(f);
      wbc.index = i + nr;
      if (this.test(f, PG_locked) && wbc.syncMode === WB_SYNC_NONE) continue;
      const pos = i * PAGE_SIZE;
      this.account_clean(as, f);
      if (pos >= isize) {
        // Past EOF (truncate raced with dirtying): nothing to write.
        this.mapper.invalidate_folio(ino, f, 0, nr * PAGE_SIZE);
        continue;
      }
      if (pos + nr * PAGE_SIZE > isize) this.folio_zero(f, isize - pos, pos + nr * PAGE_SIZE - isize);
      this.set(f, PG_writeback);
      if (wbc.count === wbc.folios.length) {
        const a = new Int32Array(wbc.folios.length * 2);
        a.set(wbc.folios);
        wbc.folios = a;
      }
      wbc.folios[wbc.count++] = f;
      wbc.nrToWrite -= nr;
      wbc.pagesWritten += nr;
      return f;
    }
  }

  /** fsync(): write and wait (WB_SYNC_ALL), then commit i_size to disk. */
  fsync(ino: number): void {
    this.writeback(ino, WB_SYNC_ALL);
    this.fs.disksize[ino] = this.fs.isize[ino]!;
  }

  /**
   * sync(): fsync every file, inside one plug as wb_writeback() holds one across writeback_sb_inodes():
   * bios of different files that continue each other on disk merge into one request.
   */
  sync(): void {
    this.bdev.blk_start_plug();
    for (let ino = 0; ino < this.spaces.length; ino++) this.fsync(ino);
    this.bdev.blk_finish_plug();
  }

  // ---------------------------------------------------------------- truncate
  /**
   * truncate(): i_size and the on-disk size change at once (metadata is synchronous in simfs). The
   * partial block at the new EOF (shrink) or the old EOF (extend) is zeroed past EOF by the backend
   * and, if it has a disk block, written out before the size change is final (ext4 data=ordered /
   * xfs_setattr_size), so a crash can never expose stale bytes past an old EOF.
   */
  truncate(ino: number, size: number): void {
    const name = this.fs.name_of(ino);
    if (!Number.isSafeInteger(size) || size < 0) throw new FsError('EINVAL', `${name}: truncate.size`, `${size} is not a whole number of bytes >= 0`);
    if (size > this.fs.maxFileSize) throw new FsError('EFBIG', `${name}: truncate.size`, `${size} is past the maximum file size ${this.fs.maxFileSize} bytes`);
    const old = this.fs.isize[ino]!;
    if (size === old) return;
    const bs = this.blockSize;
    const edge = size < old ? size : old;
    if (edge % bs !== 0) {
      this.mapper.truncate_page(ino, edge);
      const b0 = edge - (edge % bs);
      this.writeback(ino, WB_SYNC_ALL, b0, b0 + bs);
    }
    this.fs.isize[ino] = size;
    if (size < old) {
      this.truncate_inode_pages(ino, size);
      this.fs.truncate_blocks(ino, Math.ceil(size / bs));
    }
    this.fs.disksize[ino] = size;
    this.ra.reset(ino);
  }

  /** truncate_inode_pages_range(lstart = size): drop folios past size, zero and invalidate the straddling one. */
  private truncate_inode_pages(ino: number, size: number): void {
    const as = this.spaces[ino]!;
    let i = as.index.next_present(Math.floor(size / PAGE_SIZE), 2 ** 31 - 1);
    while (i >= 0) {
      const f = as.index.get(i);
      const pos = this.folio_pos(f);
      const fsz = this.folio_size(f);
      const next = this.folio_index(f) + this.folio_nr_pages(f);
      if (pos >= size) {
        this.folio_cancel_dirty(f);
        this.mapper.invalidate_folio(ino, f, 0, fsz);
        this.filemap_remove_folio(f);
      } else if (pos + fsz > size) {
        // truncate_inode_partial_folio(): zero the tail; invalidate whole blocks past EOF.
        this.folio_zero(f, size - pos, pos + fsz - size);
        const off = Math.ceil((size - pos) / this.blockSize) * this.blockSize;
        if (off < fsz) this.mapper.invalidate_folio(ino, f, off, fsz - off);
      }
      i = as.index.next_present(next, 2 ** 31 - 1);
    }
  }

  // ---------------------------------------------------------------- mmap
  /**
   * filemap_fault(): the folio for page pgoff of the file, uptodate, with an extra reference for the
   * caller's mapping (drop it with folio_put). -1 past EOF (SIGBUS).
   */
  filemap_fault(ino: number, pgoff: number): number {
    const isize = this.fs.isize[ino]!;
    if (pgoff * PAGE_SIZE >= isize) return -1;
    const as = this.spaces[ino]!;
    let f = as.index.get(pgoff);
    if (f < 0) {
      this.ra.page_cache_sync_ra(ino, pgoff, 1);
      f = as.index.get(pgoff);
      if (f < 0) f = this.ra.filemap_create_folio(ino, pgoff);
    }
    if (!this.folio_test_uptodate(f)) this.read_folio(ino, f);
    this.mm.folio_get(f);
    return f;
  }

  /** The ->page_mkwrite path for a write fault on a shared file mapping. False if the folio was truncated away. */
  page_mkwrite(ino: number, f: number): boolean {
    if (this.folio_ino(f) !== ino || this.folio_pos(f) >= this.fs.isize[ino]!) return false;
    this.set(f, PG_locked);
    this.mapper.page_mkwrite(ino, f);
    this.folio_unlock(f);
    return true;
  }

  folio_put(f: number): void {
    this.mm.folio_put(f);
  }

  /**
   * A store through a shared writable mapping of [pos, pos+len) (inside i_size): per page a fault,
   * page_mkwrite, the store, and the mapping's reference dropped. What fsx's mapwrite does.
   */
  mmap_write(ino: number, pos: number, len: number, src: Uint8Array | null = null, srcOff = 0): void {
    this.check_range(ino, pos, len, 'mmap_write');
    if (pos + len > this.fs.isize[ino]!) throw new FsError('EINVAL', `${this.fs.name_of(ino)}: mmap_write`, `${pos}+${len} is past EOF ${this.fs.isize[ino]} (SIGBUS)`);
    let done = 0;
    while (done < len) {
      const p = pos + done;
      const f = this.filemap_fault(ino, Math.floor(p / PAGE_SIZE));
      const fpos = this.folio_pos(f);
      const n = Math.min(len - done, fpos + this.folio_size(f) - p, PAGE_SIZE - (p % PAGE_SIZE));
      this.page_mkwrite(ino, f);
      this.folio_copy_in(f, p - fpos, src, srcOff + done, n);
      this.folio_put(f);
      done += n;
    }
  }

  // ---------------------------------------------------------------- reclaim
  private lru_add(f: number): void {
    if (this.lruTail - this.lruHead === this.lru.length || this.lruTail === this.lru.length) this.lru_compact();
    this.lru[this.lruTail++] = f;
  }

  private lru_valid(f: number): boolean {
    return this.test(f, PG_lru) && field_get(this.core.mapping, f) !== 0;
  }

  /** Rebuild the LRU queue from its live entries (dropping stale and duplicate ids), growing it if full. */
  private lru_compact(): void {
    const seen = new Set<number>();
    const live: number[] = [];
    for (let i = this.lruHead; i < this.lruTail; i++) {
      const f = this.lru[i]!;
      if (this.lru_valid(f) && !seen.has(f)) {
        seen.add(f);
        live.push(f);
      }
    }
    const cap = Math.max(1024, live.length * 2);
    if (cap > this.lru.length) this.lru = new Int32Array(cap);
    this.lru.set(live);
    this.lruHead = 0;
    this.lruTail = live.length;
  }

  /** mapping_evict_folio(): free a clean, unlocked, unreferenced cached folio. */
  private evict(f: number): boolean {
    if (this.test(f, PG_dirty) || this.test(f, PG_writeback) || this.test(f, PG_locked)) return false;
    if (this.mm.folio_ref_count(f) !== 1) return false;
    const ino = this.folio_ino(f);
    if (this.test(f, PG_private) && !this.mapper.release_folio(ino, f)) return false;
    this.filemap_remove_folio(f);
    return true;
  }

  /**
   * shrink_folio_list() over the file LRU, oldest first: evict clean folios until nr pages are free.
   * If clean folios are not enough, wake the flusher (WB_SYNC_NONE writeback) and try again.
   */
  shrink(nr: number): number {
    if (this.inReclaim) return 0;
    this.inReclaim = true;
    let freed = 0;
    try {
      for (let pass = 0; pass < 2 && freed < nr; pass++) {
        const end = this.lruTail;
        let i = this.lruHead;
        for (; i < end && freed < nr; i++) {
          const f = this.lru[i]!;
          if (!this.lru_valid(f)) continue;
          const n = this.folio_nr_pages(f);
          if (this.evict(f)) {
            freed += n;
            this.stats.detail.folios_reclaimed++;
          } else this.lru_add(f); // rotate
        }
        this.lruHead = Math.min(i, this.lruTail);
        if (freed < nr && pass === 0) {
          for (let ino = 0; ino < this.spaces.length && this.nrDirtyPages > 0; ino++) this.writeback(ino, WB_SYNC_NONE, 0, Infinity, Math.max(nr * 2, 32));
        }
      }
    } finally {
      this.inReclaim = false;
    }
    return freed;
  }

  /** echo 3 > drop_caches: evict every clean unmapped folio, then empty slabs. */
  drop_caches(): number {
    let freed = 0;
    for (const as of this.spaces) {
      let i = as.index.next_present(0, 2 ** 31 - 1);
      while (i >= 0) {
        const f = as.index.get(i);
        const next = this.folio_index(f) + this.folio_nr_pages(f);
        const n = this.folio_nr_pages(f);
        if (this.evict(f)) {
          freed += n;
          this.stats.detail.folios_evicted_drop_caches++;
        }
        i = as.index.next_present(next, 2 ** 31 - 1);
      }
    }
    this.mapper.shrink_slab();
    this.lru_compact();
    return freed;
  }

  /** Power loss: every cached folio vanishes (dirty or not), delayed allocations and in-memory sizes too. */
  crash(): void {
    for (const as of this.spaces) {
      let i = as.index.next_present(0, 2 ** 31 - 1);
      while (i >= 0) {
        const f = as.index.get(i);
        const next = this.folio_index(f) + this.folio_nr_pages(f);
        this.folio_cancel_dirty(f);
        this.clear(f, PG_writeback);
        this.clear(f, PG_locked);
        this.mapper.invalidate_folio(as.ino, f, 0, this.folio_size(f));
        // A crash also drops references held by mappings: the machine is gone.
        while (this.mm.folio_ref_count(f) > 1) this.mm.folio_put(f);
        this.filemap_remove_folio(f);
        i = as.index.next_present(next, 2 ** 31 - 1);
      }
      this.ra.reset(as.ino);
    }
    this.fs.crash();
    this.mapper.shrink_slab();
    this.lru_compact();
  }

  /** Every cached folio of a file in index order (tests, reports). */
  for_each_folio(ino: number, fn: (f: number) => void): void {
    const as = this.spaces[ino]!;
    let i = as.index.next_present(0, 2 ** 31 - 1);
    while (i >= 0) {
      const f = as.index.get(i);
      fn(f);
      i = as.index.next_present(this.folio_index(f) + this.folio_nr_pages(f), 2 ** 31 - 1);
    }
  }

  /** Close the image file. */
  close(): void {
    this.bdev.close();
  }
}

export { WB_SYNC_ALL, WB_SYNC_NONE };
