import { fileFaultOps, type PageCache } from '@foliolab/pagecache';
import type { FileFaultHandler } from '@foliolab/vm';

const SHMEM = 'shmem:';

/**
 * filemap_fault for the vm: the page cache gives the folio (read in if needed, one reference for the
 * mapping), the vm maps the page of it at pgoff. Shared anonymous memory is a shmem file the page cache
 * creates on first touch and grows to cover the faulting page, as shmem_fault would allocate it.
 */
export function file_fault_handler(pc: PageCache): FileFaultHandler {
  const ops = fileFaultOps(pc);
  /** shmem_get_folio: a shared anonymous mapping's backing file exists and covers the page. */
  const shmem_grow = (file: string, pgoff: number): void => {
    const ino = pc.open_file(file, true);
    const need = (pgoff + 1) * 4096;
    if (pc.isize(ino) < need) pc.truncate(ino, need);
  };
  return {
    fault(file, pgoff) {
      if (file.startsWith(SHMEM)) shmem_grow(file, pgoff);
      const f = ops.fault(file, pgoff);
      if (f < 0) return null;
      return { folio: f, page: pc.mm.folio_pfn(f) + (pgoff - ops.folio_index(f)) };
    },
    page_mkwrite(file, folio) {
      ops.page_mkwrite(file, folio);
    },
  };
}
