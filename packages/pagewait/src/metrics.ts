import { growF64 } from './event-queue.js';

/** A growable sample list; percentiles are nearest-rank over all samples (exact, no histogram binning). */
export class Samples {
  private v = new Float64Array(256);
  n = 0;
  sum = 0;
  max = 0;

  add(x: number): void {
    if (this.n === this.v.length) this.v = growF64(this.v, this.v.length * 2);
    this.v[this.n++] = x;
    this.sum += x;
    if (x > this.max) this.max = x;
  }

  mean(): number {
    return this.n === 0 ? 0 : this.sum / this.n;
  }

  /** The distribution as [value, count] pairs in ascending value order. */
  histogram(): Array<[number, number]> {
    const sorted = this.v.slice(0, this.n).sort();
    const out: Array<[number, number]> = [];
    for (let i = 0; i < sorted.length; i++) {
      const last = out[out.length - 1];
      if (last && last[0] === sorted[i]) last[1]++;
      else out.push([sorted[i]!, 1]);
    }
    return out;
  }

  /** Nearest-rank percentiles for each q in (0, 1]. */
  percentiles(qs: readonly number[]): number[] {
    if (this.n === 0) return qs.map(() => 0);
    const sorted = this.v.slice(0, this.n).sort();
    return qs.map((q) => sorted[Math.min(this.n - 1, Math.max(0, Math.ceil(q * this.n) - 1))]);
  }
}

/** The metrics both wait policies report, with the same names. Times are simulated nanoseconds. */
export interface PagewaitMetrics {
  policy: string;
  /** folio_wake_bit calls that found PG_waiters set and walked a queue. */
  wakeups: number;
  /** Tasks woken (wake_page_function returned a wake). */
  tasksWoken: number;
  /** wake_page_function calls over all wakes. */
  entriesWalked: number;
  /** Entries walked per wakeup (all passes of one folio_wake_bit). */
  walkPerWake: { mean: number; p99: number; max: number };
  /** __wake_up_common passes (more than one per wake only with bookmarks). */
  walkPasses: number;
  /** The most entries one pass walked. */
  walkPerPassMax: number;
  /** Entries walked that belonged to another folio or another bit. */
  foreignEntriesWalked: number;
  /** Longest queue at any enqueue (hashed: a bucket; attached: one folio's queue for one bit). */
  longestQueue: number;
  /** folio_wait_bit_common calls that slept. */
  waits: number;
  /** From going to sleep to returning (lock taken / bit seen clear), simulated ns. */
  waitLatency: { p50: number; p99: number; max: number };
  /** WQ_FLAG_CUSTOM fair hand-offs: the waker took the lock for the waiter. */
  lockHandoffs: number;
  /** Woken exclusive waiters that found the lock stolen and queued again. */
  lockSteals: number;
  memory: { staticTableBytes: number; peakAttachedBytes: number };
  mappingReads: number;
  /** Mapping reads/writes that paid one more dependent load (through the tag). */
  mappingIndirections: number;
  /** Truncate-path identity checks/writes that had to see through the tag. */
  truncateSeeThroughs: number;
  /** How many distinct truncate-path sites had to see through the tag. */
  truncateSeeThroughSites: number;
}
