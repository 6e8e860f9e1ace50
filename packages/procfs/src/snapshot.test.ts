import { mkdtemp, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { censusFromArrays } from './census.js';
import { ProcfsError } from './errors.js';
import { readSnapshot, readSnapshotCensus, writeSnapshot } from './snapshot.js';
import type { Snapshot } from './snapshot.js';

const FIXTURE = fileURLToPath(new URL('../test-fixtures/kpage-snapshot-idle', import.meta.url));
let tmp: string;
let fixture: Snapshot;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'foliolab-procfs-'));
  fixture = await readSnapshot(FIXTURE);
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const u64 = (values: number[]): Buffer => Buffer.from(BigUint64Array.from(values.map(BigInt)).buffer);

async function dirWith(name: string, files: Record<string, Buffer | string>): Promise<string> {
  const d = join(tmp, name);
  await mkdir(d);
  for (const [f, data] of Object.entries(files)) await writeFile(join(d, f), data);
  return d;
}

async function expectProcfsError(p: Promise<unknown>, path: string, reason: RegExp): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProcfsError);
  expect((err as ProcfsError).path).toBe(path);
  expect((err as ProcfsError).reason).toMatch(reason);
  expect((err as ProcfsError).message).toBe(`${path}: ${(err as ProcfsError).reason}`);
  expect((err as ProcfsError).message).not.toContain('\n');
}

describe('readSnapshot', () => {
  it('loads the shared idle snapshot layout as-is', () => {
    expect(fixture.pfns).toBe(6_553_600);
    expect(fixture.cgroups?.length).toBe(2 * 6_553_600);
    expect(Object.keys(fixture.texts).sort()).toEqual(['meminfo.after', 'meminfo.before', 'uname', 'vmstat', 'zoneinfo']);
    expect(fixture.meminfo?.['MemTotal']).toBe(24683656 * 1024);
  });

  it('gives a census with its source', async () => {
    const c = await readSnapshotCensus(FIXTURE);
    expect(c.pfns).toBe(6_553_600);
    expect(c.source).toEqual({ kind: 'snapshot', path: FIXTURE });
    expect(c.meminfo?.['MemFree']).toBe(23732356 * 1024);
  });
});

describe('writeSnapshot round trip', () => {
  for (const gzip of [false, true]) {
    it(`writes and reads back identical arrays (${gzip ? 'gzip' : 'raw'})`, async () => {
      const out = join(tmp, `round-${gzip ? 'gz' : 'raw'}`);
      await writeSnapshot(out, fixture, { gzip, texts: { meminfo: fixture.texts['meminfo.before']!, uname: fixture.texts['uname']! } });
      const names = (await readdir(out)).sort();
      const arr = gzip ? ['kpagecgroup.gz', 'kpagecount.gz', 'kpageflags.gz'] : ['kpagecgroup', 'kpagecount', 'kpageflags'];
      expect(names).toEqual([...arr, 'meminfo', 'uname'].sort());
      const back = await readSnapshot(out);
      expect(back.pfns).toBe(fixture.pfns);
      expect(Buffer.from(back.flags.buffer, back.flags.byteOffset, back.flags.byteLength).equals(Buffer.from(fixture.flags.buffer, fixture.flags.byteOffset, fixture.flags.byteLength))).toBe(true);
      expect(Buffer.from(back.counts.buffer, back.counts.byteOffset, back.counts.byteLength).equals(Buffer.from(fixture.counts.buffer, fixture.counts.byteOffset, fixture.counts.byteLength))).toBe(true);
      expect(Buffer.from(back.cgroups!.buffer, back.cgroups!.byteOffset, back.cgroups!.byteLength).equals(Buffer.from(fixture.cgroups!.buffer, fixture.cgroups!.byteOffset, fixture.cgroups!.byteLength))).toBe(true);
      expect(censusFromArrays(back).pages).toEqual(censusFromArrays(fixture).pages);
      // no temporary directory left behind
      expect((await readdir(tmp)).filter((n) => n.includes('.tmp-'))).toEqual([]);
    });
  }

  it('refuses to overwrite an existing directory and leaves it untouched', async () => {
    const d = await dirWith('exists', { keep: 'me' });
    await expectProcfsError(writeSnapshot(d, fixture), d, /already exists/);
    expect(await readdir(d)).toEqual(['keep']);
  });

  it('refuses a missing parent without creating anything', async () => {
    const parent = join(tmp, 'no-such-parent');
    await expectProcfsError(writeSnapshot(join(parent, 'snap'), fixture), parent, /no such directory/);
  });

  it('refuses arrays of different lengths before writing', async () => {
    const out = join(tmp, 'mismatch-out');
    const bad = { pfns: 2, flags: new Uint32Array(4), counts: new Uint32Array(2) };
    await expect(writeSnapshot(out, bad)).rejects.toThrow(/kpagecount: has 1 entries but kpageflags has 2/);
    await expect(readdir(out)).rejects.toThrow();
  });
});

describe('readSnapshot errors', () => {
  it('missing directory', async () => {
    const d = join(tmp, 'nope');
    await expectProcfsError(readSnapshot(d), d, /no such snapshot directory/);
  });
  it('a file instead of a directory', async () => {
    const f = join(tmp, 'plain-file');
    await writeFile(f, 'x');
    await expectProcfsError(readSnapshot(f), f, /not a directory/);
  });
  it('missing kpagecount', async () => {
    const d = await dirWith('no-count', { kpageflags: u64([1, 2]) });
    await expectProcfsError(readSnapshot(d), join(d, 'kpagecount'), /missing \(expected kpagecount or kpagecount\.gz/);
  });
  it('size not a multiple of 8 (raw and gz)', async () => {
    const d = await dirWith('odd', { kpageflags: Buffer.alloc(12), kpagecount: u64([0]) });
    await expectProcfsError(readSnapshot(d), join(d, 'kpageflags'), /size 12 bytes is not a multiple of 8/);
    const g = await dirWith('odd-gz', { 'kpageflags.gz': gzipSync(Buffer.alloc(20)), kpagecount: u64([0]) });
    await expectProcfsError(readSnapshot(g), join(g, 'kpageflags.gz'), /size 20 bytes is not a multiple of 8/);
  });
  it('flags and counts of different lengths', async () => {
    const d = await dirWith('lengths', { kpageflags: u64([1, 2, 3]), 'kpagecount.gz': gzipSync(u64([0, 0])) });
    await expectProcfsError(readSnapshot(d), join(d, 'kpagecount.gz'), /has 2 entries but .*kpageflags has 3/);
  });
  it('kpagecgroup of a different length', async () => {
    const d = await dirWith('cg-lengths', { kpageflags: u64([1]), kpagecount: u64([0]), kpagecgroup: u64([0, 0]) });
    await expectProcfsError(readSnapshot(d), join(d, 'kpagecgroup'), /has 2 entries/);
  });
  it('corrupt gzip', async () => {
    const d = await dirWith('corrupt', { 'kpageflags.gz': Buffer.from('not gzip'), kpagecount: u64([0]) });
    await expectProcfsError(readSnapshot(d), join(d, 'kpageflags.gz'), /not valid gzip data/);
  });
  it('both raw and gz of one array', async () => {
    const d = await dirWith('both', { kpageflags: u64([0]), 'kpageflags.gz': gzipSync(u64([0])), kpagecount: u64([0]) });
    await expectProcfsError(readSnapshot(d), d, /both kpageflags and kpageflags\.gz/);
  });
});
