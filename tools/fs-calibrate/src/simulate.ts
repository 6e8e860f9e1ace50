import { createMachine } from '@foliolab/machine';
import { EXT_DELALLOC, type DeviceProfile } from '@foliolab/pagecache';
import { loadBuiltin, runWorkload, type Workload } from '@foliolab/workloads';
import { CalibrateError, type MetricValue } from './fixtures.js';

/** A filesystem the probe records, as the simulator builds it. */
export interface CalibrationProfile {
  /** The probe's name (fixture directory). */
  name: string;
  /** The machine's fs backend (registry name). */
  fs: 'ext4' | 'xfs';
  blockSize: number;
}

export const CALIBRATION_PROFILES: readonly CalibrationProfile[] = [
  { name: 'ext4-4k', fs: 'ext4', blockSize: 4096 },
  { name: 'ext4-1k', fs: 'ext4', blockSize: 1024 },
  { name: 'xfs-4k', fs: 'xfs', blockSize: 4096 },
];

/** The built-in calibration workloads; each has `mark: { label: traced }` where the probe starts tracing. */
export const CALIBRATION_WORKLOADS: readonly string[] = [
  'seq-write-64m',
  'cold-seq-read-64m',
  'cold-read-1m',
  'rand-overwrite-cached',
  'rand-overwrite-uncached',
  'small-files',
];

export const TRACED_MARK = 'traced';

export interface SimResult {
  /** FS-METRICS keys plus `writeback_map_calls` (mapping lookups at writeback, counted apart). */
  metrics: Record<string, MetricValue>;
  /** Physical extents of the data files at the end (delalloc excluded, neighbours merged as FIEMAP does). */
  dataExtents: number;
}

/**
 * Run one calibration workload on a machine with the profile's backend and block size and the
 * recorded device (queue limits and read_ahead_kb); the counters are reset at the `traced` mark, so
 * the prepare steps before it are not counted, as the probe does not trace them.
 */
export function simulate(workload: string, profile: CalibrationProfile, device: Partial<DeviceProfile>): SimResult {
  const w = loadBuiltin(workload) as Workload;
  const composed = createMachine({
    memory: w.machine.memory,
    seed: w.machine.seed,
    layout: 'struct-page',
    fs: profile.fs,
    thp: w.machine.thp,
    blockSize: profile.blockSize,
    ...(device.readAheadKb !== undefined ? { readAheadKb: device.readAheadKb } : {}),
  });
  if (!composed.ok) throw new CalibrateError(workload, 'machine', composed.reason);
  const m = composed.machine;
  const pc = m.pagecache;
  pc.bdev.set_profile(device);
  let traced = false;
  runWorkload(w, m.handlers as never, {
    targetName: `${profile.name} machine`,
    onMark: (mark) => {
      if (mark.label !== TRACED_MARK) return;
      pc.stats.reset();
      traced = true;
    },
  });
  if (!traced) throw new CalibrateError(workload, 'steps', `has no mark { label: ${TRACED_MARK} }: nothing would be measured`);
  const s = pc.stats.metrics();
  const metrics: Record<string, MetricValue> = { ...s, writeback_map_calls: pc.stats.detail.writeback_map_calls };
  let extents = 0;
  for (let ino = 0; ino < pc.fs.nr_inodes; ino++) {
    const em = pc.fs.extents[ino]!;
    const eofBlk = Math.ceil(pc.isize(ino) / pc.blockSize);
    let prevEnd = -1;
    for (let i = 0; i < em.n; i++) {
      // Blocks past EOF (speculative preallocation) are freed by the kernel at close; FIEMAP never sees them.
      if (em.state[i] === EXT_DELALLOC || em.lblk[i]! >= eofBlk) continue;
      // FIEMAP merging: written and unwritten pieces that continue each other on disk are one run.
      if (em.pblk[i] !== prevEnd) extents++;
      prevEnd = em.pblk[i]! + em.len[i]!;
    }
  }
  pc.close();
  return { metrics, dataExtents: extents };
}
