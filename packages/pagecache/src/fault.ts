import type { PageCache } from './pagecache.js';

/**
 * What the vm needs from the page cache for file-backed mappings (its FileFaultHandler): the folio
 * behind a page of a file, and the page_mkwrite notification of a write fault on a shared mapping.
 */
export interface FileFaultOps {
  /** filemap_fault(): the uptodate folio holding page pgoff of the file, with one reference for the mapping; -1 past EOF (SIGBUS). */
  fault(file: string, pgoff: number): number;
  /** ->page_mkwrite: blocks mapped (or reserved) and the folio dirtied. False if the folio no longer belongs to the file. */
  page_mkwrite(file: string, folio: number): boolean;
  /** Drop a mapping's reference (unmap). */
  release(folio: number): void;
  /** First page index and size in pages of a folio, to map it with PTEs or a PMD. */
  folio_index(folio: number): number;
  folio_nr_pages(folio: number): number;
}

/** The FileFaultOps of one page cache; files are looked up by name among the opened ones. */
export function fileFaultOps(pc: PageCache): FileFaultOps {
  return {
    fault: (file, pgoff) => pc.filemap_fault(pc.ino_of(file), pgoff),
    page_mkwrite: (file, folio) => pc.page_mkwrite(pc.ino_of(file), folio),
    release: (folio) => pc.folio_put(folio),
    folio_index: (folio) => pc.folio_index(folio),
    folio_nr_pages: (folio) => pc.folio_nr_pages(folio),
  };
}
