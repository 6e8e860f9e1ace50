import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Memmap, type Layout } from '@foliolab/memmap';
import type { BlockMapper } from './mapper.js';
import type { FsMetrics } from './metrics.js';
import { PageCache } from './pagecache.js';

export interface BenchFsOptions {
  /** Backends by name, e.g. { 'buffer-head': () => createBufferHeadMapper({ profile: 'ext4' }), iomap: () => createIomapMapper() }. */
  backends: Record<string, () => BlockMapper>;
  /** The memmap layout to run on (e.g. () => new StructPageLayout()). */
  layout: () => Layout;
  /** File size for the metadata-mode streaming runs (default 1 GiB). */
  fileBytes?: number;
  /** File size for the data-mode runs against the image file (default 64 MiB). */
  dataBytes?: number;
  blockSize?: number;
  folioMax?: number;
  /** Directory for the image files (default the OS temp dir); they are deleted afterwards. */
  imageDir?: string;
}

export interface BenchFsRow {
  backend: string;
  mode: 'metadata' | 'data';
  op: 'stream-write+fsync' | 'stream-read-cold';
  bytes: number;
  seconds: number;
  gibPerSec: number;
  metrics: FsMetrics;
}

export interface BenchFsResult {
  rows: BenchFsRow[];
}

const MiB = 1 << 20;

function run_one(name: string, mk: () => BlockMapper, o: BenchFsOptions, mode: 'metadata' | 'data', bytes: number, rows: BenchFsRow[]): void {
  const memory = Math.ceil((bytes * 1.5 + 256 * MiB) / (2 * MiB)) * 2 * MiB;
  const mm = new Memmap({ layout: o.layout(), memory });
  let image: string | undefined;
  if (mode === 'data') image = path.join(o.imageDir ?? os.tmpdir(), `foliolab-bench-${process.pid}-${name}.img`);
  const pc = new PageCache({
    memmap: mm, mapper: mk(), blockSize: o.blockSize ?? 4096, folioMax: o.folioMax, mode, image,
    deviceBytes: Math.max(2 * bytes, 256 * MiB), dirtyBackgroundPages: Infinity,
  });
  try {
    const ino = pc.open_file('bench');
    const buf = mode === 'data' ? new Uint8Array(MiB).map((_, i) => i & 0xff) : null;
    let t = performance.now();
    for (let off = 0; off < bytes; off += MiB) pc.write(ino, off, MiB, buf, 0);
    pc.fsync(ino);
    let s = (performance.now() - t) / 1000;
    rows.push({ backend: name, mode, op: 'stream-write+fsync', bytes, seconds: s, gibPerSec: bytes / 2 ** 30 / s, metrics: pc.stats.metrics() });
    pc.drop_caches();
    pc.stats.reset();
    t = performance.now();
    for (let off = 0; off < bytes; off += MiB) pc.read(ino, off, MiB, buf, 0);
    s = (performance.now() - t) / 1000;
    rows.push({ backend: name, mode, op: 'stream-read-cold', bytes, seconds: s, gibPerSec: bytes / 2 ** 30 / s, metrics: pc.stats.metrics() });
  } finally {
    pc.close();
    if (image !== undefined) fs.rmSync(image, { force: true });
  }
}

/**
 * Host-time throughput of the simulated buffered I/O path: per backend, a sequential write of the
 * file in 1 MiB write()s + fsync, then drop_caches and a cold sequential read in 1 MiB read()s; in
 * metadata mode (no bytes move) and in data mode against a real image file. Prints nothing.
 */
export function benchFs(o: BenchFsOptions): BenchFsResult {
  const rows: BenchFsRow[] = [];
  for (const [name, mk] of Object.entries(o.backends)) {
    run_one(name, mk, o, 'metadata', o.fileBytes ?? 1024 * MiB, rows);
    run_one(name, mk, o, 'data', o.dataBytes ?? 64 * MiB, rows);
  }
  return { rows };
}
