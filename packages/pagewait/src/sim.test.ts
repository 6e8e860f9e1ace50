import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CONTEND_FUZZ_NATS,
  checkTrace,
  contend_fuzz_params,
  contend_problems,
  createStandaloneHost,
  PagewaitSim,
  PG_locked,
  PG_waiters,
  PG_writeback,
  runContend,
  SHARED,
  type TaskBehavior,
} from './index.js';
import { FifoTestPolicy } from './fifo-policy.test-util.js';

function newSim(nrTasks: number, extra: { pageLockUnfairness?: number; nrFolios?: number } = {}) {
  const host = createStandaloneHost({ nrFolios: extra.nrFolios ?? 4 });
  const sim = new PagewaitSim({ host, policy: new FifoTestPolicy(), nrTasks, seed: 1, walkCost: 50, wakeLatency: 2000, verify: true, trace: true, pageLockUnfairness: extra.pageLockUnfairness });
  return { host, sim };
}

/** Task 0 holds folio 0 for `hold` ns, unlocks and immediately tries to take it again; task 1 wants it once. */
function lockStealRun(unfairness: number) {
  const hold = 5000;
  const { sim } = newSim(2, { pageLockUnfairness: unfairness });
  const pc = [0, 0];
  let relocks = 0;
  let waiterGotLockAt = -1;
  const behavior: TaskBehavior = {
    step(s, t) {
      if (t === 0) {
        if (pc[0] === 0) {
          expect(s.folioLock(0, 0)).toBe(true);
          pc[0] = 1;
          s.delay(0, hold);
          return;
        }
        s.folioUnlock(0, 0);
        if (s.folioTrylock(0, 0)) {
          relocks++;
          s.delay(0, hold);
        } else s.exit(0);
        return;
      }
      if (pc[1] === 0) {
        pc[1] = 1;
        if (!s.folioLock(1, 0)) return;
      }
      waiterGotLockAt = s.now;
      s.folioUnlock(1, 0);
      s.exit(1);
    },
  };
  sim.run(behavior);
  return { sim, relocks, waiterGotLockAt, hold };
}

describe('folio lock: sysctl_page_lock_unfairness and the fair hand-off', () => {
  it('a waiter loses the race 5 times, then the waker hands it the lock (WQ_FLAG_CUSTOM)', () => {
    const { sim, relocks, waiterGotLockAt, hold } = lockStealRun(5);
    const m = sim.metrics();
    expect(m.lockSteals).toBe(5);
    expect(m.lockHandoffs).toBe(1);
    expect(relocks).toBe(5);
    // Hand-off at the holder's 6th unlock; one entry walked; then the wake latency.
    expect(waiterGotLockAt).toBe(6 * hold + 1 * 50 + 2000);
    expect(sim.stuckTasks()).toBe(0);
    expect(checkTrace(sim.trace(), 2, 4)).toEqual([]);
  });

  it('with unfairness 0 the first unlock hands the lock over', () => {
    const { sim, relocks, waiterGotLockAt, hold } = lockStealRun(0);
    expect(sim.metrics().lockSteals).toBe(0);
    expect(sim.metrics().lockHandoffs).toBe(1);
    expect(relocks).toBe(0);
    expect(waiterGotLockAt).toBe(hold + 50 + 2000);
  });
});

describe('folio_wake_bit walks', () => {
  /** Task 0 locks folio 0; the others queue in task order with the given kinds; task 0 unlocks at 1000. */
  function queueRun(kinds: ('shared' | 'lock')[]) {
    const n = kinds.length + 1;
    const { sim } = newSim(n);
    const pc = new Int32Array(n);
    const woke: number[] = [];
    let afterFirstWake: { woken: number; walked: number; queued: number } | null = null;
    sim.run({
      step(s, t) {
        if (t === 0) {
          if (pc[0]++ === 0) {
            s.folioLock(0, 0);
            s.delay(0, 1000);
          } else {
            s.folioUnlock(0, 0);
            afterFirstWake = { woken: s.metrics().tasksWoken, walked: s.metrics().entriesWalked, queued: s.queuedFor(0, PG_locked) };
            s.exit(0);
          }
          return;
        }
        const kind = kinds[t - 1];
        if (pc[t]++ === 0) {
          if (kind === 'shared' ? !s.folioWaitBit(t, 0, PG_locked, SHARED) : !s.folioLock(t, 0)) return;
        }
        woke.push(t);
        if (kind === 'lock') s.folioUnlock(t, 0);
        s.exit(t);
      },
    });
    return { sim, woke, afterFirstWake: afterFirstWake! };
  }

  it('wakes every shared waiter and the first exclusive one, then stops', () => {
    const { sim, woke, afterFirstWake } = queueRun(['shared', 'shared', 'shared', 'lock', 'lock']);
    expect(afterFirstWake).toEqual({ woken: 4, walked: 4, queued: 1 });
    expect(woke).toEqual([1, 2, 3, 4, 5]);
    expect(sim.stuckTasks()).toBe(0);
    expect(sim.violations().count).toBe(0);
  });

  it('shared waiters behind a woken exclusive one wait for the next unlock, as in the kernel', () => {
    const { sim, woke, afterFirstWake } = queueRun(['lock', 'shared', 'shared']);
    expect(afterFirstWake).toEqual({ woken: 1, walked: 1, queued: 2 });
    expect(woke).toEqual([1, 2, 3]);
    expect(sim.metrics().wakeups).toBe(2);
    expect(sim.violations().count).toBe(0);
  });

  it('folio_end_writeback wakes all PG_writeback waiters and reads mapping at start and end', () => {
    const { sim, host } = newSim(4);
    const pc = new Int32Array(4);
    sim.run({
      step(s, t) {
        if (t === 0) {
          s.folioLock(0, 1);
          s.folioStartWriteback(1);
          s.folioUnlock(0, 1);
          s.timer(10_000, 1, 1);
          s.exit(0);
          return;
        }
        if (pc[t]++ === 0 && s.testBit(1, PG_writeback) && !s.folioWaitBit(t, 1, PG_writeback)) return;
        expect(s.testBit(1, PG_writeback)).toBe(false);
        s.exit(t);
      },
      timer(s, _tag, folio) {
        s.folioEndWriteback(folio);
      },
    });
    const m = sim.metrics();
    expect(m.tasksWoken).toBe(3);
    expect(m.wakeups).toBe(1);
    expect(m.mappingReads).toBe(2);
    expect(m.waitLatency.max).toBe(10_000 + 3 * 50 + 2000);
    expect(host.flagsRead(1) & (1 << PG_waiters)).toBe(0);
  });

  it('a waiter that finds its bit clear still sets PG_waiters; the next wake walks nothing and clears it', () => {
    const { sim, host } = newSim(1);
    sim.run({
      step(s, t) {
        expect(s.folioWaitBit(t, 2, PG_locked)).toBe(true);
        expect(s.testBit(2, PG_waiters)).toBe(true);
        s.folioLock(t, 2);
        s.folioUnlock(t, 2);
        s.exit(t);
      },
    });
    expect(sim.metrics().wakeups).toBe(1);
    expect(sim.metrics().entriesWalked).toBe(0);
    expect(host.flagsRead(2) & (1 << PG_waiters)).toBe(0);
  });
});

describe('contend on the engine (FIFO test policy)', () => {
  it('loses no waiter, wakes none twice, never lets two tasks hold one lock', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(), { minLength: CONTEND_FUZZ_NATS, maxLength: CONTEND_FUZZ_NATS }), (n) => {
        expect(contend_problems(contend_fuzz_params(n), new FifoTestPolicy()).problems).toEqual([]);
      }),
      { numRuns: 60 },
    );
  });

  it('is deterministic for a seed', () => {
    const p = { tasks: 16, hotFolios: 2, coldFolios: 8, pattern: 'mixed', duration: 300_000, seed: 99 };
    const a = runContend(p, { policy: new FifoTestPolicy() });
    const b = runContend(p, { policy: new FifoTestPolicy() });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    const c = runContend({ ...p, seed: 100 }, { policy: new FifoTestPolicy() });
    expect(JSON.stringify(c)).not.toBe(JSON.stringify(a));
  });
});
