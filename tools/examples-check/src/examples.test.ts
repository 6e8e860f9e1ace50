import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const TSX = import.meta.resolve('tsx');
const CLI = join(ROOT, 'apps/cli/src/main.ts');
const POLICY = join(ROOT, 'examples/troll-mapcount.ts');
const SNAPSHOT = join(ROOT, 'packages/procfs/test-fixtures/kpage-snapshot-idle');

/** Run a TypeScript file from source, as the examples' README says. */
function ts(file: string, args: string[], cwd = ROOT) {
  const r = spawnSync(process.execPath, ['--conditions=@foliolab/source', '--import', TSX, file, ...args], { cwd, encoding: 'utf8', timeout: 110_000 });
  if (r.error) throw r.error;
  return r;
}

function ok_json<T>(r: ReturnType<typeof ts>, what: string): T {
  expect(r.status, `${what} failed:\n${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout) as T;
}

type Metrics = Record<string, number>;
interface CustomOut {
  workload: string;
  rows: Array<{ policy: string; saturatedUpdates?: number } & Metrics>;
}
interface RunRecord {
  composition: { layout: string; mapcount?: string };
  status: string;
  reason?: string;
  metrics: Metrics;
}

const MAPCOUNT_KEYS = ['mapcount.metadata_bytes', 'mapcount.cost.atomics', 'mapcount.cost.cacheLines', 'mapcount.cost.ptesScanned', 'mapcount.wrong', 'mapcount.unnecessary_copies', 'mapcount.unsafe_reuses', 'mapcount.leaked_writes'];

describe('examples/custom-mapcount.ts and the troll policy', () => {
  let out: CustomOut;
  beforeAll(() => {
    out = ok_json<CustomOut>(ts('examples/custom-mapcount.ts', ['thp-fork-partial', '--json']), 'custom-mapcount');
  });

  it('composes upstream by name and the troll by value, and runs the workload on both', () => {
    expect(out.workload).toBe('thp-fork-partial');
    expect(out.rows.map((r) => r.policy)).toEqual(['upstream', 'troll']);
    const [up, troll] = out.rows as [CustomOut['rows'][0], CustomOut['rows'][0]];
    // upstream answers every query it claims exactly; the troll keeps one small count per folio.
    expect(up['mapcount.wrong']).toBe(0);
    expect(troll['mapcount.metadata_bytes']).toBeLessThan(up['mapcount.metadata_bytes']!);
    expect(troll['mapcount.cost.atomics']).toBeLessThan(up['mapcount.cost.atomics']!);
    expect(Number.isInteger(troll.saturatedUpdates)).toBe(true);
  });

  it('prints a table naming both policies', () => {
    const r = ts('examples/custom-mapcount.ts', []);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^workload thp-fork-partial on struct-page$/m);
    expect(r.stdout).toMatch(/^metric\s+upstream\s+troll$/m);
    expect(r.stdout).toMatch(/skipped \d+ count updates/);
  });

  it('rejects an unknown workload with one line and exit 2', () => {
    const r = ts('examples/custom-mapcount.ts', ['no-such-workload']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/no-such-workload/);
  });

  it('gives the same numbers as `foliolab run` loading the same policy file by path', () => {
    // Two independent routes to the same composition: createMachine in user code versus the CLI's
    // registry + external-policy loader. The simulation is deterministic, so they must agree exactly.
    const r = ts(CLI, ['run', 'thp-fork-partial', '--layout', 'struct-page', '--mapcount', 'upstream,./examples/troll-mapcount.ts', '--debug-vm', '--json']); // the example checks invariants too
    const run = ok_json<{ runs: Array<{ mapcount: string; status: string; metrics: Metrics }> }>(r, 'foliolab run');
    const byName = new Map(run.runs.map((x) => [x.mapcount, x]));
    const cliTroll = byName.get('./examples/troll-mapcount.ts');
    const cliUp = byName.get('upstream');
    expect(cliTroll?.status).toBe('ok');
    expect(cliUp?.status).toBe('ok');
    for (const k of MAPCOUNT_KEYS) {
      expect(cliTroll!.metrics[k], k).toBe(out.rows[1]![k]);
      expect(cliUp!.metrics[k], k).toBe(out.rows[0]![k]);
    }
  });

  it('runs in `foliolab compare` by path (--mapcount ./examples/troll-mapcount.ts)', () => {
    const r = ts(CLI, ['compare', 'thp-fork-partial', '--layout', 'struct-page,memdesc', '--mapcount', './examples/troll-mapcount.ts', '--format', 'json', '--jobs', '2']);
    const res = ok_json<{ runs: RunRecord[] }>(r, 'foliolab compare');
    expect(res.runs.map((x) => [x.composition.layout, x.composition.mapcount, x.status])).toEqual([
      ['struct-page', './examples/troll-mapcount.ts', 'ok'],
      ['memdesc', './examples/troll-mapcount.ts', 'ok'],
    ]);
    // The troll's folio-scoped count fits either layout; on struct-page it matches the in-process run.
    expect(res.runs[0]!.metrics['mapcount.metadata_bytes']).toBe(out.rows[1]!['mapcount.metadata_bytes']);
  });
});

describe('a policy written outside the repository', () => {
  let dir: string;
  beforeAll(() => {
    // A user's project: its own package.json, and foliolab installed (here: the workspace's node_modules).
    dir = mkdtempSync(join(tmpdir(), 'foliolab-policy-'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'my-policy', private: true, type: 'module' }));
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    writeFileSync(join(dir, 'troll.ts'), readFileSync(POLICY, 'utf8'));
    const broken = readFileSync(POLICY, 'utf8').replace(/^ {2}folio_move_pmd\(\): void \{\}\n/m, '');
    expect(broken, 'the broken copy must really lack folio_move_pmd').not.toMatch(/folio_move_pmd\(/);
    writeFileSync(join(dir, 'broken.ts'), broken);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs in foliolab compare by absolute path', () => {
    const r = ts(CLI, ['compare', 'thp-fork-partial', '--layout', 'struct-page', '--mapcount', join(dir, 'troll.ts'), '--format', 'json']);
    const res = ok_json<{ runs: RunRecord[] }>(r, 'foliolab compare');
    expect(res.runs).toHaveLength(1);
    expect(res.runs[0]!.status, res.runs[0]!.reason).toBe('ok');
  });

  it('is rejected when a method is missing: one line naming the method, exit 2, nothing written', () => {
    const outFile = join(dir, 'result.json');
    const r = ts(CLI, ['compare', 'thp-fork-partial', '--mapcount', './broken.ts', '--format', 'json', '--out', outFile], dir);
    expect(r.status).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/--mapcount/);
    expect(lines[0]).toMatch(/folio_move_pmd/);
    expect(existsSync(outFile)).toBe(false);
  });
});

describe('examples/live-layouts.ts', () => {
  interface LayoutsOut {
    source: string;
    pfns: number;
    layouts: Array<{ name: string; bytes: number; percent: number; byType: Metrics }>;
  }

  it('measures two layouts on the bundled snapshot', () => {
    const out = ok_json<LayoutsOut>(ts('examples/live-layouts.ts', ['--snapshot', SNAPSHOT, '--json']), 'live-layouts');
    expect(out.source).toBe(`snapshot ${SNAPSHOT}`);
    // The snapshot is a 25 GiB machine: 6,553,600 page frames.
    expect(out.pfns).toBe((25 * 2 ** 30) / 4096);
    const [sp, md] = out.layouts as [LayoutsOut['layouts'][0], LayoutsOut['layouts'][0]];
    expect([sp.name, md.name]).toEqual(['struct-page', 'memdesc']);
    // struct page is 64 bytes for every page frame, whatever the page is used for.
    expect(sp.bytes).toBe(out.pfns * 64);
    expect(sp.percent).toBeCloseTo((64 / 4096) * 100, 10);
    expect(Object.values(sp.byType).reduce((a, b) => a + b, 0)).toBe(sp.bytes);
    expect(md.bytes).toBeLessThan(sp.bytes);
  });

  it('reads this machine when /proc/kpageflags is readable, else says it fell back to the snapshot', () => {
    let readable = true;
    try {
      accessSync('/proc/kpageflags', constants.R_OK);
      accessSync('/proc/kpagecount', constants.R_OK);
    } catch {
      readable = false;
    }
    const r = ts('examples/live-layouts.ts', ['struct-page', 'struct-page-32']);
    expect(r.status, r.stderr).toBe(0);
    const source = /^source: (.*)$/m.exec(r.stdout)?.[1];
    if (readable) expect(source).toBe('live /proc of this machine');
    else expect(source).toMatch(/^bundled idle snapshot \(\/proc\/kpageflags not readable here: /);
    const pfns = Number(/^(\d+) page frames/m.exec(r.stdout)?.[1]);
    expect(pfns).toBeGreaterThan(0);
    const total = /^total\s+([\d.]+) MiB\s+([\d.]+) MiB$/m.exec(r.stdout);
    expect(Number(total?.[1])).toBeCloseTo((pfns * 64) / 2 ** 20, 1);
    expect(r.stdout).toMatch(/^struct-page-32 (saves|costs) [\d.]+ MiB against struct-page/m);
  });

  it('rejects an unknown layout with one line and exit 2', () => {
    const r = ts('examples/live-layouts.ts', ['struct-page', 'nope']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/"nope"/);
  });
});

describe('examples/wait-table-sweep.ts', () => {
  interface SweepOut {
    bookmarks: boolean;
    points: Array<{ workload: string; bits: number } & Metrics>;
  }

  it('sweeps the table bits on the 2017 storm and the file server', () => {
    const out = ok_json<SweepOut>(ts('examples/wait-table-sweep.ts', ['--bits', '4,8,12', '--json']), 'wait-table-sweep');
    expect(out.points.map((p) => `${p.workload}@${p.bits}`)).toEqual([
      'pagewait-numa-storm-2017@4', 'pagewait-numa-storm-2017@8', 'pagewait-numa-storm-2017@12',
      'pagewait-file-server@4', 'pagewait-file-server@8', 'pagewait-file-server@12',
    ]);
    // 2^bits wait_queue_heads of 24 bytes (a spinlock and a list_head, x86-64).
    for (const p of out.points) expect(p['pagewait.table_bytes']).toBe(2 ** p.bits * 24);
    const at = (w: string, b: number) => out.points.find((p) => p.workload === w && p.bits === b)!;
    // The storm's herd waits on the same folios: no table size shortens its longest walk.
    const storm = 'pagewait-numa-storm-2017';
    expect(at(storm, 4)['pagewait.walk_max']).toBe(at(storm, 12)['pagewait.walk_max']);
    // The file server's waiters are spread out: 16 buckets mix folios, 4096 hardly do.
    const fs = 'pagewait-file-server';
    expect(at(fs, 4)['pagewait.foreign_walked']).toBeGreaterThan(at(fs, 12)['pagewait.foreign_walked']!);
  });

  it('rejects bits out of range with one line and exit 2', () => {
    const r = ts('examples/wait-table-sweep.ts', ['--bits', '0,8']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--bits/);
  });
});

describe('the examples typecheck (strict, against the packages\' sources)', () => {
  it('tsc -p examples/tsconfig.json', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'examples/tsconfig.json')], { cwd: ROOT, encoding: 'utf8', timeout: 110_000 });
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });
});
