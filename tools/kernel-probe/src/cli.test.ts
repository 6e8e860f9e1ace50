import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { cli_parse } from './cli.js';
import { preconditions_check, ProbeError, type HostView } from './probe.js';

const PKG = fileURLToPath(new URL('..', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'kp-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function cli(args: string[], opts: { asNobody?: boolean } = {}) {
  const node = [process.execPath, '--conditions=@foliolab/source', '--import', 'tsx', 'src/main.ts', ...args];
  const cmd = opts.asNobody ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', ...node] : node;
  const r = spawnSync(cmd[0]!, cmd.slice(1), { cwd: PKG, encoding: 'utf8', env: { ...process.env, INIT_CWD: PKG } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.split('\n').filter((l) => l && !/nodedir/.test(l)) };
}

describe('kernel-probe CLI: bad input is one line and exit 2, before anything is touched', () => {
  it('no workload, unknown option, bad --runs', () => {
    for (const [args, re] of [
      [[], /no workload given/],
      [['scenarios/thp-cow-pmd.yaml', '--bogus'], /unknown option --bogus/],
      [['scenarios/thp-cow-pmd.yaml', '--runs', '0'], /--runs: "0" is not a whole number from 1 to 20/],
    ] as [string[], RegExp][]) {
      const r = cli(args);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toHaveLength(1);
      expect(r.stderr[0]).toMatch(re);
    }
  });

  it('a workload with steps the probe cannot replay names file:line:column', () => {
    const f = join(tmp, 'files.yaml');
    writeFileSync(f, 'name: f\nmachine: { memory: 1GiB, thp: madvise, seed: 1 }\nsteps:\n  - spawn: { proc: p }\n  - open: { file: x }\n  - write: { file: x, offset: 0, size: 4KiB }\n');
    const r = cli([f]);
    expect(r.code).toBe(2);
    expect(r.stderr).toEqual([expect.stringMatching(/^kernel-probe: .*files\.yaml:5:5: .*no handler for op "open"/)]);
    const c = join(tmp, 'contend.yaml');
    writeFileSync(c, 'name: c\nmachine: { memory: 1GiB, thp: madvise, seed: 1 }\nsteps:\n  - contend: { tasks: 4, hotFolios: 2, holdTime: 1us, duration: 1ms, pattern: lock }\n');
    expect(cli([c]).stderr).toEqual([expect.stringMatching(/contend\.yaml:4:5: .*no handler for op "contend"/)]);
  });

  it('a missing workload file, a bad workload, an --out directory that does not exist', () => {
    expect(cli([join(tmp, 'nope.yaml')])).toMatchObject({ code: 2, stderr: [expect.stringMatching(/nope\.yaml/)] });
    const bad = join(tmp, 'bad.yaml');
    writeFileSync(bad, 'name: b\nmachine: { memory: 1GiB, thp: madvise, seed: 1 }\nsteps:\n  - spawn: { proc: p }\n  - mmap: { proc: p, region: A, size: 2XB }\n');
    expect(cli([bad])).toMatchObject({ code: 2, stderr: [expect.stringMatching(/bad\.yaml:5:39: steps\[1\]\.mmap\.size: "2XB" is not a size/)] });
    const out = join(tmp, 'no-such-dir', 'x.json');
    expect(cli(['scenarios/thp-cow-pmd.yaml', '--out', out])).toMatchObject({ code: 2, stderr: [expect.stringMatching(/--out: directory .*no-such-dir does not exist/)] });
    expect(existsSync(out)).toBe(false);
  });

  const canDrop = process.geteuid?.() === 0 && spawnSync('setpriv', ['--version']).status === 0;
  it.skipIf(!canDrop)('not root: exit 2 (run as uid 65534 through setpriv)', () => {
    const r = cli(['scenarios/thp-cow-pmd.yaml'], { asNobody: true });
    expect(r.code).toBe(2);
    expect(r.stderr).toEqual([expect.stringMatching(/must run as root \(euid is 65534\)/)]);
  });
});

describe('preconditions and argument parsing', () => {
  const host = (over: Partial<HostView>): HostView => ({ euid: 0, readable: () => true, exists: () => true, thpEnabled: () => 'always [madvise] never', ...over });
  const code_of = (h: HostView): string => {
    try {
      preconditions_check(h);
      return 'ok';
    } catch (e) {
      expect(e).toBeInstanceOf(ProbeError);
      expect((e as ProbeError).exitCode).toBe(2);
      return (e as Error).message;
    }
  };
  it('names the unmet precondition', () => {
    expect(code_of(host({}))).toBe('ok');
    expect(code_of(host({ euid: 1000 }))).toMatch(/must run as root/);
    expect(code_of(host({ readable: (p) => p !== '/proc/kpagecount' }))).toMatch(/\/proc\/kpagecount is not readable/);
    expect(code_of(host({ thpEnabled: () => null }))).toMatch(/no transparent hugepages/);
    expect(code_of(host({ exists: () => false }))).toMatch(/gcc is required/);
  });
  it('parses options', () => {
    expect(cli_parse(['a.yaml', '--runs', '3', '--out', 'x.json'])).toEqual({ workload: 'a.yaml', runs: 3, out: 'x.json' });
    expect(cli_parse(['--help'])).toBe('help');
    expect(() => cli_parse(['a', 'b'])).toThrow(/one workload at a time/);
  });
});
