import type { PageCache } from './pagecache.js';

export const WB_SYNC_NONE = 0;
export const WB_SYNC_ALL = 1;

/**
 * struct writeback_control, plus the cursor writeback_iter() keeps. Page indices are inclusive.
 * The page cache fills it; the backend's writepages walks it with pc.writeback_next().
 */
export interface WritebackControl {
  syncMode: typeof WB_SYNC_NONE | typeof WB_SYNC_ALL;
  start: number;
  end: number;
  /** Pages still to write (WB_SYNC_NONE budget). */
  nrToWrite: number;
  /** Cursor: next page index to look at. */
  index: number;
  /** Folios handed out by writeback_next in this pass (their ids, for completion). */
  folios: Int32Array;
  count: number;
  pagesWritten: number;
}

/**
 * struct readahead_control: a batch of new, locked, !uptodate folios at consecutive indices, handed
 * to ->readahead in one call (or to ->read_folio one by one when the backend has no ->readahead).
 */
export interface ReadaheadBatch {
  ino: number;
  /** First page index of the batch. */
  index: number;
  nrPages: number;
  folios: Int32Array;
  count: number;
}

/**
 * The block-mapping backend of a page cache: the address_space_operations of a block filesystem,
 * reduced to what differs between buffer_head and iomap (reference §0.2). The page cache owns the
 * folios, their index, readahead, dirty accounting, writeback iteration, truncate and reclaim; the
 * backend maps blocks, keeps per-block state in folio->private, and builds bios.
 *
 * Every call is synchronous: I/O submitted inside a call has completed when it returns.
 */
export interface BlockMapper {
  /** 'buffer-head' or 'iomap'. */
  readonly name: string;
  /** Variant, e.g. 'generic', 'mpage', 'ext4', 'xfs'. */
  readonly profile: string;
  /** Largest folio order the backend accepts (mapping_set_large_folios); 0 = order-0 pages only. */
  readonly maxFolioOrder: number;
  /** Whether it has ->readahead; without it read_pages() calls read_folio per folio. */
  readonly hasReadahead: boolean;
  /** Called once by the PageCache constructor. */
  attach(pc: PageCache): void;
  /** ->read_folio: the folio is locked and not uptodate; make it uptodate. */
  read_folio(ino: number, folio: number): void;
  /** ->readahead */
  readahead(ino: number, rac: ReadaheadBatch): void;
  /** The buffered write path (generic_perform_write + write_begin/write_end, or iomap_file_buffered_write). src is null in metadata mode. */
  buffered_write(ino: number, pos: number, len: number, src: Uint8Array | null, srcOff: number): void;
  /** ->page_mkwrite for a shared file mapping: map the blocks under the folio and dirty it. */
  page_mkwrite(ino: number, folio: number): void;
  /** ->dirty_folio (folio_mark_dirty from a caller that dirtied the whole folio). */
  dirty_folio(ino: number, folio: number): void;
  /** ->writepages: write the folios pc.writeback_next() hands out. */
  writepages(ino: number, wbc: WritebackControl): void;
  /** Zero the file from `from` to the end of its block (block_truncate_page / iomap_truncate_page). */
  truncate_page(ino: number, from: number): void;
  /** ->invalidate_folio: bytes [offset, offset+length) of the folio are being truncated away. */
  invalidate_folio(ino: number, folio: number, offset: number, length: number): void;
  /** ->release_folio: drop private state so the folio can be freed; false if it cannot (dirty, busy). */
  release_folio(ino: number, folio: number): boolean;
  /** ->is_partially_uptodate */
  is_partially_uptodate(ino: number, folio: number, from: number, count: number): boolean;
  /** Bytes of per-folio metadata (buffer heads, iomap_folio_state) attached to the folio now. */
  folio_private_bytes(folio: number): number;
  /** Give empty slab pages back (drop_caches). */
  shrink_slab(): void;
}
