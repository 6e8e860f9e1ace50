import { describe, expect, it } from 'vitest';
import { gunzipSync } from 'node:zlib';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { bundled_snapshot_dir } from './memmap.js';
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
