import { describe, expect, it } from 'vitest';
import { gunzipSync } from 'node:zlib';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { bundled_snapshot_dir } from './memmap.js';
import { PM_HI, parse_maps, writeSnapshot } from '@foliolab/procfs';
import { run_cli } from '../test/run-cli.js';

const SNAP = bundled_snapshot_dir();

/**
 * An independent reading of the snapshot: the raw little-endian u64 arrays, the classification rules of
 * the issue written out plainly, folios as head+tail runs. Shares no code with @foliolab/procfs.
 */
function expected() {
  const flags = gunzipSync(readFileSync(join(SNAP, 'kpageflags.gz')));
  const counts = gunzipSync(readFileSync(join(SNAP, 'kpagecount.gz')));
  const n = flags.length / 8;
  const bit = (i: number, b: number) => (b < 32 ? (flags.readUInt32LE(i * 8) >>> b) & 1 : (flags.readUInt32LE(i * 8 + 4) >>> (b - 32)) & 1);
  const klass = (i: number): string => {
    const lo = flags.readUInt32LE(i * 8);
    const hi = flags.readUInt32LE(i * 8 + 4);
    const count = Number(counts.readBigUInt64LE(i * 8));
    if ((lo === 0 || lo === 1 << 20) && hi === 0 && count === 0) return 'none';
    if (bit(i, 19)) return 'hwpoison';
    if (bit(i, 23)) return 'offline';
    if (bit(i, 32)) return 'reserved';
    if (bit(i, 10)) return 'buddy';
    if (bit(i, 7)) return 'slab';
    if (bit(i, 26)) return 'pagetable';
    if (bit(i, 24)) return 'zero_page';
    if (bit(i, 17)) return 'hugetlb';
    if (bit(i, 21)) return 'ksm';
    if (bit(i, 12)) return 'anon';
    if (bit(i, 5) || bit(i, 11) || bit(i, 3) || bit(i, 4) || bit(i, 8) || bit(i, 34) || bit(i, 35)) return 'file';
    return 'unknown';
  };
  const pages: Record<string, number> = {};
  const objects: Record<string, number> = {};
  for (let i = 0; i < n; ) {
    const c = klass(i);
    let run = 1;
    if (bit(i, 15)) while (i + run < n && bit(i + run, 16) && !bit(i + run, 15)) run++;
    pages[c] = (pages[c] ?? 0) + run;
    objects[c] = (objects[c] ?? 0) + 1;
    i += run;
  }
  return { n, pages, objects };
}

describe('foliolab memmap on the bundled idle snapshot', () => {
  const exp = expected();

  it('counts 6,553,600 PFNs and measures struct-page at 64 B and memdesc at 8 B + the descriptors the census implies', () => {
    const r = run_cli(['memmap', '--snapshot', SNAP, '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.schema).toBe('foliolab/memmap@1');
    expect(j.pfns).toBe(6_553_600);
    expect(exp.n).toBe(6_553_600);
    for (const [t, p] of Object.entries(exp.pages)) expect(j.census[t], t).toBe(p);
    const byName = Object.fromEntries(j.layouts.map((l: { name: string }) => [l.name, l]));
    expect(byName['struct-page'].bytes).toBe(419_430_400);
    expect(byName['struct-page'].percent).toBe(1.5625);
    const o = exp.objects;
    const folios = (o.anon ?? 0) + (o.file ?? 0) + (o.ksm ?? 0);
    const memdesc = 8 * 6_553_600 + 80 * folios + 96 * (o.hugetlb ?? 0) + 64 * (o.slab ?? 0) + 64 * (o.pagetable ?? 0);
    expect(byName.memdesc.bytes).toBe(memdesc);
    expect(byName['struct-page-32'].bytes).toBe(memdesc + 24 * 6_553_600);
    // No hugetlb on the idle machine: HVO changes nothing there.
    expect(byName['struct-page-hvo'].bytes).toBe(419_430_400);
    // Budget: the memdesc layout holds the idle machine in at most 16 host bytes per PFN.
    expect(byName.memdesc.hostBytesPerPage).toBeLessThanOrEqual(16);
  });

  it('prints a table and a one-line verdict', () => {
    const r = run_cli(['memmap', '--snapshot', SNAP, '--layout', 'struct-page,memdesc']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('6,553,600 PFNs');
    expect(r.stdout).toMatch(/memdesc saves [\d.]+ MiB on this machine/);
  });

  it('prints the page-types -r flags census line for line', () => {
    const r = run_cli(['memmap', '--snapshot', SNAP, '--flags']);
    expect(r.status).toBe(0);
    const kernel = readFileSync(join(SNAP, '..', 'page-types-r.kpage-snapshot-idle.txt'), 'utf8');
    expect(r.stdout).toBe(kernel);
  });
});

describe('foliolab memmap bad input', () => {
  const bad = (args: string[], pattern: RegExp) => {
    const r = run_cli(args);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(pattern);
  };

  it('a missing snapshot', () => bad(['memmap', '--snapshot', '/nonexistent/snap'], /\/nonexistent\/snap.*(missing|not exist|no such)/i));

  it('a file whose size is not a multiple of 8, and flags and counts of different lengths', () => {
    const dir = mkdtempSync(join(tmpdir(), 'foliolab-bad-'));
    try {
      writeFileSync(join(dir, 'kpageflags'), Buffer.alloc(8 * 10 + 3));
      writeFileSync(join(dir, 'kpagecount'), Buffer.alloc(8 * 10));
      bad(['memmap', '--snapshot', dir], /kpageflags.*multiple of 8/);
      writeFileSync(join(dir, 'kpageflags'), Buffer.alloc(8 * 12));
      bad(['memmap', '--snapshot', dir], /12.*10|10.*12|length/);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('an unknown layout name, before reading anything', () => bad(['memmap', '--snapshot', SNAP, '--layout', 'memdesc,page128'], /--layout: unknown layout "page128"/));

  it('no output file when the output folder does not exist', () => {
    const out = join(tmpdir(), 'no-such-dir-foliolab', 'r.json');
    bad(['memmap', '--snapshot', SNAP, '--json', '--out', out], /no-such-dir-foliolab.*does not exist/);
    expect(existsSync(out)).toBe(false);
  });

  it.skipIf(process.getuid?.() !== 0 || !existsSync('/proc/kpageflags'))('/proc unreadable without root names the file and the reason', () => {
    const r = run_cli(['memmap', '--live'], { uid: 65534, cwd: '/' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toMatch(/^foliolab: \/proc\/kpageflags: .*(permission|root)/i);
  });

  it('writes the report whole with --out', () => {
    const dir = mkdtempSync(join(tmpdir(), 'foliolab-out-'));
    try {
      const r = run_cli(['memmap', '--snapshot', SNAP, '--json', '--out', join(dir, 'm.json')]);
      expect(r.status).toBe(0);
      expect(JSON.parse(readFileSync(join(dir, 'm.json'), 'utf8')).pfns).toBe(6_553_600);
      copyFileSync(join(dir, 'm.json'), join(dir, 'copy.json'));
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});

describe('foliolab memmap --pid on a snapshot with captured processes', () => {
  /**
   * 4096 PFNs, an anon order-9 THP at PFN 1024; process 41 maps all of it at 2 MiB plus PFN 10, process
   * 42 maps its first 256 pages by PTEs: the THP is fully mapped in 41, partially in 42, shared by both.
   */
  async function snapshot(dir: string): Promise<void> {
    const pfns = 4096;
    const flags = new Uint32Array(2 * pfns);
    const counts = new Uint32Array(2 * pfns);
    flags[2 * 10] = (1 << 12) | (1 << 11);
    counts[2 * 10] = 1;
    for (let k = 0; k < 512; k++) {
      flags[2 * (1024 + k)] = (1 << 12) | (1 << 11) | (1 << 22) | (k === 0 ? 1 << 15 : 1 << 16);
      counts[2 * (1024 + k)] = k < 256 ? 2 : 1;
    }
    const proc = (pid: number, n: number, extra: number[]) => {
      const mapsText = '00200000-00600000 rw-p 00000000 00:00 0 \n';
      const { vmas, skipped } = parse_maps(mapsText, 'maps');
      const vpns = [...Array.from({ length: n }, (_, k) => 512 + k), ...extra.map((_, i) => 1024 + i)];
      const pfnsOf = [...Array.from({ length: n }, (_, k) => 1024 + k), ...extra];
      const count = vpns.length;
      const pages = { count, vpn: Float64Array.from(vpns), lo: Uint32Array.from(pfnsOf), hi: new Uint32Array(count).fill(PM_HI.PRESENT) };
      return { pid, comm: `p${pid}`, vmas, skipped, mapsText, pages };
    };
    await writeSnapshot(dir, { pfns, flags, counts }, { gzip: true, processes: [proc(41, 512, [10]), proc(42, 256, [])] });
  }

  it('shows each captured process folio by folio, in the table and in the JSON', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'foliolab-procs-')), 'snap');
    try {
      await snapshot(dir);
      const j = JSON.parse(run_cli(['memmap', '--snapshot', dir, '--layout', 'memdesc', '--json']).stdout);
      expect(j.processes.map((p: { pid: number }) => p.pid)).toEqual([41, 42]);
      expect(j.processes[0].pagesByOrder).toEqual({ '0': 1, '9': 512 });
      expect(j.processes[0].largeFolios).toEqual({ byOrder: { '9': 1 }, fullyMappedHere: 1, partiallyMappedHere: 0, alsoMappedElsewhere: 1, tuplesHere: 1, pageMappingsHere: 512 });
      expect(j.processes[1].largeFolios).toMatchObject({ fullyMappedHere: 0, partiallyMappedHere: 1, alsoMappedElsewhere: 1, pageMappingsHere: 256 });
      const t = run_cli(['memmap', '--snapshot', dir, '--layout', 'memdesc', '--pid', '42,42', '--pid', '42']);
      expect(t.status).toBe(0);
      expect(t.stdout).toMatch(/│ 42 +│ p42 +│ 256 +│ 256 +│ 0 +│ 9:256 +│ 1 +│ 0 +│ 1 +│ 1 +│ 1 \/ 256 +│/);
      expect(t.stdout).not.toMatch(/│ 41 /);
      expect(t.stdout.match(/│ 42 /g)).toHaveLength(1);
      const missing = run_cli(['memmap', '--snapshot', dir, '--pid', '7']);
      expect(missing.status).toBe(2);
      expect(missing.stderr.trim()).toBe(`foliolab: --pid 7: the snapshot ${dir} has no process 7 (it has 41, 42)`);
    } finally {
      rmSync(join(dir, '..'), { recursive: true });
    }
  });

  it.skipIf(process.getuid?.() !== 0 || !existsSync('/proc/kpageflags'))('captures a live process (this test runner) and reads it back; a process that is not there writes nothing', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'foliolab-cap-')), 'snap');
    try {
      const r = run_cli(['capture', '--out', dir, '--pid', String(process.pid)]);
      expect(r.stderr).toBe('');
      expect(r.stdout.trim()).toBe(`${dir}: snapshot written with processes ${process.pid}`);
      const j = JSON.parse(run_cli(['memmap', '--snapshot', dir, '--layout', 'memdesc', '--json']).stdout);
      expect(j.processes).toHaveLength(1);
      expect(j.processes[0].pid).toBe(process.pid);
      expect(j.processes[0].comm).toBe(readFileSync(`/proc/${process.pid}/comm`, 'utf8').trim());
      expect(j.processes[0].pages.present).toBeGreaterThan(1000);
      expect(j.processes[0].pages.anon + j.processes[0].pages.file + j.processes[0].pages.zeroPage + j.processes[0].pages.outsideArrays).toBe(j.processes[0].pages.present);
      const gone = join(dir, '..', 'gone');
      const g = run_cli(['capture', '--out', gone, '--pid', '999999999']);
      expect(g.status).toBe(2);
      expect(g.stderr.trim()).toBe('foliolab: /proc/999999999/maps: no process 999999999 (it is not running, or it exited)');
      expect(existsSync(gone)).toBe(false);
    } finally {
      rmSync(join(dir, '..'), { recursive: true });
    }
  });

  it('refuses a --pid that is not a number, or one without a source', () => {
    const r = run_cli(['memmap', '--snapshot', SNAP, '--pid', '12x']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('foliolab: --pid: "12x" is not a process id (a positive integer)');
    const f = run_cli(['memmap', '--snapshot', SNAP, '--flags', '--pid', '12']);
    expect(f.status).toBe(2);
    expect(f.stderr.trim()).toBe('foliolab: --pid: not with --flags (the flag census is of the whole machine)');
    const c = run_cli(['capture', '--out', join(tmpdir(), 'never-written'), '--pid', '0']);
    expect(c.status).toBe(2);
    expect(c.stderr.trim()).toBe('foliolab: --pid: "0" is not a process id (a positive integer)');
  });
});
