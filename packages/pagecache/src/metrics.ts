/**
 * The metric names of FS-METRICS.md (shared with tools/fs-probe) and the counters behind them.
 * Counters are plain numeric fields incremented by the page cache, the block device and the
 * backends; histograms are typed arrays indexed by log2 (bio sizes) or folio order.
 */
export interface FsMetrics {
  get_block_calls: number;
  iomap_begin_calls: number;
  mapping_calls: number;
  delalloc_reservations: number;
  extents_allocated: number;
  data_bios: number;
  data_bio_bytes: number;
  data_bio_size_hist: Record<string, number>;
  bvecs: number;
  requests: number;
  request_bytes: number;
  metadata_bios: number;
  folios_added_by_order: Record<string, number>;
  buffer_heads_allocated: number;
  iomap_folio_state_bytes: number;
  buffer_head_bytes: number;
  readahead_calls: number;
}

/** Supporting counts that explain the metrics (not FS-METRICS keys). */
export interface FsDetail {
  /** ->readahead batches (read_pages calls with folios), the R of the reference. */
  readahead_batches: number;
  /** read_folio calls (filemap_read_folio, and read_pages without ->readahead). */
  read_folio_calls: number;
  /** Mapping lookups at writeback that FS-METRICS does not count as get_block/iomap_begin (ext4_map_blocks, ->writeback_range). */
  writeback_map_calls: number;
  iomap_end_calls: number;
  /** Synchronous reads of partial edge blocks in write_begin / truncate. */
  edge_reads: number;
  /** Bio pieces created by splitting to queue limits (beyond the first of each bio). */
  bio_splits: number;
  /** Physical segments after splitting. */
  segments: number;
  /** Plug back-merges of a bio piece into the previous request. */
  bio_backmerges: number;
  /** mpage "confused" fallbacks to the per-buffer path. */
  mpage_confused: number;
  /** Buffer-head or bitmap state operations (one per bh visited / per bitmap word range op). */
  bh_ops: number;
  ifs_ops: number;
  ioends: number;
  unwritten_conversions: number;
  folios_written: number;
  folios_reclaimed: number;
  folios_evicted_drop_caches: number;
  buffer_heads_freed: number;
  ifs_freed_bytes: number;
  /** Live metadata now (not cumulative): buffer heads and iomap_folio_state bytes attached to cached folios. */
  buffer_head_bytes_live: number;
  iomap_folio_state_bytes_live: number;
  read_bytes: number;
  write_bytes: number;
}

export const FS_METRIC_KEYS = [
  'get_block_calls', 'iomap_begin_calls', 'mapping_calls', 'delalloc_reservations', 'extents_allocated',
  'data_bios', 'data_bio_bytes', 'data_bio_size_hist', 'bvecs', 'requests', 'request_bytes', 'metadata_bios',
  'folios_added_by_order', 'buffer_heads_allocated', 'iomap_folio_state_bytes', 'buffer_head_bytes', 'readahead_calls',
] as const;

function hist_object(h: Float64Array): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < h.length; i++) if (h[i]! > 0) out[String(i)] = h[i]!;
  return out;
}

/** Mutable counters. Fields are public so hot paths increment them without a call. */
export class FsStats {
  get_block_calls = 0;
  iomap_begin_calls = 0;
  delalloc_reservations = 0;
  extents_allocated = 0;
  data_bios = 0;
  data_bio_bytes = 0;
  /** Index: floor(log2(bytes)), as the probe buckets them. */
  readonly bio_size_hist = new Float64Array(64);
  bvecs = 0;
  requests = 0;
  request_bytes = 0;
  metadata_bios = 0;
  readonly folios_by_order = new Float64Array(16);
  buffer_heads_allocated = 0;
  iomap_folio_state_bytes = 0;
  readahead_calls = 0;
  readonly detail: FsDetail = FsStats.zero_detail();

  static zero_detail(): FsDetail {
    return {
      readahead_batches: 0, read_folio_calls: 0, writeback_map_calls: 0, iomap_end_calls: 0, edge_reads: 0,
      bio_splits: 0, segments: 0, bio_backmerges: 0, mpage_confused: 0, bh_ops: 0, ifs_ops: 0, ioends: 0,
      unwritten_conversions: 0, folios_written: 0, folios_reclaimed: 0, folios_evicted_drop_caches: 0,
      buffer_heads_freed: 0, ifs_freed_bytes: 0, buffer_head_bytes_live: 0, iomap_folio_state_bytes_live: 0,
      read_bytes: 0, write_bytes: 0,
    };
  }

  /** Zero every cumulative counter (live metadata bytes are state, not counters: they stay). */
  reset(): void {
    const bhLive = this.detail.buffer_head_bytes_live;
    const ifsLive = this.detail.iomap_folio_state_bytes_live;
    this.get_block_calls = this.iomap_begin_calls = this.delalloc_reservations = this.extents_allocated = 0;
    this.data_bios = this.data_bio_bytes = this.bvecs = this.requests = this.request_bytes = this.metadata_bios = 0;
    this.buffer_heads_allocated = this.iomap_folio_state_bytes = this.readahead_calls = 0;
    this.bio_size_hist.fill(0);
    this.folios_by_order.fill(0);
    Object.assign(this.detail, FsStats.zero_detail());
    this.detail.buffer_head_bytes_live = bhLive;
    this.detail.iomap_folio_state_bytes_live = ifsLive;
  }

  metrics(): FsMetrics {
    return {
      get_block_calls: this.get_block_calls,
      iomap_begin_calls: this.iomap_begin_calls,
      mapping_calls: this.get_block_calls + this.iomap_begin_calls,
      delalloc_reservations: this.delalloc_reservations,
      extents_allocated: this.extents_allocated,
      data_bios: this.data_bios,
      data_bio_bytes: this.data_bio_bytes,
      data_bio_size_hist: hist_object(this.bio_size_hist),
      bvecs: this.bvecs,
      requests: this.requests,
      request_bytes: this.request_bytes,
      metadata_bios: this.metadata_bios,
      folios_added_by_order: hist_object(this.folios_by_order),
      buffer_heads_allocated: this.buffer_heads_allocated,
      iomap_folio_state_bytes: this.iomap_folio_state_bytes,
      buffer_head_bytes: this.buffer_heads_allocated * BUFFER_HEAD_SIZE,
      readahead_calls: this.readahead_calls,
    };
  }
}

/** sizeof(struct buffer_head) on x86-64 without lock debugging (slab objsize 104, 39 per 4 KiB slab). */
export const BUFFER_HEAD_SIZE = 104;
