import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Memmap, type Layout } from '@foliolab/memmap';
import { WB_SYNC_NONE, type BlockMapper } from './mapper.js';
import { PageCache } from './pagecache.js';
import { Prng } from './prng.js';

export type FsxOp = 'read' | 'write' | 'mmap_write' | 'truncate' | 'fsync' | 'sync' | 'writeback' | 'drop_caches' | 'crash' | 'verify';

export interface FsxOptions {
  /** A fresh page cache in data mode. */
  pc: PageCache;
  ops: number;
  seed: number;
  files?: number;
  /** Largest file offset used (bytes). */
  maxFileLen?: number;
  /** Largest single write (bytes). */
  maxWrite?: number;
  /** Ops to leave out (e.g. ['mmap_write'] for a backend without page_mkwrite). */
  exclude?: readonly FsxOp[];
  /** Receives one line per operation (debugging a failure). */
  trace?: (line: string) => void;
}

export interface FsxResult {
  ops: number;
  mismatches: number;
  /** The first few mismatches, each naming the op number, the op, the file and the byte. */
  failures: string[];
  opCounts: Record<string, number>;
  crashes: number;
}

/** The flat reference model of one file: current bytes, what is durable, and which bytes changed since. */
class ModelFile {
  cur = new Uint8Array(0);
  size = 0;
  dur = new Uint8Array(0);
  durSize = 0;
  /** touched[i] = 1: byte i was written since it was last durable, so a crash may show either value. */
  touched = new Uint8Array(0);

  ensure(n: number): void {
    if (n <= this.cur.length) return;
    const c = Math.max(n, this.cur.length * 2, 4096);
    const g = (a: Uint8Array) => {
      const b = new Uint8Array(c);
      b.set(a);
      return b;
    };
    this.cur = g(this.cur);
    this.dur = g(this.dur);
    this.touched = g(this.touched);
  }

  write(off: number, data: Uint8Array): void {
    this.ensure(off + data.length);
    this.cur.set(data, off);
    if (off > this.size) this.touched.fill(1, this.size, off);
    this.touched.fill(1, off, off + data.length);
    this.size = Math.max(this.size, off + data.length);
  }

  truncate(n: number): void {
    this.ensure(n);
    if (n < this.size) {
      this.cur.fill(0, n, this.size);
      this.touched.fill(0, n, this.size);
    }
    // Metadata is synchronous: the durable image takes the new size at once (zero-filled when growing).
    if (n < this.durSize) this.dur.fill(0, n, this.durSize);
    else this.dur.fill(0, this.durSize, n);
    this.durSize = n;
    this.size = n;
  }

  make_durable(): void {
    this.dur.set(this.cur.subarray(0, this.size));
    this.dur.fill(0, this.size);
    this.durSize = this.size;
    this.touched.fill(0);
  }
}

const WEIGHTS: Array<[FsxOp, number]> = [
  ['read', 22], ['write', 24], ['mmap_write', 8], ['truncate', 7], ['fsync', 7], ['sync', 2],
  ['writeback', 4], ['drop_caches', 4], ['crash', 3], ['verify', 3],
];

/**
 * fsx-style integrity run (after Avadis Tevanian's fsx): random reads, writes, stores through a
 * shared mapping, truncates, fsyncs, syncs, background writeback, drop_caches and crashes against a
 * flat reference model. Every read is compared byte for byte. After a crash, every byte that was
 * durable (fsync'ed or sync'ed, or fixed by a truncate) and not written since must read back
 * exactly, and the size must lie between the durable size and the size before the crash.
 */
export function fsx_run(o: FsxOptions): FsxResult {
  const pc = o.pc;
  const rng = new Prng(o.seed);
  const nfiles = o.files ?? 2;
  const maxLen = o.maxFileLen ?? 1 << 20;
  const maxWrite = o.maxWrite ?? 256 * 1024;
  const weights = WEIGHTS.filter(([op]) => !(o.exclude ?? []).includes(op));
  const total = weights.reduce((s, [, w]) => s + w, 0);
  const files: ModelFile[] = [];
  const inos: number[] = [];
  for (let i = 0; i < nfiles; i++) {
    inos.push(pc.open_file(`fsx${i}`));
    files.push(new ModelFile());
  }
  const res: FsxResult = { ops: 0, mismatches: 0, failures: [], opCounts: {}, crashes: 0 };
  let buf = new Uint8Array(maxLen + maxWrite);
  const fail = (msg: string) => {
    res.mismatches++;
    if (res.failures.length < 8) res.failures.push(msg);
  };
  const rand_len = (limit: number): number => {
    // Mostly small I/O around block sizes, sometimes big enough for large folios.
    const r = rng.next();
    const max = r < 0.5 ? Math.min(limit, 9000) : r < 0.85 ? Math.min(limit, 70000) : limit;
    return 1 + rng.below(Math.max(1, max));
  };
  const compare = (k: number, op: string, fi: number, off: number, got: Uint8Array, exp: Uint8Array, expOff: number, n: number): boolean => {
    for (let i = 0; i < n; i++) {
      if (got[i] !== exp[expOff + i]) {
        fail(`op ${k} ${op} fsx${fi}: byte ${off + i} is ${got[i]}, model says ${exp[expOff + i]}`);
        return false;
      }
    }
    return true;
  };

  for (let k = 0; k < o.ops; k++) {
    let x = rng.below(total);
    let op: FsxOp = weights[0]![0];
    for (const [name, w] of weights) {
      if (x < w) {
        op = name;
        break;
      }
      x -= w;
    }
    const fi = rng.below(nfiles);
    const m = files[fi]!;
    const ino = inos[fi]!;
    res.opCounts[op] = (res.opCounts[op] ?? 0) + 1;
    if (op !== 'read' && op !== 'write' && op !== 'mmap_write' && op !== 'truncate') o.trace?.(`${k} ${op} fsx${fi}`);
    res.ops++;
    switch (op) {
      case 'read': {
        const off = rng.below(maxLen);
        const len = rand_len(maxLen);
        o.trace?.(`${k} read fsx${fi} ${off}+${len}`);
        const n = pc.read(ino, off, len, buf, 0);
        const exp = Math.max(0, Math.min(len, m.size - off));
        if (n !== exp) fail(`op ${k} read fsx${fi}: ${off}+${len} returned ${n} bytes, model has ${exp} (size ${m.size})`);
        else compare(k, 'read', fi, off, buf, m.cur, off, n);
        break;
      }
      case 'write': {
        const off = rng.below(maxLen);
        const len = Math.min(rand_len(maxWrite), maxLen + maxWrite - off);
        const data = buf.subarray(0, len);
        for (let i = 0; i < len; i++) data[i] = 1 + (rng.next_u32() % 255);
        m.write(off, data);
        o.trace?.(`${k} write fsx${fi} ${off}+${len}`);
        pc.write(ino, off, len, data, 0);
        break;
      }
      case 'mmap_write': {
        if (m.size === 0) break;
        const off = rng.below(m.size);
        const len = Math.min(rand_len(m.size - off), m.size - off);
        const data = buf.subarray(0, len);
        for (let i = 0; i < len; i++) data[i] = 1 + (rng.next_u32() % 255);
        m.write(off, data);
        o.trace?.(`${k} mmap_write fsx${fi} ${off}+${len}`);
        pc.mmap_write(ino, off, len, data, 0);
        break;
      }
      case 'truncate': {
        const n = rng.next() < 0.3 ? 0 : rng.below(maxLen);
        m.truncate(n);
        o.trace?.(`${k} truncate fsx${fi} ${n}`);
        pc.truncate(ino, n);
        break;
      }
      case 'fsync':
        pc.fsync(ino);
        m.make_durable();
        break;
      case 'sync':
        pc.sync();
        for (const f of files) f.make_durable();
        break;
      case 'writeback':
        pc.writeback(ino, WB_SYNC_NONE, 0, Infinity, 1 + rng.below(64));
        break;
      case 'drop_caches':
        pc.drop_caches();
        break;
      case 'verify': {
        const size = pc.isize(ino);
        if (size !== m.size) fail(`op ${k} verify fsx${fi}: size ${size}, model ${m.size}`);
        if (buf.length < m.size) buf = new Uint8Array(m.size * 2);
        const n = pc.read(ino, 0, m.size, buf, 0);
        if (n !== m.size) fail(`op ${k} verify fsx${fi}: read ${n} of ${m.size} bytes`);
        else compare(k, 'verify', fi, 0, buf, m.cur, 0, n);
        break;
      }
      case 'crash': {
        res.crashes++;
        pc.crash();
        for (let j = 0; j < nfiles; j++) {
          const mf = files[j]!;
          const size = pc.isize(inos[j]!);
          if (size < mf.durSize || size > Math.max(mf.size, mf.durSize)) {
            fail(`op ${k} crash fsx${j}: size after crash ${size}, durable ${mf.durSize}, before crash ${mf.size}`);
          }
          if (buf.length < size) buf = new Uint8Array(size * 2);
          const n = pc.read(inos[j]!, 0, size, buf, 0);
          if (n !== size) fail(`op ${k} crash fsx${j}: read ${n} of ${size} bytes after crash`);
          for (let i = 0; i < size; i++) {
            if (i < mf.touched.length && mf.touched[i]) continue;
            const exp = i < mf.durSize ? mf.dur[i]! : 0;
            if (buf[i] !== exp) {
              fail(`op ${k} crash fsx${j}: durable byte ${i} is ${buf[i]} after crash, was ${exp} when made durable`);
              break;
            }
          }
          // The crash image becomes the new truth.
          mf.size = 0;
          mf.ensure(size);
          mf.cur.fill(0);
          mf.cur.set(buf.subarray(0, size));
          mf.size = size;
          mf.make_durable();
        }
        break;
      }
    }
  }
  return res;
}

export interface FsxDataCacheOptions {
  mapper: BlockMapper;
  layout: Layout;
  /** Folder for the image file. */
  dir: string;
  name: string;
  blockSize: number;
  folioMax: number;
  seed: number;
  maxCachePages?: number;
}

/** A data-mode page cache on its own sparse 256 MiB image file, fragmented: what the backends' fsx suites run on. */
export function fsx_data_pagecache(o: FsxDataCacheOptions): PageCache {
  const MiB = 1 << 20;
  const mm = new Memmap({ layout: o.layout, memory: 256 * MiB });
  return new PageCache({
    memmap: mm, mapper: o.mapper, blockSize: o.blockSize, folioMax: o.folioMax, mode: 'data', image: join(o.dir, `${o.name}.img`),
    deviceBytes: 256 * MiB, fragmentation: 8, seed: o.seed, ...(o.maxCachePages !== undefined ? { maxCachePages: o.maxCachePages } : {}),
  });
}

export interface FsxCheckOptions extends Omit<FsxDataCacheOptions, 'dir' | 'name' | 'seed'>, Omit<FsxOptions, 'pc'> {
  /** Seed of the page cache's image fragmentation (`seed` is the operations'). */
  cacheSeed: number;
}

/**
 * A backend's fsx run in one call: a fsx_data_pagecache() on an image in a fresh temporary folder,
 * fsx_run() over it, then the cache closed and the folder removed, whatever happened.
 */
export function fsx_check(o: FsxCheckOptions): FsxResult {
  const dir = mkdtempSync(join(tmpdir(), 'foliolab-fsx-'));
  try {
    const pc = fsx_data_pagecache({ mapper: o.mapper, layout: o.layout, dir, name: 'fsx', blockSize: o.blockSize, folioMax: o.folioMax, seed: o.cacheSeed, maxCachePages: o.maxCachePages });
    try {
      return fsx_run({ ...o, pc });
    } finally {
      pc.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * What an fsx run must show to count as clean, as one line per problem (empty when clean): no mismatch,
 * every op run, and enough crashes and mmap writes that the durability and page_mkwrite paths were exercised.
 */
export function fsx_problems(r: FsxResult, ops: number): string[] {
  const out = [...r.failures];
  if (r.mismatches !== 0) out.push(`${r.mismatches} mismatches`);
  if (r.ops !== ops) out.push(`ran ${r.ops} of ${ops} operations`);
  if (r.crashes <= 100) out.push(`only ${r.crashes} crashes`);
  if ((r.opCounts['mmap_write'] ?? 0) <= 100) out.push(`only ${r.opCounts['mmap_write'] ?? 0} mmap writes`);
  return out;
}
