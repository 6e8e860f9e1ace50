import { SIZEOF_WAIT_QUEUE_HEAD, type WaitEnv, type WaitPolicy } from '@foliolab/pagewait';
import { hash64 } from './hash.js';

/** mm/filemap.c: #define PAGE_WAIT_TABLE_BITS 8 */
export const PAGE_WAIT_TABLE_BITS = 8;
/** Accepted range for the option (2^20 buckets is 24 MiB of wait_queue_heads). */
export const MIN_TABLE_BITS = 1;
export const MAX_TABLE_BITS = 20;

export interface HashedWaitPolicyOptions {
  /** PAGE_WAIT_TABLE_BITS: the table has 2^tableBits queues. Default 8 (256). */
  tableBits?: number;
  /** Break walks with a bookmark every WAITQUEUE_WALK_BREAK_CNT entries (v4.14 .. v6.6). Default false (v6.7+). */
  bookmarks?: boolean;
}

export class HashedOptionError extends Error {
  constructor(
    readonly option: string,
    readonly reason: string,
  ) {
    super(`pagewait-hashed.${option}: ${reason}`);
    this.name = 'HashedOptionError';
  }
}

/**
 * The kernel's folio_wait_table: 2^bits wait_queue_heads; folio_waitqueue(folio) =
 * &folio_wait_table[hash_ptr(folio, PAGE_WAIT_TABLE_BITS)], hashing the address of the folio's head
 * struct page. Every waiter of every folio that hashes to a bucket shares its list, so a wake walks them
 * all (skipping foreign entries in wake_page_function) until it wakes an exclusive waiter of its folio.
 */
export class HashedWaitPolicy implements WaitPolicy {
  readonly name: string;
  readonly tableBits: number;
  readonly bookmarks: boolean;
  private env!: WaitEnv;
  private firstHead = 0;

  constructor(options: HashedWaitPolicyOptions = {}) {
    const bits = options.tableBits ?? PAGE_WAIT_TABLE_BITS;
    if (!Number.isInteger(bits) || bits < MIN_TABLE_BITS || bits > MAX_TABLE_BITS)
      throw new HashedOptionError('tableBits', `must be an integer ${MIN_TABLE_BITS}..${MAX_TABLE_BITS}, got ${JSON.stringify(bits)}`);
    const bookmarks = options.bookmarks ?? false;
    if (typeof bookmarks !== 'boolean') throw new HashedOptionError('bookmarks', `must be true or false, got ${JSON.stringify(bookmarks)}`);
    this.tableBits = bits;
    this.bookmarks = bookmarks;
    const extras = [bits !== PAGE_WAIT_TABLE_BITS ? `bits=${bits}` : '', bookmarks ? 'bookmarks' : ''].filter(Boolean);
    this.name = extras.length ? `hashed:${extras.join(',')}` : 'hashed';
  }

  bind(env: WaitEnv): void {
    this.env = env;
    this.firstHead = env.arena.allocHeads(1 << this.tableBits);
  }

  /** hash_ptr(folio address, tableBits). */
  bucketOf(folio: number): number {
    const host = this.env.host;
    return hash64(host.folioAddressHi(folio), host.folioAddressLo(folio), this.tableBits);
  }

  enqueue(w: number): void {
    const env = this.env;
    const len = env.arena.addTail(this.firstHead + this.bucketOf(env.waiterFolio[w]), w);
    if (len > env.counters.longestQueue) env.counters.longestQueue = len;
  }

  wake(folio: number, bit: number): void {
    const env = this.env;
    const q = this.firstHead + this.bucketOf(folio);
    const r = env.walk(q, folio, bit, this.bookmarks);
    // "It's possible to miss clearing waiters here, when we woke our page waiters, but the hashed
    // waitqueue has waiters for other pages on it. That's okay, it's a rare case. The next waker will clear it."
    if (!env.arena.active(q) || !r.pageMatch) env.clearWaiters(folio);
  }

  mappingRead(folio: number): number {
    return this.env.host.mappingRead(folio);
  }

  mappingIdentity(folio: number, expected: number): boolean {
    return this.env.host.mappingRead(folio) === expected;
  }

  mappingWrite(folio: number, value: number): void {
    this.env.host.mappingWrite(folio, value);
  }

  /** static wait_queue_head_t folio_wait_table[PAGE_WAIT_TABLE_SIZE]. */
  staticTableBytes(): number {
    return (1 << this.tableBits) * SIZEOF_WAIT_QUEUE_HEAD;
  }

  attachedBytes(): number {
    return 0;
  }

  peakAttachedBytes(): number {
    return 0;
  }

  /** Current entries per bucket, bucket order. */
  queueLengths(): Int32Array {
    return this.env.arena.queueLen.slice(this.firstHead, this.firstHead + (1 << this.tableBits));
  }
}

export function createHashedWaitPolicy(options: HashedWaitPolicyOptions = {}): HashedWaitPolicy {
  return new HashedWaitPolicy(options);
}
