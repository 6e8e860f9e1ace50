/**
 * Page-flag bit numbers and wait-queue entry flags, with the kernel's values.
 *
 * enum pageflags (include/linux/page-flags.h, 6.x): PG_locked is bit 0 and PG_waiters bit 7, in the same
 * byte, so folio_unlock() can clear PG_locked and test PG_waiters with one byte operation
 * (BUILD_BUG_ON(PG_waiters != 7) in mm/filemap.c).
 */
export { PG_locked, PG_writeback, PG_referenced, PG_uptodate, PG_dirty, PG_lru, PG_head, PG_waiters } from '@foliolab/memmap';

/** include/linux/wait.h */
export const WQ_FLAG_EXCLUSIVE = 0x01;
export const WQ_FLAG_WOKEN = 0x02;
/** Removed upstream in v6.7 (Wilcox, "sched: Remove wait bookmarks"); modelled for the hashed policy's option. */
export const WQ_FLAG_BOOKMARK = 0x04;
export const WQ_FLAG_CUSTOM = 0x08;
export const WQ_FLAG_DONE = 0x10;

/** kernel/sched/wait.c: a bookmarked walk breaks once `++cnt > WAITQUEUE_WALK_BREAK_CNT`. */
export const WAITQUEUE_WALK_BREAK_CNT = 64;

/** mm/filemap.c: "How many times do we accept lock stealing from under a waiter?" */
export const SYSCTL_PAGE_LOCK_UNFAIRNESS = 5;

/** folio_wait_bit_common()'s `enum behavior`. */
export const EXCLUSIVE = 0;
export const SHARED = 1;
export const DROP = 2;
export type WaitBehavior = typeof EXCLUSIVE | typeof SHARED | typeof DROP;

/** x86-64 sizes, no lockdep / spinlock debugging. */
export const SIZEOF_SPINLOCK_T = 4;
export const SIZEOF_LIST_HEAD = 16;
/** struct wait_queue_head { spinlock_t lock; struct list_head head; }: 4 + 4 padding + 16. */
export const SIZEOF_WAIT_QUEUE_HEAD = 24;
/** struct wait_queue_entry { unsigned int flags; void *private; wait_queue_func_t func; struct list_head entry; }: 4 + 4 + 8 + 8 + 16. */
export const SIZEOF_WAIT_QUEUE_ENTRY = 40;
