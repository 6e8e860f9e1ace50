/**
 * The live probe on this machine, compared with the simulator and with the recorded fixtures. Runs only as
 * root with THP, /proc/kpagecount and gcc; otherwise every test is reported as skipped, with the reason.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadWorkload, parseWorkload } from '@foliolab/workloads';
import { compareProbeWithSim, comparison_describe } from './compare.js';
import { host_view_real, preconditions_check, probe_workload, ProbeSession } from './probe.js';
import { runs_determinism, type ProbeResult } from './result.js';
import { sysfs_choice, THP_ROOT, KHUGEPAGED_HOLD_MS } from './settings.js';
import { SIM_POLICIES, simulate } from './sim.js';

const SCENARIOS = ['thp-fork-munmap-dontneed', 'thp-cow-pmd', 'thp-partial-mremap-shared', 'mthp-64k-fork'] as const;
const PKG = fileURLToPath(new URL('..', import.meta.url));

let skipReason: string | null = null;
try {
  preconditions_check(host_view_real());
} catch (e) {
  skipReason = (e as Error).message;
}
if (skipReason) console.warn(`kernel-probe live tests SKIPPED: ${skipReason}`);

/** Every THP knob the probe may write, as text. */
function thp_snapshot(): string[] {
  const files = ['enabled', 'khugepaged/scan_sleep_millisecs', 'khugepaged/alloc_sleep_millisecs'];
  for (const kb of [16, 32, 64, 128, 256, 512, 1024, 2048]) files.push(`hugepages-${kb}kB/enabled`);
  return files.map((f) => {
    try {
      return `${f}=${sysfs_choice(readFileSync(join(THP_ROOT, f), 'utf8'))}`;
    } catch {
      return `${f}=-`;
    }
  });
}

describe.skipIf(skipReason !== null)(`live kernel probe${skipReason ? ` (SKIPPED: ${skipReason})` : ' (root, THP available)'}`, () => {
  let session: ProbeSession;
  let before: string[];
  const tmp = mkdtempSync(join(tmpdir(), 'kp-live-'));
  beforeAll(() => {
    before = thp_snapshot();
    session = new ProbeSession();
    session.open();
  });
  afterAll(() => {
    expect(session.close()).toEqual([]);
    rmSync(tmp, { recursive: true, force: true });
    expect(thp_snapshot()).toEqual(before);
  });

  for (const s of SCENARIOS) {
    it(`${s}: live kpagecount, mapping, THP and sharing = the simulator (per-page, upstream) = the recorded fixture`, async () => {
      const w = await loadWorkload(join(PKG, 'scenarios', `${s}.yaml`));
      const live = await probe_workload(session, w);
      expect(thp_snapshot()).toEqual(before); // restored after every run
      for (const policy of SIM_POLICIES) {
        const c = compareProbeWithSim(live, simulate(w, policy));
        expect(c.matches, `${policy}: ${comparison_describe(c)}`).toBe(c.cells);
      }
      const recorded = JSON.parse(readFileSync(join(PKG, 'fixtures', `${s}.json`), 'utf8')) as ProbeResult;
      const { pfn: _pfn, ...d } = runs_determinism([recorded, live]).differing;
      expect(d).toEqual({ mapped: 0, kpagecount: 0, thp: 0, compound: 0, folioPages: 0, sharing: 0 });
    });
  }

  it('a step that fails in the kernel (write to a read-only mapping) is a runtime error; settings are restored', async () => {
    const w = parseWorkload('name: ro\nmachine: { memory: 1GiB, thp: madvise, mthp: [64KiB], seed: 1 }\nsteps:\n  - spawn: { proc: p }\n  - mmap: { proc: p, region: A, size: 64KiB, prot: r }\n  - touch: { proc: p, region: A, offset: 0, size: 4KiB, write: true }\n', 'ro.yaml');
    await expect(session.run(w)).rejects.toThrow(/touch 0 0 0 4096 1\): write failed in pid \d+: Bad address/);
    expect(thp_snapshot()).toEqual(before);
  });

  it('SIGINT during a run: the CLI exits 130 and restores the settings', async () => {
    const f = join(tmp, 'long.yaml');
    writeFileSync(f, 'name: long\nmachine: { memory: 4GiB, thp: madvise, mthp: [64KiB], seed: 1 }\nsteps:\n  - spawn: { proc: p }\n  - repeat:\n      times: 250\n      steps:\n        - mmap: { proc: p, region: "A{i}", size: 16MiB, advice: nohugepage }\n        - touch: { proc: p, region: "A{i}", offset: 0, size: 16MiB, write: true }\n        - munmap: { proc: p, region: "A{i}", offset: 0, size: 16MiB }\n');
    // Let the session's lock go for the CLI, take it back afterwards.
    expect(session.close()).toEqual([]);
    const child = spawn(process.execPath, ['--conditions=@foliolab/source', '--import', 'tsx', 'src/main.ts', f], { cwd: PKG, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const scan = join(THP_ROOT, 'khugepaged/scan_sleep_millisecs');
    const t0 = Date.now();
    while (readFileSync(scan, 'utf8').trim() !== String(KHUGEPAGED_HOLD_MS) && Date.now() - t0 < 20_000 && child.exitCode === null) await new Promise((r) => setTimeout(r, 5));
    expect(child.exitCode).toBeNull();
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
    expect(code).toBe(130);
    expect(err).toMatch(/interrupted by SIGINT; THP settings restored/);
    expect(thp_snapshot()).toEqual(before);
    session = new ProbeSession();
    session.open();
  }, 30_000);
});
