import { PG_reclaim } from '@foliolab/memmap';

/** PG_readahead is an alias of PG_reclaim in the kernel (a folio under readahead I/O is never under reclaim). */
export const PG_readahead = PG_reclaim;
