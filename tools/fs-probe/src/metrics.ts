import { FS_METRIC_KEYS, type FsMetrics as SimFsMetrics } from '@foliolab/pagecache';
/**
 * Derives the FS-METRICS counters from parsed trace records.
 *
 * Attribution rules (the README explains them):
 * - Only events of the probe's loop device count (the kernel-side filter already restricts by dev/s_dev; the
 *   collector checks again so a trace excerpt from elsewhere cannot leak in).
 * - Per-inode events count only for the workload's data inodes (`data_inodes`), so directory and journal
 *   activity stays out of the data-path numbers.
 * - A bio or request is data when its sector range lies inside the files' physical extents (FIEMAP after the
 *   run), metadata otherwise (journal, inode tables, bitmaps, the XFS log).
 * - ext4 has no tracepoint in its get_block functions; every ext4_map_blocks call passes
 *   ext4_es_lookup_extent_enter, whose stack-trace trigger names the caller. ext4_da_get_block_prep looks the
 *   block up twice (before and after taking i_data_sem) and maps one block per call, so consecutive lookups
 *   of the same (inode, block) by one task with the same caller are one call.
 * - Buffer heads have no tracepoint either; kmem_cache_alloc filtered to the buffer_head cache, with a stack
 *   trigger, separates data buffers (folio_create_empty_buffers under the fsio task) from block-device buffers
 *   (grow_dev_folio / __getblk: metadata) and from other tasks (the host's own filesystems).
 */
import type { TraceRecord } from './trace-parse.js';
import type { ExtentSet } from './extents.js';

export type FsFamily = 'ext4' | 'xfs';

export interface MetricsContext {
  fs_family: FsFamily;
  dev_major: number;
  dev_minor: number;
  data_inodes: ReadonlySet<number>;
  data_extents: ExtentSet;
  /** Tasks that ran the traced plan: data-path buffer heads are attributed only to them. */
  fsio_pids: ReadonlySet<number>;
  /** Object size of the buffer_head slab (bytes), from /proc/slabinfo. */
  bh_objsize: number;
  /** Whether iomap_folio_state allocations were traced (kmalloc filtered to ifs_alloc). */
  ifs_traced: boolean;
}

/**
 * The flat metrics object of FS-METRICS.md, with the simulator's names (@foliolab/pagecache): every one
 * but bvecs, which these tracepoints cannot see; iomap_folio_state bytes only where ifs_alloc was traced.
 */
export type FsMetrics = Omit<SimFsMetrics, 'bvecs' | 'iomap_folio_state_bytes'> & { iomap_folio_state_bytes?: number };

export const METRIC_KEYS = FS_METRIC_KEYS.filter((k): k is Exclude<(typeof FS_METRIC_KEYS)[number], 'bvecs'> => k !== 'bvecs');

export interface ReadaheadWindow {
  kind: 'sync' | 'async';
  index: number;
  req_count: number;
  order: number;
  size: number;
  async_size: number;
  ra_pages: number;
}

/** Supporting counts that are not FS-METRICS keys but explain them. */
export interface MetricsDetail {
  mapping_by_path: Record<string, number>;
  ext4_ext_map_blocks_enter: number;
  ext4_unwritten_conversions: number;
  write_begin_calls: number;
  delalloc_blocks_reserved: number;
  extent_allocation_blocks: number[];
  iomap_begin_by_caller: Record<string, number>;
  iomap_begin_by_type: Record<string, number>;
  iomap_readahead_nr_pages: number[];
  iomap_writeback_folio: number;
  iomap_add_to_ioend: number;
  xfs_map_blocks: { found: number; alloc: number };
  xfs_iomap_found: number;
  readahead_windows: ReadaheadWindow[];
  /** Readahead submissions as the mm built them (page_cache_ra_order / page_cache_ra_unbounded), in pages. */
  readahead_batches: { kind: 'order' | 'unbounded'; index: number; order: number; pages: number; async_pages: number }[];
  readahead_ra_order: number;
  readahead_unbounded: number;
  data_bio_sizes: Record<string, number>;
  data_bios_by_op: Record<string, number>;
  partial_data_bios: number;
  request_sizes: Record<string, number>;
  metadata_requests: number;
  flush_bios: number;
  bio_backmerges: number;
  bio_splits: number;
  folios_other_inodes: number;
  buffer_heads: { data: number; metadata: number; other_tasks: number; unclassified: number; no_stack: number };
  ifs_allocations: number;
  unrecognised_events: Record<string, number>;
}

const GET_BLOCK_FUNCS = new Set(['ext4_da_get_block_prep', 'ext4_get_block', 'ext4_get_block_unwritten', '_ext4_get_block']);
const READ_MAP_FUNCS = new Set(['ext4_mpage_readpages', 'ext4_read_folio', 'ext4_readahead']);
const WRITEBACK_MAP_FUNCS = new Set(['mpage_map_and_submit_extent', 'mpage_map_one_extent', 'ext4_do_writepages', 'ext4_writepages']);
const BH_DATA_FUNCS = new Set(['folio_create_empty_buffers', 'create_empty_buffers', 'folio_create_buffers']);
const BH_META_RE = /^(grow_dev_folio|grow_buffers|__getblk|bdev_getblk|__bread|sb_bread|sb_getblk|ext4_sb_bread|jbd2_)/;

function hist_add(h: Record<string, number>, key: string | number, n = 1): void {
  const k = String(key);
  h[k] = (h[k] ?? 0) + n;
}

/** Bucket of a byte count in data_bio_size_hist: floor(log2(bytes)), so "12" holds [4 KiB, 8 KiB). */
export function log2_bucket(bytes: number): number {
  return Math.floor(Math.log2(bytes));
}

const DEV_COMMA_RE = /^(?:dev )?(\d+),(\d+)\b/;
const DEV_COLON_RE = /^dev[ =](\d+):(\d+)\b/;

export class MetricsCollector {
  private get_block_write = 0;
  private get_block_read = 0;
  private map_writeback = 0;
  private map_other = 0;
  private iomap_begin = 0;
  private delalloc = 0;
  private extents_alloc = 0;
  private data_bios = 0;
  private data_bio_bytes = 0;
  private readonly bio_hist: Record<string, number> = {};
  private requests = 0;
  private request_bytes = 0;
  private metadata_bios = 0;
  private readonly folios: Record<string, number> = {};
  private ifs_bytes = 0;
  private readahead_calls = 0;
  /** Per task: the last ext4 lookup key counted, for collapsing the repeated lookup of one get_block call. */
  private readonly last_lookup = new Map<number, string>();
  /** Per task: caller of the latest iomap_iter, which the following iomap_iter_dstmap belongs to. */
  private readonly iter_caller = new Map<number, string>();
  readonly detail: MetricsDetail = {
    mapping_by_path: {},
    ext4_ext_map_blocks_enter: 0,
    ext4_unwritten_conversions: 0,
    write_begin_calls: 0,
    delalloc_blocks_reserved: 0,
    extent_allocation_blocks: [],
    iomap_begin_by_caller: {},
    iomap_begin_by_type: {},
    iomap_readahead_nr_pages: [],
    iomap_writeback_folio: 0,
    iomap_add_to_ioend: 0,
    xfs_map_blocks: { found: 0, alloc: 0 },
    xfs_iomap_found: 0,
    readahead_windows: [],
    readahead_batches: [],
    readahead_ra_order: 0,
    readahead_unbounded: 0,
    data_bio_sizes: {},
    data_bios_by_op: {},
    partial_data_bios: 0,
    request_sizes: {},
    metadata_requests: 0,
    flush_bios: 0,
    bio_backmerges: 0,
    bio_splits: 0,
    folios_other_inodes: 0,
    buffer_heads: { data: 0, metadata: 0, other_tasks: 0, unclassified: 0, no_stack: 0 },
    ifs_allocations: 0,
    unrecognised_events: {},
  };

  constructor(private readonly ctx: MetricsContext) {}

  private dev_ours(body: string): boolean {
    const m = DEV_COMMA_RE.exec(body) ?? DEV_COLON_RE.exec(body);
    return m !== null && Number(m[1]) === this.ctx.dev_major && Number(m[2]) === this.ctx.dev_minor;
  }

  private ino_ours(ino: number): boolean {
    return this.ctx.data_inodes.has(ino);
  }

  record(r: TraceRecord): void {
    const b = r.body;
    switch (r.event) {
      case 'block_bio_queue':
        if (this.dev_ours(b)) this.bio_queue(b);
        return;
      case 'block_rq_issue':
        if (this.dev_ours(b)) this.rq_issue(b);
        return;
      case 'block_bio_backmerge':
        if (this.dev_ours(b)) this.detail.bio_backmerges++;
        return;
      case 'block_split':
        if (this.dev_ours(b)) this.detail.bio_splits++;
        return;
      case 'mm_filemap_add_to_page_cache': {
        if (!this.dev_ours(b)) return;
        const ino = hex_field(b, /\bino ([0-9a-f]+)/);
        const order = num_field(b, /\border=(\d+)/);
        if (ino === undefined || order === undefined) return this.unrecognised(r);
        if (this.ino_ours(ino)) hist_add(this.folios, order);
        else this.detail.folios_other_inodes++;
        return;
      }
      case 'page_cache_sync_ra':
      case 'page_cache_async_ra': {
        if (!this.dev_ours(b)) return;
        const ino = hex_field(b, /\bino=([0-9a-f]+)/);
        if (ino === undefined || !this.ino_ours(ino)) return;
        this.readahead_calls++;
        this.detail.readahead_windows.push({
          kind: r.event === 'page_cache_sync_ra' ? 'sync' : 'async',
          index: num_field(b, /\bindex=(\d+)/) ?? -1,
          req_count: num_field(b, /\breq_count=(\d+)/) ?? -1,
          order: num_field(b, /\border=(\d+)/) ?? -1,
          size: num_field(b, /\bsize=(\d+)/) ?? -1,
          async_size: num_field(b, /\basync_size=(\d+)/) ?? -1,
          ra_pages: num_field(b, /\bra_pages=(\d+)/) ?? -1,
        });
        return;
      }
      case 'page_cache_ra_order':
      case 'page_cache_ra_unbounded': {
        if (!this.dev_ours(b)) return;
        const ino = hex_field(b, /\bino=([0-9a-f]+)/);
        if (ino === undefined || !this.ino_ours(ino)) return;
        const unbounded = r.event === 'page_cache_ra_unbounded';
        if (unbounded) this.detail.readahead_unbounded++;
        else this.detail.readahead_ra_order++;
        this.detail.readahead_batches.push({
          kind: unbounded ? 'unbounded' : 'order',
          index: num_field(b, /\bindex=(\d+)/) ?? -1,
          order: unbounded ? 0 : (num_field(b, /\border=(\d+)/) ?? -1),
          pages: (unbounded ? num_field(b, /\bnr_to_read=(\d+)/) : num_field(b, /\bsize=(\d+)/)) ?? -1,
          async_pages: (unbounded ? num_field(b, /\blookahead_size=(\d+)/) : num_field(b, /\basync_size=(\d+)/)) ?? -1,
        });
        return;
      }
      case 'kmem_cache_alloc':
        if (/\bname=buffer_head\b/.test(b)) this.bh_alloc(r);
        return;
      case 'kmalloc': {
        // Filtered in the kernel to call_site.function == ifs_alloc*: every record is one iomap_folio_state.
        const bytes = num_field(b, /\bbytes_alloc=(\d+)/);
        if (bytes === undefined) return this.unrecognised(r);
        this.ifs_bytes += bytes;
        this.detail.ifs_allocations++;
        return;
      }
      default:
        break;
    }
    if (r.event.startsWith('ext4_')) this.ext4_event(r);
    else if (r.event.startsWith('iomap_')) this.iomap_event(r);
    else if (r.event.startsWith('xfs_')) this.xfs_event(r);
    else this.unrecognised(r);
  }

  private unrecognised(r: TraceRecord): void {
    hist_add(this.detail.unrecognised_events, r.event);
  }

  private bio_queue(b: string): void {
    const m = /^\d+,\d+ (\S+) (\d+) \+ (\d+)/.exec(b);
    if (!m) return;
    const rwbs = m[1]!;
    const nr = Number(m[3]);
    if (nr === 0) {
      this.detail.flush_bios++;
      return;
    }
    const cls = this.ctx.data_extents.classify_sectors(Number(m[2]), nr);
    if (cls === 'other') {
      this.metadata_bios++;
      return;
    }
    if (cls === 'partial') this.detail.partial_data_bios++;
    const bytes = nr * 512;
    this.data_bios++;
    this.data_bio_bytes += bytes;
    hist_add(this.bio_hist, log2_bucket(bytes));
    hist_add(this.detail.data_bio_sizes, bytes);
    hist_add(this.detail.data_bios_by_op, rwbs.includes('R') ? 'read' : rwbs.includes('W') ? 'write' : rwbs);
  }

  private rq_issue(b: string): void {
    const m = /^\d+,\d+ (\S+) (\d+) \((.*?)\) (\d+) \+ (\d+)/.exec(b);
    if (!m) return;
    const nr = Number(m[5]);
    if (nr === 0) return; // flush requests carry no data
    const cls = this.ctx.data_extents.classify_sectors(Number(m[4]), nr);
    if (cls === 'other') {
      this.detail.metadata_requests++;
      return;
    }
    this.requests++;
    this.request_bytes += nr * 512;
    hist_add(this.detail.request_sizes, nr * 512);
  }

  private bh_alloc(r: TraceRecord): void {
    const bh = this.detail.buffer_heads;
    const stack = r.stack;
    if (!stack || stack.length === 0) {
      bh.no_stack++;
      return;
    }
    const ours = this.ctx.fsio_pids.has(r.pid);
    if (stack.some((f) => BH_META_RE.test(f))) {
      if (ours) bh.metadata++;
      else bh.other_tasks++;
      return;
    }
    if (stack.some((f) => BH_DATA_FUNCS.has(f))) {
      if (ours) bh.data++;
      else bh.other_tasks++;
      return;
    }
    bh.unclassified++;
  }

  private ext4_event(r: TraceRecord): void {
    const b = r.body;
    if (!this.dev_ours(b)) return;
    const ino = num_field(b, /\bino (\d+)/);
    if (ino === undefined) return this.unrecognised(r);
    if (!this.ino_ours(ino)) return;
    switch (r.event) {
      case 'ext4_es_lookup_extent_enter': {
        const lblk = num_field(b, /\blblk (\d+)/) ?? -1;
        const path = ext4_lookup_path(r.stack);
        const key = `${path}:${ino}:${lblk}`;
        if (this.last_lookup.get(r.pid) === key) return;
        this.last_lookup.set(r.pid, key);
        hist_add(this.detail.mapping_by_path, path);
        if (path === 'write_get_block') this.get_block_write++;
        else if (path === 'read_map') this.get_block_read++;
        else if (path === 'writeback_map') this.map_writeback++;
        else this.map_other++;
        return;
      }
      case 'ext4_da_reserve_space':
        this.delalloc++;
        this.detail.delalloc_blocks_reserved += num_field(b, /\breserve_blocks (\d+)/) ?? 0;
        return;
      case 'ext4_da_write_pages_extent':
        this.extents_alloc++;
        this.detail.extent_allocation_blocks.push(num_field(b, /\blen (\d+)/) ?? -1);
        return;
      case 'ext4_ext_map_blocks_enter':
        this.detail.ext4_ext_map_blocks_enter++;
        if (/\bflags \S*CONVERT/.test(b) && !/\bflags \S*CONVERT_UNWRITTEN/.test(b)) this.detail.ext4_unwritten_conversions++;
        return;
      case 'ext4_da_write_begin':
      case 'ext4_write_begin':
        this.detail.write_begin_calls++;
        return;
      default:
        return;
    }
  }

  private iomap_event(r: TraceRecord): void {
    const b = r.body;
    if (!this.dev_ours(b)) return;
    const ino = hex_field(b, /\bino 0x([0-9a-f]+)/);
    if (ino === undefined) return this.unrecognised(r);
    switch (r.event) {
      case 'iomap_iter': {
        const caller = /\bcaller (\S+)/.exec(b);
        this.iter_caller.set(r.pid, caller ? caller[1]!.replace(/\+.*$/, '') : '?');
        return;
      }
      case 'iomap_iter_dstmap': {
        if (!this.ino_ours(ino)) return;
        this.iomap_begin++;
        hist_add(this.detail.iomap_begin_by_caller, this.iter_caller.get(r.pid) ?? '?');
        hist_add(this.detail.iomap_begin_by_type, /\btype (\S+)/.exec(b)?.[1] ?? '?');
        return;
      }
      case 'iomap_readahead':
        if (this.ino_ours(ino)) this.detail.iomap_readahead_nr_pages.push(num_field(b, /\bnr_pages (\d+)/) ?? -1);
        return;
      case 'iomap_writeback_folio':
        if (this.ino_ours(ino)) this.detail.iomap_writeback_folio++;
        return;
      case 'iomap_add_to_ioend':
        if (this.ino_ours(ino)) this.detail.iomap_add_to_ioend++;
        return;
      default:
        return;
    }
  }

  private xfs_event(r: TraceRecord): void {
    const b = r.body;
    if (!this.dev_ours(b)) return;
    const ino = hex_field(b, /\bino 0x([0-9a-f]+)/);
    if (ino === undefined) return this.unrecognised(r);
    if (!this.ino_ours(ino)) return;
    switch (r.event) {
      case 'xfs_iomap_alloc':
        if (/\bfork data\b/.test(b)) this.delalloc++;
        return;
      case 'xfs_iomap_found':
        this.detail.xfs_iomap_found++;
        return;
      case 'xfs_map_blocks_found':
        this.detail.xfs_map_blocks.found++;
        return;
      case 'xfs_map_blocks_alloc':
        this.detail.xfs_map_blocks.alloc++;
        this.extents_alloc++;
        this.detail.extent_allocation_blocks.push(hex_field(b, /\bfsbcount 0x([0-9a-f]+)/) ?? -1);
        return;
      default:
        return;
    }
  }

  result(): { metrics: FsMetrics; detail: MetricsDetail } {
    const get_block_calls = this.get_block_write + this.get_block_read;
    const metrics: FsMetrics = {
      get_block_calls,
      iomap_begin_calls: this.iomap_begin,
      mapping_calls: get_block_calls + this.iomap_begin,
      delalloc_reservations: this.delalloc,
      extents_allocated: this.extents_alloc,
      data_bios: this.data_bios,
      data_bio_bytes: this.data_bio_bytes,
      data_bio_size_hist: sort_keys(this.bio_hist),
      requests: this.requests,
      request_bytes: this.request_bytes,
      metadata_bios: this.metadata_bios,
      folios_added_by_order: sort_keys(this.folios),
      buffer_heads_allocated: this.detail.buffer_heads.data,
      buffer_head_bytes: this.detail.buffer_heads.data * this.ctx.bh_objsize,
      readahead_calls: this.readahead_calls,
    };
    if (this.ctx.ifs_traced) metrics.iomap_folio_state_bytes = this.ifs_bytes;
    const d = this.detail;
    d.data_bio_sizes = sort_keys(d.data_bio_sizes);
    d.request_sizes = sort_keys(d.request_sizes);
    return { metrics, detail: d };
  }
}

/** Which data path an ext4_map_blocks lookup came from, by the innermost recognised caller in its stack. */
export function ext4_lookup_path(stack: readonly string[] | undefined): string {
  if (!stack) return 'no_stack';
  for (const f of stack) {
    if (GET_BLOCK_FUNCS.has(f)) return 'write_get_block';
    if (READ_MAP_FUNCS.has(f)) return 'read_map';
    if (WRITEBACK_MAP_FUNCS.has(f)) return 'writeback_map';
    if (f === 'ext4_end_io_rsv_work' || f === 'ext4_convert_unwritten_io_end_vec') return 'end_io_convert';
  }
  return 'other';
}

function num_field(body: string, re: RegExp): number | undefined {
  const m = re.exec(body);
  return m ? Number(m[1]) : undefined;
}

function hex_field(body: string, re: RegExp): number | undefined {
  const m = re.exec(body);
  return m ? parseInt(m[1]!, 16) : undefined;
}

function sort_keys(h: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of Object.keys(h).sort((a, b) => Number(a) - Number(b))) out[k] = h[k]!;
  return out;
}
