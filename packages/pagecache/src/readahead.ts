import { PAGE_SHIFT, PAGE_SIZE, PG_uptodate, PG_writeback } from '@foliolab/memmap';
import { FsError } from './errors.js';
import { PG_readahead } from './flags.js';
import type { ReadaheadBatch } from './mapper.js';
import type { PageCache } from './pagecache.js';

const PAGEVEC_SIZE = 31;

/**
 * mm/readahead.c and the read side of mm/filemap.c, v6.16+ shape: page_cache_sync_ra() sizes the
 * initial window from the request (get_init_ra_size), page_cache_async_ra() pushes it forward when a
 * read reaches the PG_readahead marker (get_next_ra_size, up to read_ahead_kb or bdi->io_pages for
 * big requests) and raises ra->order by 2; page_cache_ra_order() allocates folios of that order
 * (capped by the mapping, aligned, not past EOF) and falls back to order-min pages
 * (page_cache_ra_unbounded) when a folio is already cached.
 *
 * The window is the file's file_ra_state (AddressSpace.ra*), shared by all readers of the file.
 */
export class Readahead {
  private readonly rac: ReadaheadBatch = { ino: 0, index: 0, nrPages: 0, folios: new Int32Array(64), count: 0 };
  private readonly batch = new Int32Array(PAGEVEC_SIZE);

  constructor(private readonly pc: PageCache) {}

  /** ra->ra_pages: read_ahead_kb in pages. */
  ra_pages(): number {
    return Math.floor((this.pc.bdev.profile.readAheadKb * 1024) / PAGE_SIZE);
  }

  reset(ino: number): void {
    const as = this.pc.spaces[ino]!;
    as.raStart = as.raSize = as.raAsync = as.raOrder = 0;
    as.prevPos = -1;
  }

  // ------------------------------------------------------------ filemap_read
  filemap_read(ino: number, pos: number, len: number, dst: Uint8Array | null, dstOff: number): number {
    const pc = this.pc;
    const isize = pc.fs.isize[ino]!;
    if (len === 0 || pos >= isize) return 0;
    const end = Math.min(pos + len, isize);
    const start = pos;
    while (pos < end) {
      const index = Math.floor(pos / PAGE_SIZE);
      const lastIndex = Math.ceil(end / PAGE_SIZE);
      const n = this.filemap_get_pages(ino, index, lastIndex, pos, end);
      for (let k = 0; k < n; k++) {
        const f = this.batch[k]!;
        const fpos = pc.folio_pos(f);
        const fend = fpos + pc.folio_size(f);
        if (fend > pos && pos < end) {
          const to = Math.min(end, fend);
          pc.folio_copy_out(f, pos - fpos, dst, dstOff + (pos - start), to - pos);
          pos = to;
        }
        pc.mm.folio_put(f); // the batch's reference
      }
    }
    pc.spaces[ino]!.prevPos = pos;
    pc.stats.detail.read_bytes += pos - start;
    return pos - start;
  }

  /** filemap_get_read_batch(): cached folios from index on, stopping after a !uptodate or PG_readahead one. */
  private filemap_get_read_batch(ino: number, index: number, last: number): number {
    const pc = this.pc;
    const idx = pc.spaces[ino]!.index;
    let n = 0;
    let i = index;
    while (i <= last && n < PAGEVEC_SIZE) {
      const f = idx.get(i);
      if (f < 0) break;
      // The batch holds a reference: reclaim (from readahead below) cannot free these folios.
      pc.mm.folio_get(f);
      this.batch[n++] = f;
      if (!pc.test(f, PG_uptodate) || pc.test(f, PG_readahead)) break;
      i = pc.folio_index(f) + pc.folio_nr_pages(f);
    }
    return n;
  }

  /** filemap_get_pages() */
  private filemap_get_pages(ino: number, index: number, lastIndex: number, pos: number, end: number): number {
    const pc = this.pc;
    let n = this.filemap_get_read_batch(ino, index, lastIndex - 1);
    if (n === 0) {
      this.page_cache_sync_ra(ino, index, lastIndex - index);
      n = this.filemap_get_read_batch(ino, index, lastIndex - 1);
    }
    if (n === 0) {
      const f = this.filemap_create_folio(ino, index);
      pc.mm.folio_get(f);
      this.batch[0] = f;
      return 1;
    }
    const f = this.batch[n - 1]!;
    if (pc.test(f, PG_readahead)) this.page_cache_async_ra(ino, f, lastIndex - pc.folio_index(f));
    if (!pc.test(f, PG_uptodate)) {
      // filemap_update_page(): enough if the requested bytes of the folio are uptodate.
      const fpos = pc.folio_pos(f);
      const from = Math.max(pos, fpos) - fpos;
      const to = Math.min(end, fpos + pc.folio_size(f)) - fpos;
      if (!pc.mapper.is_partially_uptodate(ino, f, from, to - from)) pc.read_folio(ino, f);
    }
    return n;
  }

  /** filemap_create_folio(): one min-order folio at index, read with ->read_folio. */
  filemap_create_folio(ino: number, index: number): number {
    const pc = this.pc;
    const order = pc.minOrder;
    const at = index - (index & ((1 << order) - 1));
    const f = pc.filemap_alloc_folio(order);
    if (f < 0) throw new FsError('ENOMEM', pc.fs.name_of(ino), `no memory for a page cache folio at page ${index}`);
    pc.filemap_add_folio(ino, f, at);
    pc.read_folio(ino, f);
    return f;
  }

  // ------------------------------------------------------------ window sizing
  /** ractl_max_pages(): a request bigger than the window may be served up to bdi->io_pages. */
  private ractl_max_pages(reqSize: number): number {
    const raPages = this.ra_pages();
    const io = this.pc.bdev.io_pages();
    let max = raPages;
    if (reqSize > max && io > max) max = Math.min(reqSize, io);
    return max;
  }

  private static get_init_ra_size(size: number, max: number): number {
    let newsize = 1;
    while (newsize < size) newsize *= 2;
    if (newsize <= max / 32) newsize *= 4;
    else if (newsize <= max / 4) newsize *= 2;
    else newsize = max;
    return newsize;
  }

  private static get_next_ra_size(cur: number, max: number): number {
    if (cur < max / 16) return 4 * cur;
    if (cur <= max / 2) return 2 * cur;
    return max;
  }

  /** page_cache_sync_ra() */
  page_cache_sync_ra(ino: number, index: number, reqCount: number): void {
    const pc = this.pc;
    const as = pc.spaces[ino]!;
    pc.stats.readahead_calls++;
    if (this.ra_pages() === 0) {
      this.force_page_cache_ra(ino, index, reqCount);
      return;
    }
    const maxPages = this.ractl_max_pages(reqCount);
    const prevIndex = as.prevPos < 0 ? -1 : Math.floor(as.prevPos / PAGE_SIZE);
    if (index === 0 || reqCount > maxPages || (prevIndex >= 0 && index - prevIndex <= 1 && index >= prevIndex)) {
      as.raStart = index;
      as.raSize = Readahead.get_init_ra_size(reqCount, maxPages);
      as.raAsync = as.raSize > reqCount ? as.raSize - reqCount : as.raSize >> 1;
    } else {
      // Look back for the cached history a sequential stream would leave behind.
      const idx = as.index;
      let miss = index - 1;
      while (miss >= 0 && index - 1 - miss < maxPages && idx.get(miss) >= 0) miss--;
      let contig = index - miss - 1;
      if (contig <= reqCount) {
        this.do_page_cache_ra(ino, index, reqCount, 0);
        return;
      }
      if (miss < 0) contig *= 2;
      as.raStart = index;
      as.raSize = Math.min(contig + reqCount, maxPages);
      as.raAsync = 1;
    }
    as.raOrder = 0;
    this.page_cache_ra_order(ino, as.raStart);
  }

  /** page_cache_async_ra(): the reader reached the PG_readahead folio f. */
  page_cache_async_ra(ino: number, f: number, reqCount: number): void {
    const pc = this.pc;
    const as = pc.spaces[ino]!;
    if (this.ra_pages() === 0) return;
    if (pc.test(f, PG_writeback)) return;
    pc.clear(f, PG_readahead);
    pc.stats.readahead_calls++;
    const maxPages = this.ractl_max_pages(reqCount);
    const index = pc.folio_index(f);
    const nr = pc.folio_nr_pages(f);
    const m = as.raStart + as.raSize - as.raAsync;
    const expected = m - (m % nr);
    if (index === expected) {
      as.raStart += as.raSize;
      as.raSize = Math.max(as.raSize, Readahead.get_next_ra_size(as.raSize, maxPages));
      as.raAsync = as.raSize;
    } else {
      // No valid state (interleaved readers): size the window from what is cached after the marker.
      let start = index + 1;
      while (start - index <= maxPages && as.index.get(start) >= 0) start++;
      if (start - index > maxPages) return;
      as.raStart = start;
      as.raSize = Readahead.get_next_ra_size(start - index + reqCount, maxPages);
      as.raAsync = as.raSize;
    }
    as.raOrder += 2;
    this.page_cache_ra_order(ino, as.raStart);
  }

  /** force_page_cache_ra(): read_ahead_kb = 0 reads exactly the request, in 2 MiB chunks. */
  private force_page_cache_ra(ino: number, index: number, nr: number): void {
    const chunk = (2 * 1024 * 1024) / PAGE_SIZE;
    while (nr > 0) {
      const n = Math.min(nr, chunk);
      this.do_page_cache_ra(ino, index, n, 0);
      index += n;
      nr -= n;
    }
  }

  // ------------------------------------------------------------ allocation
  private rac_start(ino: number, index: number): ReadaheadBatch {
    const r = this.rac;
    r.ino = ino;
    r.index = index;
    r.nrPages = 0;
    r.count = 0;
    return r;
  }

  private rac_push(f: number, nr: number): void {
    const r = this.rac;
    if (r.count === r.folios.length) {
      const a = new Int32Array(r.folios.length * 2);
      a.set(r.folios);
      r.folios = a;
    }
    r.folios[r.count++] = f;
    r.nrPages += nr;
  }

  /** read_pages() on the current batch; the next batch starts after it. */
  private rac_submit(): void {
    const r = this.rac;
    const next = r.index + r.nrPages;
    this.pc.read_pages(r);
    r.index = next;
  }

  /** page_cache_ra_order() */
  private page_cache_ra_order(ino: number, start: number): void {
    const pc = this.pc;
    const as = pc.spaces[ino]!;
    const isize = pc.fs.isize[ino]!;
    if (isize === 0) return;
    let index = start;
    if (pc.maxOrder === 0) {
      as.raOrder = 0;
      this.do_page_cache_ra(ino, start, as.raSize, as.raAsync);
      return;
    }
    let limit = Math.floor((isize - 1) / PAGE_SIZE);
    const mark = index + as.raSize - as.raAsync;
    limit = Math.min(limit, index + as.raSize - 1);
    let newOrder = Math.min(pc.maxOrder, as.raOrder);
    newOrder = Math.min(newOrder, 31 - Math.clz32(Math.max(1, as.raSize)));
    newOrder = Math.max(newOrder, pc.minOrder);
    as.raOrder = newOrder;
    index -= index & ((1 << pc.minOrder) - 1);
    this.rac_start(ino, index);
    let err = false;
    while (index <= limit) {
      let order = newOrder;
      if (index & ((1 << order) - 1)) order = 31 - Math.clz32(index & -index);
      while (order > pc.minOrder && index + (1 << order) - 1 > limit) order--;
      if (!this.ra_alloc_folio(ino, index, mark, order)) {
        err = true;
        break;
      }
      index += 1 << order;
    }
    this.rac_submit();
    if (!err) return;
    if (as.raSize > index - start) this.do_page_cache_ra(ino, index, as.raSize - (index - start), as.raAsync);
  }

  /** ra_alloc_folio(): false when memory is short or the range is already cached (-EEXIST). */
  private ra_alloc_folio(ino: number, index: number, mark: number, order: number): boolean {
    const pc = this.pc;
    const nr = 1 << order;
    if (!pc.spaces[ino]!.index.range_empty(index, nr)) return false;
    const f = pc.filemap_alloc_folio(order);
    if (f < 0) return false;
    pc.filemap_add_folio(ino, f, index);
    if (index === mark - (mark % nr)) pc.set(f, PG_readahead);
    this.rac_push(f, nr);
    return true;
  }

  /** do_page_cache_ra(): clip to EOF, then page_cache_ra_unbounded(). */
  private do_page_cache_ra(ino: number, index: number, nrToRead: number, lookahead: number): void {
    const isize = this.pc.fs.isize[ino]!;
    if (isize === 0) return;
    const endIndex = Math.floor((isize - 1) / PAGE_SIZE);
    if (index > endIndex) return;
    if (nrToRead > endIndex - index) nrToRead = endIndex - index + 1;
    this.page_cache_ra_unbounded(ino, index, nrToRead, lookahead);
  }

  /** page_cache_ra_unbounded(): min-order folios; a cached folio ends the current batch. */
  private page_cache_ra_unbounded(ino: number, index: number, nrToRead: number, lookahead: number): void {
    const pc = this.pc;
    const idx = pc.spaces[ino]!.index;
    const step = 1 << pc.minOrder;
    index -= index & (step - 1);
    const mark = nrToRead - lookahead;
    this.rac_start(ino, index);
    for (let i = 0; i < nrToRead; ) {
      const existing = idx.get(index + i);
      if (existing >= 0) {
        this.rac_submit();
        i = pc.folio_index(existing) + pc.folio_nr_pages(existing) - index;
        this.rac.index = index + i;
        continue;
      }
      const f = pc.filemap_alloc_folio(pc.minOrder);
      if (f < 0) break;
      pc.filemap_add_folio(ino, f, index + i);
      if (i === mark) pc.set(f, PG_readahead);
      this.rac_push(f, step);
      i += step;
    }
    this.rac_submit();
  }
}

export { PAGE_SHIFT };
