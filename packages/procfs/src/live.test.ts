import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { censusFromArrays } from './census.js';
import { ProcfsError } from './errors.js';
import { flagsCensus } from './flags-census.js';
import { readLive, readLiveCensus } from './live.js';
import { parseMeminfo } from './meminfo.js';
import { captureSnapshot, readSnapshot } from './snapshot.js';
import { readFileSync } from 'node:fs';

/** Why the live tests cannot run here, or undefined when /proc/kpageflags is readable. */
function liveUnavailable(): string | undefined {
  try {
    const fd = openSync('/proc/kpageflags', 'r');
    try {
      if (readSync(fd, Buffer.alloc(8), 0, 8, 0) !== 8) return '/proc/kpageflags is empty';
    } finally {
      closeSync(fd);
    }
    return undefined;
  } catch (e) {
    return `/proc/kpageflags is not readable (${(e as { code?: string }).code ?? (e as Error).message}); run as root to include them`;
  }
}
const unavailable = liveUnavailable();
const isRoot = process.getuid?.() === 0;

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'foliolab-procfs-live-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe(unavailable ? `live /proc census — SKIPPED: ${unavailable}` : 'live /proc census', () => {
  it.skipIf(unavailable)('classifies every PFN of this machine and agrees loosely with /proc/meminfo', async () => {
    const before = parseMeminfo(readFileSync('/proc/meminfo', 'utf8'));
    const c = await readLiveCensus();
    const after = c.meminfo!;
    expect(c.source).toEqual({ kind: 'live', path: '/proc' });
    expect(c.pfns).toBeGreaterThan(0);
    expect(Object.values(c.pages).reduce((a, b) => a + b, 0)).toBe(c.pfns);
    const bytes = (k: keyof typeof c.pages) => c.pages[k] * 4096;
    const memFreeMax = Math.max(before['MemFree']!, after['MemFree']!);
    const memFreeMin = Math.min(before['MemFree']!, after['MemFree']!);
    // Free memory is BUDDY heads (and, on some kernels, BUDDY tails) plus flag-less tails of free blocks.
    expect(bytes('buddy')).toBeLessThanOrEqual(memFreeMax * 1.05);
    expect(bytes('buddy') + bytes('none')).toBeGreaterThanOrEqual(memFreeMin * 0.9);
    // Mapped anon pages: this test process itself allocates ~100 MiB of buffers while the read runs, so the
    // window is wide; a misclassification (anon as file, tails lost) would still fall out of it.
    const anonLo = Math.min(before['AnonPages']!, after['AnonPages']!);
    const anonHi = Math.max(before['AnonPages']!, after['AnonPages']!);
    expect(bytes('anon') + bytes('ksm')).toBeGreaterThanOrEqual(anonLo * 0.3);
    expect(bytes('anon') + bytes('ksm')).toBeLessThanOrEqual(anonHi * 1.3 + (64 << 20));
    expect(bytes('pagetable')).toBeLessThanOrEqual(Math.max(before['PageTables']!, after['PageTables']!) * 2 + (16 << 20));
  });

  it.skipIf(unavailable)('reads the same PFN range whatever the chunk size', async () => {
    const a = await readLive({ meminfo: false });
    const b = await readLive({ meminfo: false, chunkBytes: 8 * 123_457, depth: 3 });
    expect(b.pfns).toBe(a.pfns);
    expect(b.flags.length).toBe(2 * a.pfns);
    expect(b.counts.length).toBe(2 * a.pfns);
  });

  it.skipIf(unavailable)('captures a snapshot that reads back', async () => {
    const out = join(tmp, 'capture');
    await captureSnapshot(out, { gzip: true });
    const names = await readdir(out);
    expect(names).toEqual(expect.arrayContaining(['kpageflags.gz', 'kpagecount.gz', 'meminfo', 'vmstat', 'zoneinfo', 'uname']));
    const snap = await readSnapshot(out);
    expect(snap.pfns).toBeGreaterThan(0);
    expect(snap.meminfo?.['MemTotal']).toBeGreaterThan(0);
    const c = censusFromArrays(snap);
    expect(Object.values(c.pages).reduce((x, y) => x + y, 0)).toBe(snap.pfns);
    expect(flagsCensus(snap.flags).reduce((x, r) => x + r.pages, 0)).toBe(snap.pfns);
    await expect(captureSnapshot(out)).rejects.toThrow(`${out}: already exists`);
  });

  it.skipIf(unavailable || !isRoot)('without root, /proc/kpageflags gives one clear line (checked as uid 65534)', () => {
    const script = fileURLToPath(new URL('../test-fixtures/read-live-child.mjs', import.meta.url));
    const r = spawnSync(process.execPath, ['--conditions=@foliolab/source', '--import', 'tsx', script], {
      uid: 65534,
      gid: 65534,
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.stdout.trim()).toMatch(/^ProcfsError\|\/proc\/kpageflags: permission denied \(E(ACCES|PERM)\) opening it/);
  });
});

describe('live read errors', () => {
  it('names the missing file when the proc directory has no kpageflags', async () => {
    const err = await readLive({ procDir: tmp }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProcfsError);
    expect((err as ProcfsError).message).toBe(`${join(tmp, 'kpageflags')}: no such file or directory`);
  });
  it('rejects a chunk size that is not a multiple of 8', async () => {
    await expect(readLive({ chunkBytes: 12 })).rejects.toThrow('chunkBytes: must be a positive multiple of 8, got 12');
  });
});
