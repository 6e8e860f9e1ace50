import { SIZEOF_SPINLOCK_T, SIZEOF_WAIT_QUEUE_ENTRY, SIZEOF_WAIT_QUEUE_HEAD } from '@foliolab/pagewait';

/**
 * struct page_wait from Glisse's 2018 proposal (LWN, "Repurposing page->mapping"):
 *
 *   struct page_wait {
 *       struct wait_queue_head wq[PAGE_WRITABLE_BITS];  // one queue per waitable bit: 24 B each
 *       struct wait_queue_entry entry;                    // 40 B
 *       struct page_mapping base;                         // { mapping; flags; }: 16 B
 *       spinlock_t lock;                                  // 4 B
 *       bool own;                                         // 1 B, then 3 B padding to 8-byte alignment
 *   };
 *
 * With the two bits folio code waits on (PG_locked, PG_writeback): 48 + 40 + 16 + 4 + 1 + 3 = 112 B,
 * a kmalloc-128 object.
 */
export function pageWaitBytes(waitableBits: number): number {
  const unpadded = waitableBits * SIZEOF_WAIT_QUEUE_HEAD + SIZEOF_WAIT_QUEUE_ENTRY + 16 + SIZEOF_SPINLOCK_T + 1;
  return Math.ceil(unpadded / 8) * 8;
}

/** The bits a page_wait has a queue for, in queue order (index = position). */
export const WAITABLE_BITS_DEFAULT = 2;

/** Size of the page_wait this package attaches (two waitable bits). */
export const PAGE_WAIT_BYTES = pageWaitBytes(WAITABLE_BITS_DEFAULT);
