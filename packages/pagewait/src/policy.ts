import type { WaitFolioHost } from './host.js';
import type { WaitQueueArena } from './wait-queue.js';

/** The identity sites of the truncate path that read or write `folio->mapping`. */
export const MAPPING_SITES = [
  /** filemap_fault / find_lock_entries / __filemap_get_folio: after folio_lock, "Has the page been truncated?" (folio->mapping != mapping). */
  'find_lock_entry',
  /** truncate_inode_folio / truncate_inode_pages_range: `if (folio->mapping != mapping)` skip. */
  'truncate_inode_folio',
  /** page_cache_delete: folio->mapping = NULL. */
  'page_cache_delete',
  /** __filemap_add_folio: folio->mapping = mapping. */
  'filemap_add_folio',
] as const;
export type MappingSite = (typeof MAPPING_SITES)[number];
export const SITE_FIND_LOCK_ENTRY = 0;
export const SITE_TRUNCATE_INODE_FOLIO = 1;
export const SITE_PAGE_CACHE_DELETE = 2;
export const SITE_FILEMAP_ADD_FOLIO = 3;

/** What a policy's wake asks the engine to do for one queue: __wake_up_common with wake_page_function. */
export interface WalkResult {
  /** wait_page_key.page_match: some entry of this folio (any bit) was seen. */
  pageMatch: boolean;
}

/** Counters a policy updates directly; the engine owns and reports them. */
export interface WaitCounters {
  /** Reads of `folio->mapping` by its consumers (not the policy's own bookkeeping). */
  mappingReads: number;
  /** Mapping reads and writes that had to follow a tag: one more dependent load each. */
  mappingIndirections: number;
  /** Truncate-path identity reads/writes that had to see through a tag. */
  truncateSeeThroughs: number;
  /** Per MAPPING_SITES index: how many times that site had to see through. */
  seeThroughBySite: Int32Array;
  /** Longest queue (bucket for hashed, per-folio per-bit queue for attached) at any enqueue. */
  longestQueue: number;
}

/** The engine as a policy sees it. */
export interface WaitEnv {
  readonly host: WaitFolioHost;
  readonly arena: WaitQueueArena;
  /** Waiter (= task) fields, indexed by entry node id. */
  readonly waiterFolio: Int32Array;
  readonly waiterBit: Uint8Array;
  readonly nrTasks: number;
  readonly counters: WaitCounters;
  /**
   * Walk one queue for key (folio, bit) exactly as folio_wake_bit → __wake_up_common → wake_page_function:
   * foreign entries (other folio or other bit) are visited and skipped; an exclusive waiter whose bit is
   * still set stops the walk; a WQ_FLAG_CUSTOM waiter gets the lock handed off; nr_exclusive is 1 per pass.
   * With `bookmarks`, every pass breaks after `++cnt > WAITQUEUE_WALK_BREAK_CNT` entries and resumes.
   */
  walk(head: number, folio: number, bit: number, bookmarks: boolean): WalkResult;
  /** folio_clear_waiters(). */
  clearWaiters(folio: number): void;
}

/**
 * Where a waiter queues and what a wake walks. The engine owns PG_waiters setting, the wait entries and
 * the walk; a policy owns the queue heads and decides which one an entry goes on and which one a wake
 * walks, and when PG_waiters may be cleared.
 */
export interface WaitPolicy {
  readonly name: string;
  /** Called once, before any other call. */
  bind(env: WaitEnv): void;
  /** Queue entry `w` (its waiterFolio / waiterBit are filled in) at the tail of the right queue. */
  enqueue(w: number): void;
  /** folio_wake_bit(folio, bit): walk, then clear PG_waiters when the policy knows nobody waits. */
  wake(folio: number, bit: number): void;
  /** folio->mapping as its consumers see it (attached: through the tag). */
  mappingRead(folio: number): number;
  /** `folio->mapping != expected`-style identity check at a truncate-path site. */
  mappingIdentity(folio: number, expected: number, site: number): boolean;
  /** folio->mapping = value at a truncate-path site. */
  mappingWrite(folio: number, value: number, site: number): void;
  /** Bytes of static tables (hashed: the wait table). */
  staticTableBytes(): number;
  /** Bytes attached to folios right now, and the peak. */
  attachedBytes(): number;
  peakAttachedBytes(): number;
  /** Current length of every queue head the policy owns (hashed: per bucket; attached: per live page_wait per bit). */
  queueLengths(): Int32Array;
}
