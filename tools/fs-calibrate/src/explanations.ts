import type { Explanation } from './compare.js';
import type { MetricValue } from './fixtures.js';

function total(v: MetricValue): number {
  return typeof v === 'number' ? v : Object.values(v).reduce((a, b) => a + b, 0);
}

const PAGES_PER_MIB = 256;

/**
 * The differences that remain after calibration, each with the arithmetic that shows the cause.
 * The calibration test fails on a difference no entry explains and on an entry that explains nothing.
 */
export const EXPLANATIONS: readonly Explanation[] = [
  {
    workload: 'cold-seq-read-64m',
    fs: 'ext4-1k',
    metrics: ['mapping_calls', 'get_block_calls', 'data_bios', 'data_bio_size_hist', 'requests'],
    why:
      'layout: at 1 KiB blocks ext4 block groups are 8 MiB and groups 1, 3, 5, 7 start with backup superblocks, so the kernel file is 5 physical extents (FIEMAP) where simfs allocates 1; each extra extent costs ext4_mpage_readpages one more ext4_map_blocks and one more bio (+4 each)',
    holds: (k, s, fx, sim) => {
      const extra = Math.min(...fx.dataExtents) - sim.dataExtents;
      return extra > 0 && total(k) - total(s) === extra;
    },
  },
  ...(['ext4-1k', 'xfs-4k'] as const).map(
    (fs): Explanation => ({
      workload: 'cold-read-1m',
      fs,
      metrics: ['requests'],
      why:
        'page placement: the 1 MiB bio holds 256 order-0 folios; the kernel\'s pages were scattered, 256 segments > max_segments 128, so it split in 2 requests; the simulator\'s fresh buddy hands out adjacent pages, which merge into a few bvecs and 1 request',
      holds: (k, s, fx) => k === Math.ceil(PAGES_PER_MIB / fx.queue.max_segments) && s === 1,
    }),
  ),
  ...(['ext4-4k', 'ext4-1k', 'xfs-4k'] as const).map(
    (fs): Explanation => ({
      workload: 'small-files',
      fs,
      metrics: ['requests'],
      why:
        'placement: the 1,000 bios (8 KiB each) merge in the sync plug only where files are adjacent on disk; simfs puts them back to back, so requests = ceil(1000 / max_segments 128) = 8; ext4 spreads the files and commits its journal in between (kernel 14–34 over runs), XFS almost packs them (9–10)',
      holds: (k, s, fx) => s === Math.ceil(1000 / fx.queue.max_segments) && typeof k === 'number' && k >= s,
    }),
  ),
];
