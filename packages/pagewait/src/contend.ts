import { validateContendParams, type ContendParams } from './contend-params.js';
import { DROP, PG_locked, PG_writeback } from './flags.js';
import { createStandaloneHost, type WaitFolioHost } from './host.js';
import type { PagewaitMetrics } from './metrics.js';
import { SITE_FILEMAP_ADD_FOLIO, SITE_FIND_LOCK_ENTRY, SITE_PAGE_CACHE_DELETE, SITE_TRUNCATE_INODE_FOLIO, type WaitPolicy } from './policy.js';
import { OWNER_KERNEL, PagewaitSim, type TaskBehavior } from './sim.js';

export interface ContendOptions {
  /** A fresh policy instance (policies are stateful; one per run). */
  policy: WaitPolicy;
  /** Bind to this host; default: a standalone host with hotFolios + coldFolios folios. */
  host?: WaitFolioHost;
  /** Check engine invariants after every wake. */
  verify?: boolean;
  trace?: boolean;
  /** Called after the run with the simulator and host, for inspection. */
  inspect?: (sim: PagewaitSim, host: WaitFolioHost) => void;
}

export interface ContendResult {
  schema: 'foliolab/pagewait-contend@1';
  policy: string;
  params: ContendParams;
  /** Simulated ns when the last event ran (the run drains after `duration`). */
  simulatedNs: number;
  /** Completed task operations. */
  operations: number;
  /** Lock holders that found the folio truncated and re-added it (filemap_add_folio). */
  refaults: number;
  truncations: number;
  /** Tasks that never finished: non-zero means a lost wakeup. */
  stuckTasks: number;
  violations: { count: number; first: readonly string[] };
  metrics: PagewaitMetrics;
}

const OP_LOCK = 0;
const OP_WRITEBACK = 1;
const OP_ACCESS = 2;
const OP_READ = 3;

const PC_START = 0;
const PC_BEGIN = 1;
const PC_LOCKED = 2;
const PC_WB_WAIT = 3;
const PC_UNLOCK = 4;
const PC_ACCESS = 5;
const PC_READ = 6;
const PC_OP_DONE = 7;

const TIMER_END_WRITEBACK = 1;
const TIMER_END_READ = 2;
const TIMER_MIGRATE = 3;
const TIMER_MIGRATE_DONE = 4;
const TIMER_EVICT = 5;

/** The task program of a contend step, as a state machine over typed arrays (one pc per task). */
class ContendProgram implements TaskBehavior {
  readonly pc: Int32Array;
  readonly folio: Int32Array;
  readonly op: Uint8Array;
  readonly opsDone: Int32Array;
  readonly original: Float64Array;
  operations = 0;
  refaults = 0;
  truncations = 0;
  private readonly maxOps: number;

  constructor(
    readonly p: ContendParams,
    host: WaitFolioHost,
  ) {
    this.pc = new Int32Array(p.tasks);
    this.folio = new Int32Array(p.tasks);
    this.op = new Uint8Array(p.tasks);
    this.opsDone = new Int32Array(p.tasks);
    this.maxOps = p.maxOpsPerTask ?? Infinity;
    const n = p.hotFolios + p.coldFolios;
    this.original = new Float64Array(n);
    for (let f = 0; f < n; f++) this.original[f] = host.mappingRead(f);
  }

  start(sim: PagewaitSim): void {
    const p = this.p;
    if (p.pattern === 'migrate') {
      for (let h = 0; h < p.hotFolios; h++) sim.timer(sim.rng.nextFloat() * p.migrateInterval, TIMER_MIGRATE, h);
    }
    if (p.pattern === 'read') sim.timer(p.evictInterval, TIMER_EVICT, 0);
    else for (let f = 0; f < p.hotFolios + p.coldFolios; f++) sim.folioMarkUptodate(f);
  }

  private choose(sim: PagewaitSim, t: number): void {
    const p = this.p;
    const rng = sim.rng;
    const hot = rng.nextFloat() < p.hotFraction;
    const f = hot ? rng.nextInt(p.hotFolios) : p.hotFolios + rng.nextInt(p.coldFolios);
    this.folio[t] = f;
    let op: number;
    switch (p.pattern) {
      case 'lock':
        op = OP_LOCK;
        break;
      case 'writeback':
        op = OP_WRITEBACK;
        break;
      case 'mixed':
        op = rng.nextFloat() < p.mixRatio ? OP_LOCK : OP_WRITEBACK;
        break;
      case 'migrate':
        op = hot ? OP_ACCESS : OP_LOCK;
        break;
      case 'read':
        op = OP_READ;
        break;
    }
    this.op[t] = op;
  }

  step(sim: PagewaitSim, t: number): void {
    const p = this.p;
    const f = this.folio[t];
    for (;;) {
      switch (this.pc[t]) {
        case PC_START:
          if (sim.now >= p.duration || this.opsDone[t] >= this.maxOps) {
            sim.exit(t);
            return;
          }
          this.choose(sim, t);
          this.pc[t] = PC_BEGIN;
          sim.delay(t, sim.rng.nextFloat() * 2 * p.thinkTime);
          return;
        case PC_BEGIN: {
          const op = this.op[t];
          const g = this.folio[t];
          if (op === OP_ACCESS) {
            this.pc[t] = PC_ACCESS;
            continue;
          }
          if (op === OP_READ) {
            this.pc[t] = PC_READ;
            continue;
          }
          this.pc[t] = PC_LOCKED;
          if (!sim.folioLock(t, g)) return;
          continue;
        }
        case PC_LOCKED: {
          // "Has the folio been truncated?" after folio_lock (filemap_fault, find_lock_entries).
          if (!sim.folioMappingIs(f, this.original[f], SITE_FIND_LOCK_ENTRY)) {
            sim.folioSetMapping(f, this.original[f], SITE_FILEMAP_ADD_FOLIO);
            this.refaults++;
          }
          if (this.op[t] === OP_LOCK) {
            if (p.truncateRate > 0 && sim.rng.nextFloat() < p.truncateRate) {
              if (sim.folioMappingIs(f, this.original[f], SITE_TRUNCATE_INODE_FOLIO)) {
                sim.folioSetMapping(f, 0, SITE_PAGE_CACHE_DELETE);
                this.truncations++;
              }
            }
            this.pc[t] = PC_UNLOCK;
            sim.delay(t, p.holdTime);
            return;
          }
          this.pc[t] = PC_WB_WAIT;
          continue;
        }
        case PC_WB_WAIT:
          // folio_wait_writeback(): while (folio_test_writeback(folio)) folio_wait_bit(folio, PG_writeback);
          if (sim.testBit(f, PG_writeback)) {
            if (!sim.folioWaitBit(t, f, PG_writeback)) return;
            continue;
          }
          sim.folioStartWriteback(f);
          sim.timer(p.ioLatency, TIMER_END_WRITEBACK, f);
          this.pc[t] = PC_UNLOCK;
          sim.delay(t, p.holdTime);
          return;
        case PC_UNLOCK: {
          const cost = sim.folioUnlock(t, f);
          this.opDone(t);
          this.pc[t] = PC_START;
          sim.delay(t, cost);
          return;
        }
        case PC_ACCESS:
          // A fault on a folio under migration waits on PG_locked without taking it
          // (migration_entry_wait_on_locked), then retries.
          if (sim.testBit(f, PG_locked)) {
            if (!sim.folioWaitBit(t, f, PG_locked, DROP)) return;
            continue;
          }
          this.pc[t] = PC_OP_DONE;
          sim.delay(t, p.holdTime);
          return;
        case PC_READ:
          // filemap_read → filemap_update_page: copy if uptodate; else trylock and read, or
          // folio_put_wait_locked and retry.
          if (sim.folioTestUptodate(f)) {
            this.pc[t] = PC_OP_DONE;
            sim.delay(t, p.holdTime);
            return;
          }
          if (sim.folioTrylock(t, f)) {
            // filemap_update_page: `if (!folio->mapping) goto truncated;` after taking the lock.
            if (!sim.folioMappingIs(f, this.original[f], SITE_FIND_LOCK_ENTRY)) {
              sim.folioSetMapping(f, this.original[f], SITE_FILEMAP_ADD_FOLIO);
              this.refaults++;
            }
            if (sim.folioTestUptodate(f)) {
              const cost = sim.folioUnlock(t, f);
              this.pc[t] = PC_OP_DONE;
              sim.delay(t, cost + p.holdTime);
              return;
            }
            sim.timer(p.ioLatency, TIMER_END_READ, f);
          }
          if (!sim.folioWaitBit(t, f, PG_locked, DROP)) return;
          continue;
        case PC_OP_DONE:
          this.opDone(t);
          this.pc[t] = PC_START;
          continue;
        default:
          throw new Error(`contend: task ${t} at unknown pc ${this.pc[t]}`);
      }
    }
  }

  private opDone(t: number): void {
    this.opsDone[t]++;
    this.operations++;
  }

  timer(sim: PagewaitSim, tag: number, arg: number): void {
    const p = this.p;
    switch (tag) {
      case TIMER_END_WRITEBACK:
        sim.folioEndWriteback(arg);
        return;
      case TIMER_END_READ:
        sim.folioEndRead(arg, true);
        return;
      case TIMER_MIGRATE:
        if (sim.now >= p.duration) return;
        if (sim.folioTrylock(OWNER_KERNEL, arg)) {
          sim.folioMapping(arg); // folio_migrate_mapping() reads folio->mapping
          sim.timer(p.ioLatency, TIMER_MIGRATE_DONE, arg);
        }
        sim.timer(p.migrateInterval, TIMER_MIGRATE, arg);
        return;
      case TIMER_MIGRATE_DONE:
        sim.folioUnlock(OWNER_KERNEL, arg);
        return;
      case TIMER_EVICT: {
        if (sim.now >= p.duration) return;
        const h = sim.rng.nextInt(p.hotFolios);
        if (!sim.testBit(h, PG_locked) && !sim.testBit(h, PG_writeback)) sim.folioClearUptodate(h);
        sim.timer(p.evictInterval, TIMER_EVICT, 0);
        return;
      }
    }
  }
}

/** Run one `contend` step: validate, simulate to the end of `duration` and the drain after it, report. */
export function runContend(input: unknown, options: ContendOptions): ContendResult {
  const params = validateContendParams(input, options.host?.nrFolios);
  const host = options.host ?? createStandaloneHost({ nrFolios: params.hotFolios + params.coldFolios, folioOrder: params.folioOrder });
  const sim = new PagewaitSim({
    host,
    policy: options.policy,
    nrTasks: params.tasks,
    seed: params.seed,
    walkCost: params.walkCost,
    wakeLatency: params.wakeLatency,
    pageLockUnfairness: params.pageLockUnfairness,
    verify: options.verify,
    trace: options.trace,
  });
  const program = new ContendProgram(params, host);
  program.start(sim);
  sim.run(program);
  options.inspect?.(sim, host);
  return {
    schema: 'foliolab/pagewait-contend@1',
    policy: options.policy.name,
    params,
    simulatedNs: sim.now,
    operations: program.operations,
    refaults: program.refaults,
    truncations: program.truncations,
    stuckTasks: sim.stuckTasks(),
    violations: sim.violations(),
    metrics: sim.metrics(),
  };
}
