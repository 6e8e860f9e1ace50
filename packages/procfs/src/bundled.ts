import { fileURLToPath } from 'node:url';

/**
 * The snapshot shipped with this package: an idle 25 GiB Linux 6.18 x86_64 machine (CONFIG_PAGE_MAPCOUNT=y,
 * THP madvise, ext4 with large folios), as kpageflags.gz, kpagecount.gz, kpagecgroup.gz plus meminfo,
 * vmstat, zoneinfo and uname taken around it. Deterministic input for examples, tests and the CLI's fallback.
 */
export function bundledSnapshotDir(): string {
  return fileURLToPath(new URL('../test-fixtures/kpage-snapshot-idle', import.meta.url));
}
