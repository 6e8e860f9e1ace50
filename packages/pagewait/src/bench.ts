import { runContend } from './contend.js';
import type { WaitPolicy } from './policy.js';
import { CONTEND_SCENARIOS, contendScenario } from './scenarios.js';

export interface BenchPolicy {
  name: string;
  create: () => WaitPolicy;
}

export interface BenchPagewaitOptions {
  /** Policies to run (the engine cannot import them: they depend on it). */
  policies: readonly BenchPolicy[];
  /** Scenario names; default all built-ins. */
  scenarios?: readonly string[];
}

export interface BenchPagewaitRow {
  scenario: string;
  policy: string;
  hostMs: number;
  wakeups: number;
  tasksWoken: number;
  entriesWalked: number;
  /** Simulated folio_wake_bit calls per second of host time. */
  wakeupsPerSec: number;
  /** Simulated task wake-ups per second of host time. */
  tasksWokenPerSec: number;
  /** wake_page_function calls per second of host time. */
  entriesWalkedPerSec: number;
}

/** Simulated wake-ups per second of host time for each scenario × policy. A measurement; it asserts nothing. */
export function benchPagewait(options: BenchPagewaitOptions): BenchPagewaitRow[] {
  const names = options.scenarios ?? CONTEND_SCENARIOS.map((s) => s.name);
  const rows: BenchPagewaitRow[] = [];
  for (const name of names) {
    const scenario = contendScenario(name);
    for (const bp of options.policies) {
      const t0 = performance.now();
      const r = runContend(scenario.params, { policy: bp.create() });
      const hostMs = performance.now() - t0;
      const s = hostMs / 1000;
      rows.push({
        scenario: name,
        policy: bp.name,
        hostMs,
        wakeups: r.metrics.wakeups,
        tasksWoken: r.metrics.tasksWoken,
        entriesWalked: r.metrics.entriesWalked,
        wakeupsPerSec: r.metrics.wakeups / s,
        tasksWokenPerSec: r.metrics.tasksWoken / s,
        entriesWalkedPerSec: r.metrics.entriesWalked / s,
      });
    }
  }
  return rows;
}
