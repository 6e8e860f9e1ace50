import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { censusFromArrays } from './census.js';
import { flagsCensus } from './flags-census.js';
import { readLive, readLiveCensus } from './live.js';
import { readSnapshot } from './snapshot.js';

export interface CensusBench {
  /** Whether the live /proc/kpageflags could be read; when false, `reason` says why. */
  live: boolean;
  reason?: string;
  pfns?: number;
  runs: number;
  /** Median wall time of readLiveCensus (read + classify), ms. */
  liveCensusMs?: number;
  /** Median wall time of the chunked live read alone, ms. */
  liveReadMs?: number;
  /** Median wall time of censusFromArrays on the live arrays, ms. */
  classifyMs?: number;
  /** Median wall time of flagsCensus (page-types -r equivalent) on the live arrays, ms. */
  flagsCensusMs?: number;
  /** The kernel tool used, and the median wall time of `page-types -r` (whole process), ms. */
  pageTypesPath?: string;
  pageTypesMs?: number;
  /** liveCensusMs / pageTypesMs (budget: ≤ 1.2). */
  ratio?: number;
  /** Snapshot read (gunzip included) + classify, one cold run, when `snapshotDir` was given. */
  snapshotDir?: string;
  snapshotCensusMs?: number;
}

export interface CensusBenchOptions {
  runs?: number;
  /** Path of a page-types binary; default $PAGE_TYPES, then `page-types` on $PATH. */
  pageTypes?: string;
  snapshotDir?: string;
  procDir?: string;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function findPageTypes(explicit?: string): string | undefined {
  const candidates = explicit ? [explicit] : [process.env['PAGE_TYPES'], ...(process.env['PATH'] ?? '').split(delimiter).map((d) => join(d, 'page-types'))];
  for (const c of candidates) {
    if (!c) continue;
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

async function timeMs(fn: () => unknown): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/**
 * Measures the live census against the kernel's page-types. Prints nothing and asserts nothing; never
 * throws because /proc is unreadable or page-types is missing — it says so in the result instead.
 */
export async function benchCensus(opts: CensusBenchOptions = {}): Promise<CensusBench> {
  const runs = opts.runs ?? 5;
  const out: CensusBench = { live: false, runs };
  if (opts.snapshotDir) {
    const dir = opts.snapshotDir;
    out.snapshotDir = dir;
    out.snapshotCensusMs = await timeMs(async () => censusFromArrays(await readSnapshot(dir)));
  }
  const procDir = opts.procDir ?? '/proc';
  let arrays;
  try {
    arrays = await readLive({ procDir, meminfo: false });
  } catch (err) {
    out.reason = (err as Error).message;
    return out;
  }
  out.live = true;
  out.pfns = arrays.pfns;
  const census: number[] = [];
  const read: number[] = [];
  const classify: number[] = [];
  const flags: number[] = [];
  const tool: number[] = [];
  const pageTypes = findPageTypes(opts.pageTypes);
  for (let r = 0; r < runs; r++) {
    census.push(await timeMs(() => readLiveCensus({ procDir, meminfo: false })));
    let a = arrays;
    read.push(await timeMs(async () => (a = await readLive({ procDir, meminfo: false }))));
    classify.push(await timeMs(() => censusFromArrays(a)));
    flags.push(await timeMs(() => flagsCensus(a.flags)));
    if (pageTypes) {
      const t0 = performance.now();
      const res = spawnSync(pageTypes, ['-r'], { stdio: ['ignore', 'ignore', 'pipe'] });
      const dt = performance.now() - t0;
      if (res.status === 0) tool.push(dt);
    }
  }
  out.liveCensusMs = median(census);
  out.liveReadMs = median(read);
  out.classifyMs = median(classify);
  out.flagsCensusMs = median(flags);
  if (pageTypes && tool.length > 0) {
    out.pageTypesPath = pageTypes;
    out.pageTypesMs = median(tool);
    out.ratio = out.liveCensusMs / out.pageTypesMs;
  }
  return out;
}
