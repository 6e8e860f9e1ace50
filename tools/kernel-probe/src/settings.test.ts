import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KHUGEPAGED_HOLD_MS, size_of_dir, sysfs_choice, ThpSettings } from './settings.js';

const MiB = 1024 * 1024;
const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
});

/** A fake transparent_hugepage directory with the kernel's file formats. */
function fake_sysfs(): string {
  const root = mkdtempSync(join(tmpdir(), 'kp-thp-'));
  dirs.push(root);
  writeFileSync(join(root, 'enabled'), 'always [madvise] never\n');
  writeFileSync(join(root, 'hpage_pmd_size'), `${2 * MiB}\n`);
  for (const kb of [16, 64, 2048]) {
    mkdirSync(join(root, `hugepages-${kb}kB`));
    writeFileSync(join(root, `hugepages-${kb}kB`, 'enabled'), kb === 2048 ? 'always [inherit] madvise never\n' : kb === 16 ? 'always inherit [madvise] never\n' : 'always inherit madvise [never]\n');
  }
  mkdirSync(join(root, 'khugepaged'));
  writeFileSync(join(root, 'khugepaged', 'scan_sleep_millisecs'), '10000\n');
  writeFileSync(join(root, 'khugepaged', 'alloc_sleep_millisecs'), '60000\n');
  return root;
}

const snapshot = (root: string) =>
  ['enabled', 'hugepages-16kB/enabled', 'hugepages-64kB/enabled', 'hugepages-2048kB/enabled', 'khugepaged/scan_sleep_millisecs', 'khugepaged/alloc_sleep_millisecs'].map((f) =>
    sysfs_choice(readFileSync(join(root, f), 'utf8')),
  );

describe('ThpSettings', () => {
  it('parses sysfs choices and size directories', () => {
    expect(sysfs_choice('always [madvise] never\n')).toBe('madvise');
    expect(sysfs_choice('10000\n')).toBe('10000');
    expect(size_of_dir('hugepages-64kB')).toBe(65536);
    expect(size_of_dir('khugepaged')).toBeNull();
  });

  it('applies the machine (listed mTHP sizes follow thp, others off, khugepaged asleep) and restores every value', () => {
    const root = fake_sysfs();
    const before = snapshot(root);
    const s = new ThpSettings(root);
    const m = s.apply({ memory: 1 << 30, thp: 'always', mthp: [64 * 1024], seed: 1 });
    expect(m.sizes).toEqual({ 'hugepages-16kB': 'never', 'hugepages-64kB': 'always', 'hugepages-2048kB': 'inherit' });
    expect(snapshot(root)).toEqual(['always', 'never', 'always', 'inherit', String(KHUGEPAGED_HOLD_MS), String(KHUGEPAGED_HOLD_MS)]);
    // 2048kB was already inherit: not written, so nothing to restore there.
    expect(s.pending().map((p) => p.path.slice(root.length + 1))).toEqual([
      'enabled', 'hugepages-16kB/enabled', 'hugepages-64kB/enabled', 'khugepaged/scan_sleep_millisecs', 'khugepaged/alloc_sleep_millisecs',
    ]);
    expect(s.restore()).toEqual([]);
    expect(snapshot(root)).toEqual(before);
    expect(s.restore()).toEqual([]);
  });

  it('refuses an mTHP size the kernel does not offer before writing anything', () => {
    const root = fake_sysfs();
    const before = snapshot(root);
    const s = new ThpSettings(root);
    expect(() => s.apply({ memory: 1 << 30, thp: 'madvise', mthp: [32 * 1024], seed: 1 })).toThrow(/^machine\.mthp: this kernel has no mTHP size of 32 KiB/);
    expect(s.pending()).toHaveLength(0);
    expect(snapshot(root)).toEqual(before);
  });

  it('reports no THP when the directory is missing', () => {
    expect(new ThpSettings('/nonexistent/thp').pmd_size()).toBeNull();
  });
});
