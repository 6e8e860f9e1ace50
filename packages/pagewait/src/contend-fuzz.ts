import { CONTEND_PATTERNS } from './contend-params.js';
import { runContend, type ContendOptions, type ContendResult } from './contend.js';
import { checkTrace } from './trace-check.js';

/** How many naturals contend_fuzz_params() reads. */
export const CONTEND_FUZZ_NATS = 15;

/**
 * One random contend run for a property test, from CONTEND_FUZZ_NATS arbitrary naturals (fast-check's
 * `fc.nat()`; shrinking them shrinks the run), like vm_exercise's ops: every value lands in a range
 * where the run is valid and every pattern, truncation, migration, eviction and the unfair hand-off
 * can happen. A held lock takes at least 1 ns, so simulated time always advances.
 */
export function contend_fuzz_params(n: readonly number[]): Record<string, unknown> {
  if (n.length < CONTEND_FUZZ_NATS) throw new RangeError(`contend_fuzz_params: ${CONTEND_FUZZ_NATS} naturals needed, got ${n.length}`);
  const nat = (i: number, lo: number, hi: number) => lo + (n[i]! % (hi - lo + 1));
  const fraction = (i: number, max: number) => (n[i]! % 1001) / 1000 * max;
  return {
    tasks: nat(0, 1, 40),
    hotFolios: nat(1, 1, 6),
    coldFolios: nat(2, 0, 64),
    hotFraction: fraction(3, 1),
    holdTime: nat(4, 1, 5000),
    thinkTime: nat(5, 0, 5000),
    ioLatency: nat(6, 0, 20000),
    wakeLatency: nat(7, 0, 3000),
    pattern: CONTEND_PATTERNS[n[8]! % CONTEND_PATTERNS.length],
    truncateRate: fraction(9, 0.5),
    pageLockUnfairness: nat(10, 0, 6),
    migrateInterval: nat(11, 1000, 30000),
    evictInterval: nat(12, 1000, 30000),
    duration: nat(13, 100_000, 200_000),
    seed: n[14]! >>> 0,
  };
}

/**
 * The policy-independent safety of one run, as problems (empty when sound): the trace check (no waiter
 * lost or woken twice, no lock held by two tasks, nothing left queued), no stuck task, no engine
 * invariant violation. `inspect` sees the simulator and host afterwards, as in runContend().
 */
export function contend_problems(params: unknown, policy: ContendOptions['policy'], inspect?: ContendOptions['inspect']): { problems: string[]; result: ContendResult } {
  const problems: string[] = [];
  const result = runContend(params, {
    policy,
    verify: true,
    trace: true,
    inspect: (sim, host) => {
      problems.push(...checkTrace(sim.trace(), sim.nrTasks, host.nrFolios));
      inspect?.(sim, host);
    },
  });
  if (result.stuckTasks !== 0) problems.push(`${result.stuckTasks} tasks stuck`);
  if (result.violations.count !== 0) problems.push(`${result.violations.count} invariant violations: ${result.violations.first.join('; ')}`);
  return { problems, result };
}
