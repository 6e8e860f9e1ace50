import { growI32 } from './event-queue.js';

/**
 * Intrusive circular doubly-linked lists, as struct list_head, over numbered nodes held in typed arrays.
 * Nodes 0..nrEntries-1 are wait_queue_entry nodes (one per task: a task waits on at most one folio bit at
 * a time, its wait_page_queue lives on its stack), then one bookmark node, then queue heads allocated by
 * the policy. A head is a sentinel: an empty queue has next[h] === prev[h] === h.
 *
 * Invariant: onQueue[n] is the head whose list holds entry n, or -1; queueLen[h] counts entries on h.
 */
export class WaitQueueArena {
  next: Int32Array;
  prev: Int32Array;
  onQueue: Int32Array;
  queueLen: Int32Array;
  private used: number;
  /** Node used by bookmarked walks (the walk is atomic in simulated time, so one is enough). */
  readonly bookmark: number;

  constructor(readonly nrEntries: number) {
    const cap = Math.max(16, nrEntries + 1);
    this.next = new Int32Array(cap);
    this.prev = new Int32Array(cap);
    this.onQueue = new Int32Array(cap).fill(-1);
    this.queueLen = new Int32Array(cap);
    this.used = nrEntries + 1;
    this.bookmark = nrEntries;
    for (let n = 0; n < this.used; n++) {
      this.next[n] = n;
      this.prev[n] = n;
    }
  }

  /** Allocate `count` empty queue heads; returns the first id (heads are consecutive). */
  allocHeads(count: number): number {
    const first = this.used;
    const need = first + count;
    if (need > this.next.length) {
      let cap = this.next.length;
      while (cap < need) cap *= 2;
      this.next = growI32(this.next, cap);
      this.prev = growI32(this.prev, cap);
      const oq = new Int32Array(cap).fill(-1);
      oq.set(this.onQueue);
      this.onQueue = oq;
      this.queueLen = growI32(this.queueLen, cap);
    }
    for (let h = first; h < need; h++) {
      this.next[h] = h;
      this.prev[h] = h;
      this.queueLen[h] = 0;
    }
    this.used = need;
    return first;
  }

  /** __add_wait_queue_entry_tail. Returns the queue length after the add. */
  addTail(head: number, node: number): number {
    const last = this.prev[head];
    this.next[last] = node;
    this.prev[node] = last;
    this.next[node] = head;
    this.prev[head] = node;
    this.onQueue[node] = head;
    return ++this.queueLen[head];
  }

  /** list_add_tail(node, before): insert `node` just before `before` on head's list (bookmarks). */
  insertBefore(node: number, before: number, head: number): void {
    const p = this.prev[before];
    this.next[p] = node;
    this.prev[node] = p;
    this.next[node] = before;
    this.prev[before] = node;
    this.onQueue[node] = head;
    this.queueLen[head]++;
  }

  /** list_del_init. */
  del(node: number): void {
    const head = this.onQueue[node];
    const n = this.next[node];
    const p = this.prev[node];
    this.next[p] = n;
    this.prev[n] = p;
    this.next[node] = node;
    this.prev[node] = node;
    this.onQueue[node] = -1;
    this.queueLen[head]--;
  }

  /** waitqueue_active(). */
  active(head: number): boolean {
    return this.next[head] !== head;
  }
}
