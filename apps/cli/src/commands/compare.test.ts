import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { run_cli } from '../test/run-cli.js';

describe('foliolab run', () => {
  it('prints foliolab/run@1 with one run per policy and the observe records', () => {
    const r = run_cli(['run', 'seed004-aligned-pmd', '--mapcount', 'per-page,upstream', '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.schema).toBe('foliolab/run@1');
    expect(j.workload).toBe('seed004-aligned-pmd');
    expect(j.runs.map((x: { mapcount: string }) => x.mapcount)).toEqual(['per-page', 'upstream']);
    const page = j.runs[0].observe[0].pages[0];
    expect(Object.keys(page)).toEqual(['index', 'procs']);
    const p = Object.values(page.procs)[0] as { pfn: number; page: number; folio: number; oracle: { page: number; folio: number } };
    expect(p.oracle).toEqual({ page: 1, folio: 1 });
    expect(p.page).toBe(1);
  });
});

describe('foliolab compare', () => {
  it('writes JSON, CSV and the HTML report whole', () => {
    const dir = mkdtempSync(join(tmpdir(), 'foliolab-cli-'));
    try {
      const r = run_cli(['compare', 'mmid-615-maybe-shared', '--mapcount', 'per-folio,upstream', '--layout', 'memdesc', '--format', 'json', '--out', join(dir, 'r.json'), '--jobs', '1']);
      expect(r.status, r.stderr).toBe(0);
      const j = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8'));
      expect(j.schema).toBe('foliolab/compare@1');
      expect(j.runs.map((x: { status: string }) => x.status)).toEqual(['ok', 'refused']);
      expect(j.memmap.pfns).toBe(6_553_600);
      const c = run_cli(['compare', 'cold-read-1m', '--fs', 'buffer-head,iomap', '--format', 'csv', '--out', join(dir, 'r.csv')]);
      expect(c.status, c.stderr).toBe(0);
      expect(readFileSync(join(dir, 'r.csv'), 'utf8').split('\n')).toHaveLength(4);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  describe('bad input: one line, exit 2, nothing written', () => {
    const dir = mkdtempSync(join(tmpdir(), 'foliolab-bad-'));
    const out = join(dir, 'out.json');
    const bad = (args: string[], pattern: RegExp) => {
      const r = run_cli([...args, ...(args[0] === 'compare' ? ['--format', 'json'] : []), '--out', out]);
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(pattern);
      expect(existsSync(out)).toBe(false);
    };
    it('an unknown policy name', () => bad(['compare', 'thp-fork-partial', '--mapcount', 'per-pfn'], /--mapcount: unknown mapcount "per-pfn"/));
    it('an unknown workload', () => bad(['compare', 'no-such-workload'], /no-such-workload/));
    it('a workload file that does not parse', () => {
      const f = join(dir, 'broken.yaml');
      writeFileSync(f, 'name: x\nmachine: { memory: 1GiB, seed: 1 }\nsteps:\n  - touch: { proc: p, size: 2XB }\n');
      bad(['compare', f], /broken\.yaml:4:\d+: steps\[0\]\.touch/);
    });
    it('--jobs 0', () => bad(['compare', 'thp-fork-partial', '--jobs', '0'], /--jobs: "0" is not a whole number/));
    it('an output folder that does not exist', () => {
      const r = run_cli(['compare', 'thp-fork-partial', '--out', join(dir, 'nope', 'r.json')]);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/folder .*nope does not exist/);
    });
    it('a bad size', () => bad(['run', 'thp-fork-partial', '--memory', '2XB'], /--memory: .*2XB/));
    it('an unknown option', () => bad(['run', 'thp-fork-partial', '--colour'], /^foliolab run: unknown option '--colour'/));
    it('a block size that is not a power of two', () => bad(['run', 'cold-read-1m', '--block-size', '3000'], /--block-size: 3000 is not a power of two/));
    it('a write past the largest file', () => {
      const f = join(dir, 'far.yaml');
      writeFileSync(f, 'name: far\nmachine: { memory: 64MiB, seed: 1 }\nsteps:\n  - open: { file: f }\n  - write: { file: f, offset: 64TiB, size: 4KiB }\n');
      bad(['run', f, '--fs', 'buffer-head,iomap'], /far\.yaml:5:\d+: steps\[1\]\.write: .*past the maximum file size/);
    });
    it('a read of a file that was never opened', () => {
      const f = join(dir, 'unopened.yaml');
      writeFileSync(f, 'name: unopened\nmachine: { memory: 64MiB, seed: 1 }\nsteps:\n  - read: { file: g, offset: 0, size: 4KiB }\n');
      bad(['run', f], /unopened\.yaml:4:\d+: steps\[0\]\.read.*g/);
    });
  });
});

describe('foliolab run --pagewait', () => {
  const dir = mkdtempSync(join(tmpdir(), 'foliolab-pw-'));
  const contend = (fields: string) => {
    const f = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(f, `name: c\nmachine: { memory: 64MiB, seed: 1 }\nsteps:\n  - contend: { ${fields} }\n`);
    return f;
  };

  it('runs both wait policies and a bigger wait table', () => {
    const r = run_cli(['run', 'pagewait-file-server', '--pagewait', 'hashed,attached', '--wait-table-bits', '10', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.runs.map((x: { pagewait: string }) => x.pagewait)).toEqual(['hashed', 'attached']);
    expect(j.runs[0].metrics['pagewait.table_bytes']).toBe(1024 * 24);
    expect(j.runs[1].metrics['pagewait.foreign_walked']).toBe(0);
  });

  it.each([
    ['zero tasks', 'tasks: 0, hotFolios: 2, holdTime: 1us, duration: 1ms, pattern: lock', /tasks/],
    ['negative latency', 'tasks: 4, hotFolios: 2, holdTime: 1us, ioLatency: -5, duration: 1ms, pattern: writeback', /ioLatency/],
    ['more hot folios than memory', 'tasks: 4, hotFolios: 100000, holdTime: 1us, duration: 1ms, pattern: lock', /hotFolios|fit/],
  ])('%s is bad input', (_what, fields, pattern) => {
    const r = run_cli(['run', contend(fields), '--pagewait', 'hashed']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(pattern);
  });
});

describe('foliolab report', () => {
  it('renders a saved result to one HTML file, and refuses a file that is not a result', () => {
    const dir = mkdtempSync(join(tmpdir(), 'foliolab-rep-'));
    try {
      const r = run_cli(['compare', 'seed004-aligned-pmd', 'pagewait-file-server', '--layout', 'struct-page', '--mapcount', 'per-folio,upstream', '--format', 'json', '--out', join(dir, 'r.json'), '--jobs', '1']);
      expect(r.status, r.stderr).toBe(0);
      const j = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8'));
      expect(j.runs.find((x: { kind: string }) => x.kind === 'pagewait').distributions['pagewait.walk'].length).toBeGreaterThan(0);
      const h = run_cli(['report', join(dir, 'r.json'), '--out', join(dir, 'r.html')]);
      expect(h.status, h.stderr).toBe(0);
      const html = readFileSync(join(dir, 'r.html'), 'utf8');
      expect(html).toMatch(/^<!doctype html>/i);
      // Self-contained: no script or stylesheet is fetched (the report's own browser test guards every request).
      expect(/<script[^>]+src=|<link[^>]+href=/i.test(html)).toBe(false);
      writeFileSync(join(dir, 'x.json'), '{"schema":"other"}');
      const bad = run_cli(['report', join(dir, 'x.json'), '--out', join(dir, 'x.html')]);
      expect(bad.status).toBe(2);
      expect(bad.stderr).toMatch(/x\.json: schema/);
      expect(existsSync(join(dir, 'x.html'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});
