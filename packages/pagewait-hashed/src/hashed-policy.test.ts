import {
  CONTEND_FUZZ_NATS,
  checkTrace,
  contend_fuzz_params,
  contend_problems,
  contendScenario,
  createStandaloneHost,
  PagewaitSim,
  PG_locked,
  PG_waiters,
  runContend,
  SIZEOF_LIST_HEAD,
  SIZEOF_SPINLOCK_T,
  SIZEOF_WAIT_QUEUE_HEAD,
  WAITQUEUE_WALK_BREAK_CNT,
} from '@foliolab/pagewait';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createHashedWaitPolicy, HashedOptionError } from './index.js';

const GOLDEN_RATIO_64 = 0x61c8864680b583ebn;
function bucketRef(pfn: number, bits: number): number {
  const addr = 0xffffea0000000000n + BigInt(pfn) * 64n;
  return Number(((addr * GOLDEN_RATIO_64) & ((1n << 64n) - 1n)) >> BigInt(64 - bits));
}

/** N holders lock folios 0..N-1; N waiters folio_lock them; returns bucket lengths while all wait. */
function bucketsWithOneWaiterPerFolio(n: number, bits: number): Int32Array {
  const host = createStandaloneHost({ nrFolios: n });
  const policy = createHashedWaitPolicy({ tableBits: bits });
  const sim = new PagewaitSim({ host, policy, nrTasks: 2 * n, seed: 1, verify: true });
  const pc = new Int32Array(2 * n);
  let snapshot: Int32Array | null = null;
  sim.run({
    step(s, t) {
      if (t < n) {
        if (pc[t]++ === 0) {
          s.folioLock(t, t);
          if (t === 0) s.timer(5_000, 0, 0);
          s.delay(t, 10_000);
        } else {
          s.folioUnlock(t, t);
          s.exit(t);
        }
        return;
      }
      if (pc[t]++ === 0 && !s.folioLock(t, t - n)) return;
      s.folioUnlock(t, t - n);
      s.exit(t);
    },
    timer() {
      snapshot = policy.queueLengths();
    },
  });
  expect(sim.stuckTasks()).toBe(0);
  return snapshot!;
}

describe('pagewait-hashed', () => {
  it('the table is 256 wait_queue_heads of 24 bytes (spinlock 4, padding 4, list_head 16)', () => {
    expect(SIZEOF_WAIT_QUEUE_HEAD).toBe(SIZEOF_SPINLOCK_T + 4 + SIZEOF_LIST_HEAD);
    const p = createHashedWaitPolicy();
    expect(p.name).toBe('hashed');
    expect(p.tableBits).toBe(8);
    expect(p.staticTableBytes()).toBe(256 * 24);
    expect(createHashedWaitPolicy({ tableBits: 12 }).staticTableBytes()).toBe(4096 * 24);
  });

  it('rejects bad options, naming them', () => {
    expect(() => createHashedWaitPolicy({ tableBits: 0 })).toThrow(HashedOptionError);
    expect(() => createHashedWaitPolicy({ tableBits: 21 })).toThrow('pagewait-hashed.tableBits: must be an integer 1..20, got 21');
    expect(() => createHashedWaitPolicy({ tableBits: 8.5 })).toThrow(/tableBits/);
  });

  it('queues each waiter on the bucket hash_ptr predicts, and more bits shorten buckets as the hash predicts', () => {
    const n = 2048;
    let prevMax = Infinity;
    for (const bits of [8, 10, 12]) {
      const expected = new Int32Array(1 << bits);
      for (let f = 0; f < n; f++) expected[bucketRef(f, bits)]++;
      const got = bucketsWithOneWaiterPerFolio(n, bits);
      expect(Array.from(got)).toEqual(Array.from(expected));
      const max = Math.max(...expected);
      expect(max).toBeLessThan(prevMax);
      prevMax = max;
    }
  });

  it('a wake walks foreign entries of a colliding folio, and may leave PG_waiters set as the kernel does', () => {
    const host = createStandaloneHost({ nrFolios: 4096 });
    // Two folios that share a bucket, found with the reference hash.
    const seen = new Map<number, number>();
    let a = -1;
    let b = -1;
    for (let f = 0; f < 4096 && b < 0; f++) {
      const k = bucketRef(f, 8);
      if (seen.has(k)) [a, b] = [seen.get(k)!, f];
      else seen.set(k, f);
    }
    const policy = createHashedWaitPolicy();
    const sim = new PagewaitSim({ host, policy, nrTasks: 17, seed: 1, verify: true });
    const pc = new Int32Array(17);
    const snaps: { foreign: number; walked: number; bWaiters: boolean }[] = [];
    sim.run({
      step(s, t) {
        if (t < 2) {
          const f = t === 0 ? a : b;
          if (pc[t] === 0) {
            s.folioLock(t, f);
            s.delay(t, t === 0 ? 50_000 : 10_000);
          } else if (pc[t] === 1) {
            s.folioUnlock(t, f);
            const m = s.metrics();
            snaps.push({ foreign: m.foreignEntriesWalked, walked: m.entriesWalked, bWaiters: s.testBit(b, PG_waiters) });
            if (t === 1) {
              s.folioLock(t, b);
              s.delay(t, 10_000);
            } else s.exit(t);
          } else {
            s.folioUnlock(t, b);
            const m = s.metrics();
            snaps.push({ foreign: m.foreignEntriesWalked, walked: m.entriesWalked, bWaiters: s.testBit(b, PG_waiters) });
            s.exit(t);
          }
          pc[t]++;
          return;
        }
        // Tasks 2..16 alternate between folio a (10 waiters) and b (5 waiters), shared waits.
        const f = t % 3 === 0 ? b : a;
        if (pc[t]++ === 0 && !s.folioWaitBit(t, f, PG_locked)) return;
        s.exit(t);
      },
    });
    // Unlock of b at 10 us: 15 entries walked, 10 of them a's.
    expect(snaps[0]).toEqual({ foreign: 10, walked: 15, bWaiters: true });
    // Relock/unlock of b at 20 us: a's 10 entries again, no match, PG_waiters cleared.
    expect(snaps[1]).toEqual({ foreign: 20, walked: 25, bWaiters: false });
    expect(sim.stuckTasks()).toBe(0);
  });

  it('bookmarks break a walk every WAITQUEUE_WALK_BREAK_CNT + 1 entries (the kernel tests ++cnt > 64)', () => {
    const host = createStandaloneHost({ nrFolios: 1 });
    const policy = createHashedWaitPolicy({ bookmarks: true });
    const n = 200;
    const sim = new PagewaitSim({ host, policy, nrTasks: n + 1, seed: 1, verify: true });
    sim.run({
      step(s, t) {
        if (t === 0) {
          if (s.testBit(0, PG_locked)) {
            s.folioUnlock(0, 0);
            s.exit(0);
          } else {
            s.folioLock(0, 0);
            s.delay(0, 1000);
          }
          return;
        }
        if (s.testBit(0, PG_locked) && !s.folioWaitBit(t, 0, PG_locked)) return;
        s.exit(t);
      },
    });
    const m = sim.metrics();
    const perPass = WAITQUEUE_WALK_BREAK_CNT + 1;
    expect(m.entriesWalked).toBe(n);
    expect(m.walkPerPassMax).toBe(perPass);
    expect(m.walkPasses).toBe(Math.ceil(n / perPass));
    expect(m.tasksWoken).toBe(n);
  });

  it('the 2017 storm builds buckets of thousands; bookmarks bound each pass; more bits do not help a same-page herd', () => {
    const storm = contendScenario('numa-storm-2017').params;
    const plain = runContend(storm, { policy: createHashedWaitPolicy() });
    expect(plain.metrics.memory.staticTableBytes).toBe(6144);
    expect(plain.metrics.longestQueue).toBeGreaterThanOrEqual(3700);
    expect(plain.metrics.walkPerWake.max).toBeGreaterThanOrEqual(3700);
    expect(plain.metrics.walkPerPassMax).toBe(plain.metrics.walkPerWake.max);
    const bm = runContend(storm, { policy: createHashedWaitPolicy({ bookmarks: true }) });
    expect(bm.metrics.walkPerWake.max).toBeGreaterThanOrEqual(3700);
    expect(bm.metrics.walkPerPassMax).toBe(WAITQUEUE_WALK_BREAK_CNT + 1);
    expect(bm.metrics.walkPasses).toBeGreaterThan(bm.metrics.wakeups);
    const wide = runContend(storm, { policy: createHashedWaitPolicy({ tableBits: 12 }) });
    expect(wide.metrics.longestQueue).toBeGreaterThanOrEqual(3700);
    for (const r of [plain, bm, wide]) {
      expect(r.stuckTasks).toBe(0);
      expect(r.violations.count).toBe(0);
    }
  });

  it('random schedules: no waiter lost or woken twice, every waiter woken when its bit clears, no shared lock', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(), { minLength: CONTEND_FUZZ_NATS, maxLength: CONTEND_FUZZ_NATS }), fc.integer({ min: 1, max: 6 }), fc.boolean(), (n, tableBits, bookmarks) => {
        expect(contend_problems(contend_fuzz_params(n), createHashedWaitPolicy({ tableBits, bookmarks })).problems).toEqual([]);
      }),
      { numRuns: 60 },
    );
  });

  it('the same workload and seed give identical results', () => {
    const p = contendScenario('file-server-uncontended').params;
    const a = runContend({ ...p, duration: 3_000_000 }, { policy: createHashedWaitPolicy() });
    const b = runContend({ ...p, duration: 3_000_000 }, { policy: createHashedWaitPolicy() });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });
});
