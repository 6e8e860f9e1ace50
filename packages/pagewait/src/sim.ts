import { EventQueue, growF64, growI32 } from './event-queue.js';
import {
  DROP,
  EXCLUSIVE,
  PG_locked,
  PG_uptodate,
  PG_waiters,
  PG_writeback,
  SHARED,
  SYSCTL_PAGE_LOCK_UNFAIRNESS,
  WAITQUEUE_WALK_BREAK_CNT,
  WQ_FLAG_CUSTOM,
  WQ_FLAG_DONE,
  WQ_FLAG_EXCLUSIVE,
  WQ_FLAG_WOKEN,
  type WaitBehavior,
} from './flags.js';
import type { WaitFolioHost } from './host.js';
import { Samples, type PagewaitMetrics } from './metrics.js';
import { MAPPING_SITES, type WaitCounters, type WaitEnv, type WaitPolicy, type WalkResult } from './policy.js';
import { Prng } from './prng.js';
import { WaitQueueArena } from './wait-queue.js';

/** The program a simulated task runs. step() is called whenever the task is runnable. */
export interface TaskBehavior {
  step(sim: PagewaitSim, task: number): void;
  /** A timer scheduled with PagewaitSim.timer fired (I/O completion, migration, reclaim ...). */
  timer?(sim: PagewaitSim, tag: number, arg: number): void;
}

export interface SimOptions {
  host: WaitFolioHost;
  policy: WaitPolicy;
  nrTasks: number;
  seed: number;
  /** Simulated ns a waker spends per entry it walks (wake_page_function call). Default 50. */
  walkCost?: number;
  /** Simulated ns from wake_up_state() to the woken task running. Default 2000. */
  wakeLatency?: number;
  /** sysctl_page_lock_unfairness. Default 5. */
  pageLockUnfairness?: number;
  /** Check the engine's invariants after every wake (independent per-(folio, bit) counters). */
  verify?: boolean;
  /** Record acquire/release/enqueue/wake/resume events. */
  trace?: boolean;
}

/** Lock owner ids that are not tasks. */
export const OWNER_NONE = -1;
/** The lock is held by the kernel on nobody's behalf (read I/O in flight, migration). */
export const OWNER_KERNEL = -2;

export const TASK_RUNNING = 0;
export const TASK_SLEEPING = 1;
export const TASK_DONE = 2;

export const TRACE_ACQUIRE = 1;
export const TRACE_RELEASE = 2;
export const TRACE_ENQUEUE = 3;
export const TRACE_WAKE = 4;
export const TRACE_RESUME = 5;

export interface SimTrace {
  length: number;
  kind: Uint8Array;
  time: Float64Array;
  /** Task id, or OWNER_KERNEL. */
  task: Int32Array;
  folio: Int32Array;
  /** Bit for enqueue/wake events; 0 otherwise. */
  bit: Uint8Array;
}

const EV_STEP = 1;
const EV_RESUME = 2;
const EV_TIMER = 3;

/**
 * Simulated tasks on a discrete-event clock doing folio_lock / folio_unlock / folio_wait_bit /
 * folio_end_writeback as mm/filemap.c does them. Per-task waiter state (the wait_page_queue each task
 * keeps on its stack) is struct-of-arrays indexed by task id; the entry's list node has the same id.
 *
 * Invariants: PG_locked is set iff lockOwner[folio] !== OWNER_NONE; a task is on at most one queue; a
 * task whose entry is queued or woken-but-not-resumed is TASK_SLEEPING.
 */
export class PagewaitSim implements WaitEnv {
  now = 0;
  readonly rng: Prng;
  readonly host: WaitFolioHost;
  readonly policy: WaitPolicy;
  readonly nrTasks: number;
  readonly arena: WaitQueueArena;
  readonly waiterFolio: Int32Array;
  readonly waiterBit: Uint8Array;
  readonly waiterFlags: Uint8Array;
  readonly waiterBehavior: Uint8Array;
  readonly taskState: Uint8Array;
  readonly lockOwner: Int32Array;
  readonly counters: WaitCounters;
  readonly walkCost: number;
  readonly wakeLatency: number;
  readonly pageLockUnfairness: number;

  private readonly unfairness: Int32Array;
  private readonly waitStart: Float64Array;
  private readonly events = new EventQueue();
  private behavior: TaskBehavior | null = null;

  // Per-wake scratch (folio_wake_bit's wait_page_key and walk counters).
  private keyPageMatch = false;
  private wakeWalked = 0;
  private wokenExclusiveThisWake = 0;
  private readonly walkResult: WalkResult = { pageMatch: false };

  // Metrics.
  private wakeups = 0;
  private tasksWoken = 0;
  private entriesWalked = 0;
  private walkPasses = 0;
  private walkPerPassMax = 0;
  private foreignEntriesWalked = 0;
  private waits = 0;
  private lockHandoffs = 0;
  private lockSteals = 0;
  private readonly walkSamples = new Samples();

  /** Entries walked per wake-up, as [entries, wake-ups] pairs: the distribution behind walkPerWake. */
  walkHistogram(): Array<[number, number]> {
    return this.walkSamples.histogram();
  }
  private readonly latencySamples = new Samples();

  // Verification (independent of the policy's queues).
  private readonly verify: boolean;
  private readonly queuedCount: Int32Array | null;
  private readonly wokenPending: Uint8Array;
  private violationCount = 0;
  private readonly violationMessages: string[] = [];

  private readonly tracing: boolean;
  private tr: SimTrace;

  constructor(options: SimOptions) {
    const { host, policy, nrTasks } = options;
    if (!Number.isInteger(nrTasks) || nrTasks < 1) throw new RangeError(`sim.nrTasks: must be an integer >= 1, got ${nrTasks}`);
    this.host = host;
    this.policy = policy;
    this.nrTasks = nrTasks;
    this.rng = new Prng(options.seed);
    this.walkCost = options.walkCost ?? 50;
    this.wakeLatency = options.wakeLatency ?? 2000;
    this.pageLockUnfairness = options.pageLockUnfairness ?? SYSCTL_PAGE_LOCK_UNFAIRNESS;
    this.arena = new WaitQueueArena(nrTasks);
    this.waiterFolio = new Int32Array(nrTasks).fill(-1);
    this.waiterBit = new Uint8Array(nrTasks);
    this.waiterFlags = new Uint8Array(nrTasks);
    this.waiterBehavior = new Uint8Array(nrTasks);
    this.taskState = new Uint8Array(nrTasks);
    this.unfairness = new Int32Array(nrTasks);
    this.waitStart = new Float64Array(nrTasks);
    this.wokenPending = new Uint8Array(nrTasks);
    this.lockOwner = new Int32Array(host.nrFolios).fill(OWNER_NONE);
    this.counters = {
      mappingReads: 0,
      mappingIndirections: 0,
      truncateSeeThroughs: 0,
      seeThroughBySite: new Int32Array(MAPPING_SITES.length),
      longestQueue: 0,
    };
    this.verify = options.verify ?? false;
    this.queuedCount = this.verify ? new Int32Array(host.nrFolios * 8) : null;
    this.tracing = options.trace ?? false;
    this.tr = {
      length: 0,
      kind: new Uint8Array(this.tracing ? 1024 : 0),
      time: new Float64Array(this.tracing ? 1024 : 0),
      task: new Int32Array(this.tracing ? 1024 : 0),
      folio: new Int32Array(this.tracing ? 1024 : 0),
      bit: new Uint8Array(this.tracing ? 1024 : 0),
    };
    for (let f = 0; f < host.nrFolios; f++) {
      if (host.flagsRead(f) & (1 << PG_locked)) throw new RangeError(`sim: folio ${f} is already locked in the host`);
    }
    policy.bind(this);
  }

  // ---------------------------------------------------------------- clock

  /** Schedule step() of every task at time 0, in task order, and run until no event remains. */
  run(behavior: TaskBehavior): void {
    this.behavior = behavior;
    for (let t = 0; t < this.nrTasks; t++) this.events.push(0, EV_STEP, t, 0);
    const ev = this.events;
    while (ev.pop()) {
      this.now = ev.poppedTime;
      const a = ev.poppedA;
      switch (ev.poppedKind) {
        case EV_STEP:
          behavior.step(this, a);
          break;
        case EV_RESUME:
          this.resume(a);
          break;
        case EV_TIMER:
          behavior.timer?.(this, a, ev.poppedB);
          break;
      }
    }
  }

  /** The task runs step() again after `dt` simulated ns. */
  delay(task: number, dt: number): void {
    this.events.push(this.now + dt, EV_STEP, task, 0);
  }

  /** Call behavior.timer(tag, arg) after `dt` simulated ns. */
  timer(dt: number, tag: number, arg: number): void {
    this.events.push(this.now + dt, EV_TIMER, tag, arg);
  }

  /** The task has finished its program. */
  exit(task: number): void {
    this.taskState[task] = TASK_DONE;
  }

  /** Tasks that never finished: sleeping forever is a lost wakeup. */
  stuckTasks(): number {
    let n = 0;
    for (let t = 0; t < this.nrTasks; t++) if (this.taskState[t] !== TASK_DONE) n++;
    return n;
  }

  // ---------------------------------------------------------------- flags

  testBit(folio: number, bit: number): boolean {
    return (this.host.flagsRead(folio) & (1 << bit)) !== 0;
  }

  private setBit(folio: number, bit: number): void {
    this.host.flagsWrite(folio, (this.host.flagsRead(folio) | (1 << bit)) >>> 0);
  }

  private clearBit(folio: number, bit: number): void {
    this.host.flagsWrite(folio, (this.host.flagsRead(folio) & ~(1 << bit)) >>> 0);
  }

  /** test_and_set_bit: true if the bit was already set. */
  private testAndSetBit(folio: number, bit: number): boolean {
    const f = this.host.flagsRead(folio);
    if (f & (1 << bit)) return true;
    this.host.flagsWrite(folio, (f | (1 << bit)) >>> 0);
    return false;
  }

  folioTestUptodate(folio: number): boolean {
    return this.testBit(folio, PG_uptodate);
  }

  folioMarkUptodate(folio: number): void {
    this.setBit(folio, PG_uptodate);
  }

  folioClearUptodate(folio: number): void {
    this.clearBit(folio, PG_uptodate);
  }

  clearWaiters(folio: number): void {
    this.clearBit(folio, PG_waiters);
  }

  // ---------------------------------------------------------------- lock / wait

  private acquire(owner: number, folio: number): void {
    if (this.lockOwner[folio] !== OWNER_NONE) this.violation(`folio ${folio} locked by ${owner} while held by ${this.lockOwner[folio]}`);
    this.lockOwner[folio] = owner;
    if (this.tracing) this.record(TRACE_ACQUIRE, owner, folio, PG_locked);
  }

  /** folio_trylock. `owner` is a task id or OWNER_KERNEL. */
  folioTrylock(owner: number, folio: number): boolean {
    if (this.testAndSetBit(folio, PG_locked)) return false;
    this.acquire(owner, folio);
    return true;
  }

  /**
   * folio_lock: true if the lock was taken without sleeping; otherwise the task sleeps in
   * folio_wait_bit_common(EXCLUSIVE) and step() runs again once it holds the lock.
   */
  folioLock(task: number, folio: number): boolean {
    if (this.folioTrylock(task, folio)) return true;
    return this.folioWaitBitCommon(task, folio, PG_locked, EXCLUSIVE);
  }

  /**
   * folio_wait_bit (SHARED) or folio_put_wait_locked (DROP): true if the bit was clear at the check;
   * otherwise the task sleeps and step() runs again after one wake-up (callers loop, as
   * folio_wait_writeback does).
   */
  folioWaitBit(task: number, folio: number, bit: number, behavior: WaitBehavior = SHARED): boolean {
    if (behavior === EXCLUSIVE) throw new RangeError('folioWaitBit: use folioLock for an exclusive wait');
    return this.folioWaitBitCommon(task, folio, bit, behavior);
  }

  /** folio_wait_bit_common(): returns true if it did not sleep. */
  private folioWaitBitCommon(task: number, folio: number, bit: number, behavior: WaitBehavior): boolean {
    if (this.taskState[task] !== TASK_RUNNING) throw new Error(`task ${task} waits while not running`);
    this.waiterFolio[task] = folio;
    this.waiterBit[task] = bit;
    this.waiterBehavior[task] = behavior;
    this.unfairness[task] = this.pageLockUnfairness;
    this.waitStart[task] = this.now;
    if (this.waitRepeat(task)) return true;
    this.waits++;
    return false;
  }

  /** The `repeat:` block of folio_wait_bit_common: true if the bit was taken/seen clear without queueing. */
  private waitRepeat(task: number): boolean {
    const folio = this.waiterFolio[task];
    const bit = this.waiterBit[task];
    let flags = 0;
    if (this.waiterBehavior[task] === EXCLUSIVE) {
      flags = WQ_FLAG_EXCLUSIVE;
      if (--this.unfairness[task] < 0) flags |= WQ_FLAG_CUSTOM;
    }
    this.setBit(folio, PG_waiters);
    // folio_trylock_flag()
    if (flags & WQ_FLAG_EXCLUSIVE) {
      if (!this.testAndSetBit(folio, bit)) {
        this.acquire(task, folio);
        this.waiterFlags[task] = flags | WQ_FLAG_WOKEN | WQ_FLAG_DONE;
        return true;
      }
    } else if (!this.testBit(folio, bit)) {
      this.waiterFlags[task] = flags | WQ_FLAG_WOKEN | WQ_FLAG_DONE;
      return true;
    }
    this.waiterFlags[task] = flags;
    this.taskState[task] = TASK_SLEEPING;
    if (this.queuedCount) this.queuedCount[folio * 8 + bit]++;
    if (this.tracing) this.record(TRACE_ENQUEUE, task, folio, bit);
    this.policy.enqueue(task);
    return false;
  }

  /** The woken task runs: the tail of folio_wait_bit_common's for (;;) loop. */
  private resume(task: number): void {
    this.wokenPending[task] = 0;
    if (this.tracing) this.record(TRACE_RESUME, task, this.waiterFolio[task], this.waiterBit[task]);
    if (this.waiterBehavior[task] === EXCLUSIVE && !(this.waiterFlags[task] & WQ_FLAG_DONE)) {
      const folio = this.waiterFolio[task];
      if (this.testAndSetBit(folio, PG_locked)) {
        // Someone took the lock between our wake-up and now: goto repeat.
        this.lockSteals++;
        this.taskState[task] = TASK_RUNNING;
        if (!this.waitRepeat(task)) return;
      } else {
        this.acquire(task, folio);
      }
      this.waiterFlags[task] |= WQ_FLAG_DONE;
    }
    this.latencySamples.add(this.now - this.waitStart[task]);
    this.waiterFolio[task] = -1;
    this.taskState[task] = TASK_RUNNING;
    this.behavior!.step(this, task);
  }

  /** folio_unlock. Returns the simulated ns the caller spent walking wait queues. */
  folioUnlock(owner: number, folio: number): number {
    this.release(owner, folio);
    if (this.testBit(folio, PG_waiters)) return this.folioWakeBit(folio, PG_locked);
    return 0;
  }

  private release(owner: number, folio: number): void {
    if (!this.testBit(folio, PG_locked)) throw new Error(`folio ${folio} unlocked while not locked`);
    if (this.lockOwner[folio] !== owner) this.violation(`folio ${folio} unlocked by ${owner}, held by ${this.lockOwner[folio]}`);
    this.lockOwner[folio] = OWNER_NONE;
    this.clearBit(folio, PG_locked);
    if (this.tracing) this.record(TRACE_RELEASE, owner, folio, PG_locked);
  }

  /** folio_end_read: mark uptodate on success, unlock, wake. The lock may be held by anyone (bio completion). */
  folioEndRead(folio: number, success: boolean): number {
    if (success) this.setBit(folio, PG_uptodate);
    return this.folioUnlock(this.lockOwner[folio], folio);
  }

  /** __folio_start_writeback: reads folio_mapping() for writeback accounting, sets PG_writeback. */
  folioStartWriteback(folio: number): void {
    if (this.testBit(folio, PG_writeback)) throw new Error(`folio ${folio}: writeback started twice`);
    this.folioMapping(folio);
    this.setBit(folio, PG_writeback);
  }

  /** folio_end_writeback: reads folio_mapping(), clears PG_writeback, wakes PG_writeback waiters. */
  folioEndWriteback(folio: number): number {
    if (!this.testBit(folio, PG_writeback)) throw new Error(`folio ${folio}: end of writeback that was not started`);
    this.folioMapping(folio);
    this.clearBit(folio, PG_writeback);
    if (this.testBit(folio, PG_waiters)) return this.folioWakeBit(folio, PG_writeback);
    return 0;
  }

  /** folio_mapping(): a consumer read of folio->mapping, through the policy. */
  folioMapping(folio: number): number {
    this.counters.mappingReads++;
    return this.policy.mappingRead(folio);
  }

  /** `folio->mapping == expected` at a truncate-path site. */
  folioMappingIs(folio: number, expected: number, site: number): boolean {
    this.counters.mappingReads++;
    return this.policy.mappingIdentity(folio, expected, site);
  }

  /** folio->mapping = value at a truncate-path site. */
  folioSetMapping(folio: number, value: number, site: number): void {
    this.policy.mappingWrite(folio, value, site);
  }

  // ---------------------------------------------------------------- wake

  /** folio_wake_bit(): the policy picks what to walk. Returns the waker's simulated walk time. */
  private folioWakeBit(folio: number, bit: number): number {
    this.wakeups++;
    this.keyPageMatch = false;
    this.wakeWalked = 0;
    this.wokenExclusiveThisWake = 0;
    this.policy.wake(folio, bit);
    this.walkSamples.add(this.wakeWalked);
    this.entriesWalked += this.wakeWalked;
    if (this.queuedCount) this.checkAfterWake(folio, bit);
    return this.wakeWalked * this.walkCost;
  }

  walk(head: number, folio: number, bit: number, bookmarks: boolean): WalkResult {
    const arena = this.arena;
    const next = arena.next;
    const bm = arena.bookmark;
    let bookmarked = false;
    do {
      let curr: number;
      if (bookmarked) {
        curr = next[bm];
        arena.del(bm);
        bookmarked = false;
      } else {
        curr = next[head];
      }
      if (curr === head) break;
      let nrExclusive = 1;
      let cnt = 0;
      let pass = 0;
      while (curr !== head) {
        const nx = next[curr];
        if (curr === bm) {
          curr = nx;
          continue;
        }
        const flags = this.waiterFlags[curr];
        pass++;
        this.wakeWalked++;
        const ret = this.wakePageFunction(curr, folio, bit);
        if (ret < 0) break;
        if (ret > 0 && flags & WQ_FLAG_EXCLUSIVE && --nrExclusive === 0) break;
        if (bookmarks && ++cnt > WAITQUEUE_WALK_BREAK_CNT && nx !== head) {
          arena.insertBefore(bm, nx, head);
          bookmarked = true;
          break;
        }
        curr = nx;
      }
      this.walkPasses++;
      if (pass > this.walkPerPassMax) this.walkPerPassMax = pass;
    } while (bookmarked);
    this.walkResult.pageMatch = this.keyPageMatch;
    return this.walkResult;
  }

  /** wake_page_function(): 0 skip, 1 woke an exclusive waiter, -1 stop the walk. */
  private wakePageFunction(w: number, folio: number, bit: number): number {
    if (this.waiterFolio[w] !== folio) {
      this.foreignEntriesWalked++;
      return 0;
    }
    this.keyPageMatch = true;
    if (this.waiterBit[w] !== bit) {
      this.foreignEntriesWalked++;
      return 0;
    }
    let flags = this.waiterFlags[w];
    if (flags & WQ_FLAG_EXCLUSIVE) {
      if (this.testBit(folio, bit)) return -1;
      if (flags & WQ_FLAG_CUSTOM) {
        this.setBit(folio, bit); // test_and_set_bit cannot fail: the bit was just seen clear
        this.acquire(w, folio);
        flags |= WQ_FLAG_DONE;
        this.lockHandoffs++;
      }
      this.wokenExclusiveThisWake++;
    }
    this.waiterFlags[w] = flags | WQ_FLAG_WOKEN;
    if (this.wokenPending[w]) this.violation(`task ${w} woken twice`);
    this.wokenPending[w] = 1;
    this.arena.del(w);
    if (this.queuedCount) this.queuedCount[folio * 8 + bit]--;
    this.tasksWoken++;
    if (this.tracing) this.record(TRACE_WAKE, w, folio, bit);
    this.events.push(this.now + this.wakeWalked * this.walkCost + this.wakeLatency, EV_RESUME, w, 0);
    return flags & WQ_FLAG_EXCLUSIVE ? 1 : 0;
  }

  // ---------------------------------------------------------------- checks and results

  private checkAfterWake(folio: number, bit: number): void {
    const q = this.queuedCount!;
    if (!this.testBit(folio, bit) && q[folio * 8 + bit] > 0 && this.wokenExclusiveThisWake === 0) {
      this.violation(`folio ${folio} bit ${bit}: ${q[folio * 8 + bit]} waiters left queued after the bit cleared`);
    }
    let queued = 0;
    for (let b = 0; b < 8; b++) queued += q[folio * 8 + b];
    if (queued > 0 && !this.testBit(folio, PG_waiters)) this.violation(`folio ${folio}: PG_waiters cleared with ${queued} waiters queued`);
  }

  private violation(message: string): void {
    this.violationCount++;
    if (this.violationMessages.length < 10) this.violationMessages.push(`t=${this.now}: ${message}`);
  }

  /** Invariant violations seen (only counted exhaustively with `verify`; lock and double-wake checks always). */
  violations(): { count: number; first: readonly string[] } {
    return { count: this.violationCount, first: this.violationMessages };
  }

  /** Entries currently queued for (folio, bit), per the engine's own count (verify mode only). */
  queuedFor(folio: number, bit: number): number {
    if (!this.queuedCount) throw new Error('queuedFor needs verify: true');
    return this.queuedCount[folio * 8 + bit];
  }

  private record(kind: number, task: number, folio: number, bit: number): void {
    let tr = this.tr;
    if (tr.length === tr.kind.length) {
      const n = tr.length * 2;
      const kinds = new Uint8Array(n);
      kinds.set(tr.kind);
      const bits = new Uint8Array(n);
      bits.set(tr.bit);
      tr = this.tr = { length: tr.length, kind: kinds, time: growF64(tr.time, n), task: growI32(tr.task, n), folio: growI32(tr.folio, n), bit: bits };
    }
    const i = tr.length++;
    tr.kind[i] = kind;
    tr.time[i] = this.now;
    tr.task[i] = task;
    tr.folio[i] = folio;
    tr.bit[i] = bit;
  }

  trace(): SimTrace {
    return this.tr;
  }

  metrics(): PagewaitMetrics {
    const [wp99] = this.walkSamples.percentiles([0.99]);
    const [l50, l99] = this.latencySamples.percentiles([0.5, 0.99]);
    const c = this.counters;
    let sites = 0;
    for (let i = 0; i < c.seeThroughBySite.length; i++) if (c.seeThroughBySite[i] > 0) sites++;
    return {
      policy: this.policy.name,
      wakeups: this.wakeups,
      tasksWoken: this.tasksWoken,
      entriesWalked: this.entriesWalked,
      walkPerWake: { mean: this.walkSamples.mean(), p99: wp99, max: this.walkSamples.max },
      walkPasses: this.walkPasses,
      walkPerPassMax: this.walkPerPassMax,
      foreignEntriesWalked: this.foreignEntriesWalked,
      longestQueue: c.longestQueue,
      waits: this.waits,
      waitLatency: { p50: l50, p99: l99, max: this.latencySamples.max },
      lockHandoffs: this.lockHandoffs,
      lockSteals: this.lockSteals,
      memory: { staticTableBytes: this.policy.staticTableBytes(), peakAttachedBytes: this.policy.peakAttachedBytes() },
      mappingReads: c.mappingReads,
      mappingIndirections: c.mappingIndirections,
      truncateSeeThroughs: c.truncateSeeThroughs,
      truncateSeeThroughSites: sites,
    };
  }
}

export { DROP, EXCLUSIVE, SHARED };
