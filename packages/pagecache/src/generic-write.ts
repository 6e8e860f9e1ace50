import { PAGE_SIZE } from '@foliolab/memmap';
import type { PageCache } from './pagecache.js';

/** ->write_begin / ->write_end of a backend that uses generic_perform_write(). */
export interface WriteBeginEnd {
  /** Prepare [pos, pos+len) of the folio for a copy (map blocks, read partial edges). */
  write_begin(ino: number, folio: number, pos: number, len: number): void;
  /** Commit `copied` bytes at pos: uptodate and dirty state. */
  write_end(ino: number, folio: number, pos: number, len: number, copied: number): void;
}

/**
 * generic_perform_write() (mm/filemap.c, 6.16+): chunks of mapping_max_folio_size() (PAGE_SIZE when
 * the mapping has no large folios), aligned to the chunk; each chunk is clipped to the folio that
 * write_begin found or created; copy; write_end; i_size grows under the folio lock.
 */
export function generic_perform_write(pc: PageCache, ops: WriteBeginEnd, ino: number, pos: number, len: number, src: Uint8Array | null, srcOff: number): number {
  const chunk = PAGE_SIZE << pc.maxOrder;
  let written = 0;
  while (len > 0) {
    const offset = pos % chunk;
    let bytes = Math.min(chunk - offset, len);
    const f = pc.write_get_folio(ino, pos, bytes);
    const foff = pos - pc.folio_pos(f);
    if (bytes > pc.folio_size(f) - foff) bytes = pc.folio_size(f) - foff;
    ops.write_begin(ino, f, pos, bytes);
    pc.folio_copy_in(f, foff, src, srcOff + written, bytes);
    ops.write_end(ino, f, pos, bytes, bytes);
    pc.write_end_size(ino, pos + bytes);
    pc.folio_unlock(f);
    pos += bytes;
    len -= bytes;
    written += bytes;
  }
  return written;
}
