import { compare_run, type Cell, type Explanation } from './compare.js';
import { EXPLANATIONS } from './explanations.js';
import { device_from_queue, fixture_load, FIXTURE_DIR, type KernelFixture } from './fixtures.js';
import { CALIBRATION_PROFILES, CALIBRATION_WORKLOADS, simulate, type CalibrationProfile, type SimResult } from './simulate.js';

export interface CalibrationRun {
  workload: string;
  profile: CalibrationProfile;
  fixture: KernelFixture;
  sim: SimResult;
  cells: Cell[];
}

export interface CalibrationSummary {
  cells: number;
  equal: number;
  within: number;
  explained: number;
  unexplained: number;
}

export interface CalibrationResult {
  kernel: string;
  runs: CalibrationRun[];
  summary: CalibrationSummary;
  /** Explanations that matched no cell (stale: the simulator or the fixtures changed). */
  unusedExplanations: Explanation[];
}

export interface CalibrateOptions {
  workloads?: readonly string[];
  profiles?: readonly CalibrationProfile[];
  fixtureDir?: string;
  explanations?: readonly Explanation[];
}

/** Every workload on every profile: simulate with the fixture's device, compare, summarise. */
export function calibrate(opts: CalibrateOptions = {}): CalibrationResult {
  const explanations = opts.explanations ?? EXPLANATIONS;
  const runs: CalibrationRun[] = [];
  for (const workload of opts.workloads ?? CALIBRATION_WORKLOADS) {
    for (const profile of opts.profiles ?? CALIBRATION_PROFILES) {
      const fixture = fixture_load(profile.name, workload, opts.fixtureDir ?? FIXTURE_DIR);
      const sim = simulate(workload, profile, device_from_queue(fixture.queue));
      runs.push({ workload, profile, fixture, sim, cells: compare_run(fixture, sim, explanations) });
    }
  }
  const all = runs.flatMap((r) => r.cells);
  const summary: CalibrationSummary = { cells: all.length, equal: 0, within: 0, explained: 0, unexplained: 0 };
  for (const c of all) summary[c.verdict]++;
  const used = new Set(all.filter((c) => c.verdict === 'explained').map((c) => explanations.find((e) => e.workload === c.workload && e.fs === c.fs && e.metrics.includes(c.metric))));
  const ran = new Set(runs.map((r) => `${r.workload}/${r.profile.name}`));
  const unusedExplanations = explanations.filter((e) => ran.has(`${e.workload}/${e.fs}`) && !used.has(e));
  return { kernel: runs[0]?.fixture.kernel ?? '', runs, summary, unusedExplanations };
}
