/**
 * Built-in workloads, as data (WORKLOAD_SPECS) plus one expansion function (workload_expand) that turns a spec
 * into the exact file steps fsio executes. The simulator imports the same two things, so both sides run the
 * same operations with the same offsets.
 *
 * A plan has two phases: `prepare` runs before tracing starts (creating and syncing input files, dropping
 * their page cache for "cold" workloads) and `traced` is the measured window. Paths are relative to the mount.
 */
import { offsets_random } from './prng.js';

export type Step =
  | { op: 'open'; slot: number; path: string; mode: 'create' | 'rw' | 'read' }
  | { op: 'pwrite' | 'pread'; slot: number; offset: number; length: number }
  | { op: 'fsync' | 'close'; slot: number }
  | { op: 'sync' | 'drop_caches' }
  | { op: 'syncfs' | 'dontneed' | 'mkdir' | 'stat' | 'fiemap' | 'resident'; path: string };

export const STEP_OPS = [
  'open', 'pwrite', 'pread', 'fsync', 'close', 'sync', 'drop_caches',
  'syncfs', 'dontneed', 'mkdir', 'stat', 'fiemap', 'resident',
] as const;

/** Steps that do file I/O or flush it; a traced phase without one of these measures nothing. */
export const FILE_STEP_OPS: ReadonlySet<string> = new Set(['pwrite', 'pread', 'fsync', 'sync', 'syncfs']);

export type WorkloadSpec =
  | { name: string; kind: 'seq-write'; description: string; seed: number; file_bytes: number; io_bytes: number }
  | { name: string; kind: 'seq-read'; description: string; seed: number; file_bytes: number; io_bytes: number }
  | {
      name: string; kind: 'rand-overwrite'; description: string; seed: number;
      file_bytes: number; io_bytes: number; count: number; cached: boolean;
    }
  | { name: string; kind: 'small-files'; description: string; seed: number; files: number; file_bytes: number };

const MiB = 1024 * 1024;

export const WORKLOAD_SPECS: readonly WorkloadSpec[] = [
  {
    name: 'seq-write-64m', kind: 'seq-write', seed: 1, file_bytes: 64 * MiB, io_bytes: MiB,
    description: 'sequential 64 MiB write in 1 MiB pwrite()s to a new file, then fsync',
  },
  {
    name: 'cold-seq-read-64m', kind: 'seq-read', seed: 1, file_bytes: 64 * MiB, io_bytes: MiB,
    description: 'cold sequential 64 MiB read in 1 MiB pread()s (file written, fsynced and dropped from the page cache beforehand)',
  },
  {
    name: 'cold-read-1m', kind: 'seq-read', seed: 1, file_bytes: MiB, io_bytes: MiB,
    description: 'cold 1 MiB read of a 1 MiB file in one pread()',
  },
  {
    name: 'rand-overwrite-cached', kind: 'rand-overwrite', seed: 1, file_bytes: 64 * MiB, io_bytes: 4096,
    count: 2048, cached: true,
    description: '2,048 random 4 KiB pwrite()s over a cached (written + fsynced) 64 MiB file, then fsync',
  },
  {
    name: 'rand-overwrite-uncached', kind: 'rand-overwrite', seed: 1, file_bytes: 64 * MiB, io_bytes: 4096,
    count: 2048, cached: false,
    description: '2,048 random 4 KiB pwrite()s over an uncached 64 MiB file (page cache dropped), then fsync',
  },
  {
    name: 'small-files', kind: 'small-files', seed: 1, files: 1000, file_bytes: 8192,
    description: '1,000 new files of 8 KiB (open, one pwrite, close each), then syncfs',
  },
];

export interface WorkloadPlan {
  name: string;
  seed: number;
  prepare: Step[];
  traced: Step[];
  /** Regular files whose data the metrics count (their inodes and extents are read after the run). */
  files: string[];
  /** Files whose residency is checked after `prepare` (cold workloads: must be 0 pages). */
  cold_files: string[];
  offsets?: number[];
  /** Bytes the traced phase writes / reads through syscalls. */
  expect: { write_bytes: number; read_bytes: number };
}

export function workload_spec_find(name: string): WorkloadSpec | undefined {
  return WORKLOAD_SPECS.find((w) => w.name === name);
}

/** Sequential fill of `path` with `io_bytes` writes, fsync, close: the prepare phase of read/overwrite workloads. */
function steps_fill(path: string, file_bytes: number, io_bytes: number): Step[] {
  const steps: Step[] = [{ op: 'open', slot: 0, path, mode: 'create' }];
  for (let off = 0; off < file_bytes; off += io_bytes) {
    steps.push({ op: 'pwrite', slot: 0, offset: off, length: Math.min(io_bytes, file_bytes - off) });
  }
  steps.push({ op: 'fsync', slot: 0 }, { op: 'close', slot: 0 });
  return steps;
}

export function workload_expand(spec: WorkloadSpec, seed: number = spec.seed): WorkloadPlan {
  switch (spec.kind) {
    case 'seq-write': {
      const path = 'data';
      const traced = steps_fill(path, spec.file_bytes, spec.io_bytes);
      return {
        name: spec.name, seed, prepare: [], traced, files: [path], cold_files: [],
        expect: { write_bytes: spec.file_bytes, read_bytes: 0 },
      };
    }
    case 'seq-read': {
      const path = 'data';
      const prepare: Step[] = [...steps_fill(path, spec.file_bytes, spec.io_bytes), { op: 'dontneed', path }];
      const traced: Step[] = [{ op: 'open', slot: 0, path, mode: 'read' }];
      for (let off = 0; off < spec.file_bytes; off += spec.io_bytes) {
        traced.push({ op: 'pread', slot: 0, offset: off, length: Math.min(spec.io_bytes, spec.file_bytes - off) });
      }
      traced.push({ op: 'close', slot: 0 });
      return {
        name: spec.name, seed, prepare, traced, files: [path], cold_files: [path],
        expect: { write_bytes: 0, read_bytes: spec.file_bytes },
      };
    }
    case 'rand-overwrite': {
      const path = 'data';
      const prepare: Step[] = steps_fill(path, spec.file_bytes, 1024 * 1024);
      if (!spec.cached) prepare.push({ op: 'dontneed', path });
      const offsets = offsets_random(seed, spec.count, spec.file_bytes, spec.io_bytes);
      const traced: Step[] = [{ op: 'open', slot: 0, path, mode: 'rw' }];
      for (const offset of offsets) traced.push({ op: 'pwrite', slot: 0, offset, length: spec.io_bytes });
      traced.push({ op: 'fsync', slot: 0 }, { op: 'close', slot: 0 });
      return {
        name: spec.name, seed, prepare, traced, files: [path], cold_files: spec.cached ? [] : [path], offsets,
        expect: { write_bytes: spec.count * spec.io_bytes, read_bytes: 0 },
      };
    }
    case 'small-files': {
      const dir = 'small';
      const files: string[] = [];
      const traced: Step[] = [];
      for (let i = 0; i < spec.files; i++) {
        const path = `${dir}/f${String(i).padStart(5, '0')}`;
        files.push(path);
        traced.push(
          { op: 'open', slot: 0, path, mode: 'create' },
          { op: 'pwrite', slot: 0, offset: 0, length: spec.file_bytes },
          { op: 'close', slot: 0 },
        );
      }
      traced.push({ op: 'syncfs', path: dir });
      return {
        name: spec.name, seed, prepare: [{ op: 'mkdir', path: dir }], traced, files, cold_files: [],
        expect: { write_bytes: spec.files * spec.file_bytes, read_bytes: 0 },
      };
    }
  }
}

/** One fsio plan line per step; relative paths are joined to `root` (the mount point). */
export function plan_serialize(steps: readonly Step[], root: string): string {
  const abs = (p: string): string => `${root}/${p}`;
  const lines = steps.map((s) => {
    switch (s.op) {
      case 'open': return `open ${s.slot} ${abs(s.path)} ${s.mode}`;
      case 'pwrite': case 'pread': return `${s.op} ${s.slot} ${s.offset} ${s.length}`;
      case 'fsync': case 'close': return `${s.op} ${s.slot}`;
      case 'sync': case 'drop_caches': return s.op;
      default: return `${s.op} ${abs(s.path)}`;
    }
  });
  return lines.join('\n') + '\n';
}
