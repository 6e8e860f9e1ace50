/**
 * THP settings for a probe run: the workload's machine (`thp`, `mthp`) applied to
 * /sys/kernel/mm/transparent_hugepage, khugepaged held off, and everything restored afterwards.
 *
 * Invariant: every value written is recorded (path, previous value) before the write, and restore()
 * writes the previous values back newest first, synchronously (it runs from 'exit' and signal handlers)
 * and at most once per write.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MachineSpec } from '@foliolab/workloads';
import type { ProbeMachine } from './result.js';

export const THP_ROOT = '/sys/kernel/mm/transparent_hugepage';
/** khugepaged sleeps this long between scans during a run, so it cannot collapse what the workload built. */
export const KHUGEPAGED_HOLD_MS = 3_600_000;

/** Reads a sysfs "a [b] c" choice; plain values are returned as-is. */
export function sysfs_choice(text: string): string {
  const m = /\[([^\]]+)\]/.exec(text);
  return (m ? m[1]! : text).trim();
}

/** hugepages-<N>kB directory name -> size in bytes. */
export function size_of_dir(dir: string): number | null {
  const m = /^hugepages-(\d+)kB$/.exec(dir);
  return m ? Number(m[1]) * 1024 : null;
}

export class ThpSettings {
  private readonly undo: { path: string; value: string }[] = [];

  constructor(readonly root: string = THP_ROOT) {}

  /** null when the kernel has no THP (no sysfs directory); otherwise the PMD size in bytes. */
  pmd_size(): number | null {
    const p = join(this.root, 'hpage_pmd_size');
    if (!existsSync(join(this.root, 'enabled'))) return null;
    return existsSync(p) ? Number(readFileSync(p, 'utf8').trim()) : 2 * 1024 * 1024;
  }

  /** The hugepages-<size>kB directories (mTHP sizes and the PMD size) with their sizes. */
  size_dirs(): { dir: string; size: number }[] {
    if (!existsSync(this.root)) return [];
    return readdirSync(this.root)
      .map((dir) => ({ dir, size: size_of_dir(dir) }))
      .filter((d): d is { dir: string; size: number } => d.size !== null && existsSync(join(this.root, d.dir, 'enabled')))
      .sort((a, b) => a.size - b.size);
  }

  read(rel: string): string {
    return sysfs_choice(readFileSync(join(this.root, rel), 'utf8'));
  }

  /** Writes `value` unless it is already set; records the previous value for restore(). */
  set(rel: string, value: string): void {
    const path = join(this.root, rel);
    const prev = sysfs_choice(readFileSync(path, 'utf8'));
    if (prev === value) return;
    this.undo.push({ path, value: prev });
    try {
      writeFileSync(path, value);
    } catch (e) {
      this.undo.pop();
      throw new Error(`cannot write "${value}" to ${path}: ${(e as Error).message}`);
    }
  }

  /**
   * The machine of the workload: the top-level mode, the PMD size and each listed mTHP size following it
   * (as @foliolab/vm enables them: "inherit"), every other size off, khugepaged asleep.
   * Throws, naming machine.mthp, when a listed size has no sysfs directory.
   */
  apply(m: MachineSpec): ProbeMachine {
    const pmd = this.pmd_size() ?? 2 * 1024 * 1024;
    const dirs = this.size_dirs();
    for (const s of m.mthp) {
      if (!dirs.some((d) => d.size === s)) throw new Error(`machine.mthp: this kernel has no mTHP size of ${s / 1024} KiB (no ${join(this.root, `hugepages-${s / 1024}kB`)})`);
    }
    this.set('enabled', m.thp);
    const sizes: Record<string, string> = {};
    for (const d of dirs) {
      const want = d.size === pmd ? 'inherit' : m.mthp.includes(d.size) ? m.thp : 'never';
      this.set(join(d.dir, 'enabled'), want);
      sizes[d.dir] = want;
    }
    let sleep = 0;
    if (existsSync(join(this.root, 'khugepaged/scan_sleep_millisecs'))) {
      this.set('khugepaged/scan_sleep_millisecs', String(KHUGEPAGED_HOLD_MS));
      this.set('khugepaged/alloc_sleep_millisecs', String(KHUGEPAGED_HOLD_MS));
      sleep = KHUGEPAGED_HOLD_MS;
    }
    return { thp: m.thp, sizes, khugepagedScanSleepMs: sleep };
  }

  /** Writes back every changed value, newest first. Returns the failures (empty when all were restored). */
  restore(): string[] {
    const errors: string[] = [];
    while (this.undo.length > 0) {
      const u = this.undo.pop()!;
      try {
        writeFileSync(u.path, u.value);
      } catch (e) {
        errors.push(`${u.path} <- ${u.value}: ${(e as Error).message}`);
      }
    }
    return errors;
  }

  /** Values still to restore (for tests). */
  pending(): readonly { path: string; value: string }[] {
    return this.undo;
  }
}
