import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { preconditions_check, type HostView } from './preconditions.js';
import { cli_parse } from './cli.js';
import { ProbeError } from './host.js';
import { plan_from_json } from './plan-load.js';

const FILESYSTEMS = 'nodev\ttracefs\n\text4\n\txfs\n';
function host(over: Partial<HostView> = {}): HostView {
  return { euid: 0, exists: () => true, proc_filesystems: FILESYSTEMS, which: () => true, ...over };
}

function failure(fn: () => unknown): ProbeError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ProbeError) return e;
    throw e;
  }
  throw new Error('expected a ProbeError');
}

describe('preconditions_check', () => {
  it('passes on a capable host', () => {
    expect(() => preconditions_check(host(), ['ext4-4k', 'ext4-1k', 'xfs-4k'])).not.toThrow();
  });

  it.each([
    ['not root', host({ euid: 1000 }), /must run as root \(euid is 1000\)/],
    ['no loop device', host({ exists: (p) => p !== '/dev/loop-control' }), /no loop device support/],
    ['no tracefs', host({ exists: (p) => !p.includes('tracing'), proc_filesystems: '\text4\n\txfs\n' }), /tracefs/],
    ['no xfs in the kernel', host({ proc_filesystems: 'nodev\ttracefs\n\text4\n' }), /--fs xfs-4k: the kernel has no xfs/],
    ['no mkfs.xfs', host({ which: (c) => c !== 'mkfs.xfs' }), /mkfs\.xfs is not in PATH \(apt-get install -y xfsprogs\)/],
  ])('fails with exit 2 when %s', (_what, h, message) => {
    const e = failure(() => preconditions_check(h, ['ext4-4k', 'xfs-4k']));
    expect(e.exit_code).toBe(2);
    expect(e.message).toMatch(message);
    expect(e.message).not.toContain('\n');
  });
});

describe('cli_parse', () => {
  it('expands all filesystems and workloads', () => {
    const o = cli_parse(['--fs', 'all', '--workload', 'all']);
    expect(o).not.toBe('help');
    if (o === 'help') return;
    expect(o.fss).toEqual(['ext4-4k', 'ext4-1k', 'xfs-4k']);
    expect(o.plans.map((p) => p.plan.name)).toContain('small-files');
    expect(o.repeats).toBe(3);
  });

  it.each([
    [['--fs', 'btrfs', '--workload', 'seq-write-64m'], /--fs btrfs: unknown filesystem/],
    [['--fs', 'ext4-4k', '--workload', 'nope'], /--workload nope: unknown workload/],
    [['--fs', 'ext4-4k'], /exactly one of --workload/],
    [['--workload', 'seq-write-64m'], /--fs is required/],
    [['--fs', 'ext4-4k', '--workload', 'seq-write-64m', '--repeats', '0'], /--repeats 0: must be an integer/],
    [['--fs', 'ext4-4k', '--bogus'], /bogus/],
  ])('rejects %j with exit 2', (argv, message) => {
    const e = failure(() => cli_parse(argv));
    expect(e.exit_code).toBe(2);
    expect(e.message).toMatch(message);
  });

  it('sets the seed of random workloads', () => {
    const o = cli_parse(['--fs', 'xfs-4k', '--workload', 'rand-overwrite-cached', '--seed', '7']);
    if (o === 'help') throw new Error('help');
    expect(o.plans[0]!.plan.seed).toBe(7);
  });
});

describe('custom plans', () => {
  it('accepts a plan with file steps and derives files and bytes', () => {
    const p = plan_from_json({ name: 'tiny', traced: [{ op: 'open', slot: 0, path: 'a', mode: 'create' }, { op: 'pwrite', slot: 0, offset: 0, length: 4096 }, { op: 'fsync', slot: 0 }, { op: 'close', slot: 0 }] }, 'p.json');
    expect(p.files).toEqual(['a']);
    expect(p.expect).toEqual({ write_bytes: 4096, read_bytes: 0 });
  });

  it.each([
    [{ name: 'x', traced: [{ op: 'mkdir', path: 'd' }] }, /p\.json: traced: has no file steps/],
    [{ name: 'x', traced: [{ op: 'pwrite', slot: 0, offset: 0, length: 0 }] }, /traced\[0\]\.length: must be > 0/],
    [{ name: 'x', traced: [{ op: 'open', slot: 0, path: '../etc/passwd', mode: 'read' }] }, /traced\[0\]\.path/],
    [{ name: 'x', traced: [{ op: 'unlink', path: 'a' }] }, /traced\[0\]\.op: unknown operation "unlink"/],
    [{ traced: [] }, /p\.json: name/],
  ])('rejects %j with exit 2', (json, message) => {
    const e = failure(() => plan_from_json(json, 'p.json'));
    expect(e.exit_code).toBe(2);
    expect(e.message).toMatch(message);
  });

  it('reports the plan file through the CLI', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fsprobe-plan-test-'));
    try {
      const file = join(dir, 'empty.json');
      writeFileSync(file, JSON.stringify({ name: 'empty', traced: [{ op: 'sync' }].slice(1) }));
      const e = failure(() => cli_parse(['--fs', 'ext4-4k', '--plan', file]));
      expect(e.exit_code).toBe(2);
      expect(e.message).toBe(`${file}: traced: has no file steps (needs at least one of pwrite, pread, fsync, sync, syncfs)`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
