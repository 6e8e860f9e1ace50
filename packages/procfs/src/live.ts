import { open, readFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { censusFromArrays } from './census.js';
import type { Census } from './census.js';
import { ProcfsError, procfsErrorFrom } from './errors.js';
import type { KpageArrays } from './kpage-arrays.js';
import { u64WordsFromBytes } from './kpage-arrays.js';
import { parseMeminfo } from './meminfo.js';

export interface LiveReadOptions {
  /** Directory holding kpageflags, kpagecount, kpagecgroup and meminfo (default "/proc"). */
  procDir?: string;
  /** Bytes per pread per file (default 4 MiB; a multiple of 8). */
  chunkBytes?: number;
  /** Chunk sets in flight at once (default 2). */
  depth?: number;
  /** Also read kpagecgroup (default false; a missing kpagecgroup — no CONFIG_MEMCG — is skipped). */
  cgroup?: boolean;
  /** Also read and parse meminfo (default true). */
  meminfo?: boolean;
}

export interface LiveArrays extends KpageArrays {
  meminfo?: Record<string, number>;
  meminfoText?: string;
}

const DEFAULT_CHUNK = 4 << 20;

async function openProc(path: string, optional: boolean): Promise<FileHandle | undefined> {
  try {
    return await open(path, 'r');
  } catch (err) {
    if (optional && (err as { code?: string }).code === 'ENOENT') return undefined;
    throw procfsErrorFrom(path, err, 'opening');
  }
}

/** One kpage* file being read into a growable buffer of u64s. */
class KpageLane {
  buf: Uint8Array;
  constructor(
    readonly fh: FileHandle,
    readonly path: string,
    capacity: number,
  ) {
    this.buf = new Uint8Array(capacity);
  }
  ensure(bytes: number): void {
    if (bytes <= this.buf.length) return;
    const next = new Uint8Array(Math.max(bytes, this.buf.length * 2));
    next.set(this.buf);
    this.buf = next;
  }
  /** Reads [pos, pos+len) into the buffer at the same offset; returns the bytes read (short only at EOF). */
  async read(pos: number, len: number): Promise<number> {
    let got = 0;
    try {
      // procfs fills the whole request unless it reaches the end; loop anyway in case a read comes up short.
      while (got < len) {
        const { bytesRead } = await this.fh.read(this.buf, pos + got, len - got, pos + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
    } catch (err) {
      throw procfsErrorFrom(this.path, err, 'reading');
    }
    return got;
  }
}

/**
 * The size kpageflags will have, from /proc/zoneinfo: the highest zone end PFN rounded up to a
 * memory section (fs/proc/page.c dumps up to round_up(max_pfn, PAGES_PER_SECTION)). Only a capacity hint:
 * the read grows past it or stops short of it as the kernel says.
 */
async function kpageBytesGuess(dir: string): Promise<number> {
  const SECTION_PFNS = 1 << 15; // x86-64: 128 MiB sections of 4 KiB pages
  let text: string;
  try {
    text = await readFile(join(dir, 'zoneinfo'), 'utf8');
  } catch {
    return 64 << 20;
  }
  let maxEnd = 0;
  const re = /spanned\s+(\d+)[\s\S]*?start_pfn:\s+(\d+)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) maxEnd = Math.max(maxEnd, Number(m[2]) + Number(m[1]));
  if (maxEnd === 0) return 64 << 20;
  return Math.ceil(maxEnd / SECTION_PFNS) * SECTION_PFNS * 8;
}

/**
 * Reads the live kpageflags and kpagecount (and kpagecgroup on request) with chunked preads.
 * The files are read chunk by chunk in lockstep — chunk k of every file is requested at the same moment,
 * in parallel on the thread pool, with at most `depth` chunks in flight — so the flags and the count of
 * one PFN are read within one chunk's time of each other, never a whole file apart. A file that ends at a
 * different PFN than kpageflags is an error.
 */
export async function readLive(opts: LiveReadOptions = {}): Promise<LiveArrays> {
  const dir = opts.procDir ?? '/proc';
  const chunk = opts.chunkBytes ?? DEFAULT_CHUNK;
  if (!Number.isInteger(chunk) || chunk <= 0 || chunk % 8 !== 0) {
    throw new ProcfsError('chunkBytes', `must be a positive multiple of 8, got ${chunk}`);
  }
  const depth = opts.depth ?? 2;
  if (!Number.isInteger(depth) || depth < 1) throw new ProcfsError('depth', `must be a positive integer, got ${depth}`);
  const paths = { flags: join(dir, 'kpageflags'), counts: join(dir, 'kpagecount'), cgroups: join(dir, 'kpagecgroup') };
  const handles: FileHandle[] = [];
  try {
    const fhFlags = (await openProc(paths.flags, false))!;
    handles.push(fhFlags);
    const fhCounts = (await openProc(paths.counts, false))!;
    handles.push(fhCounts);
    const fhCg = opts.cgroup ? await openProc(paths.cgroups, true) : undefined;
    if (fhCg) handles.push(fhCg);

    const capacity = await kpageBytesGuess(dir);
    const lanes = [new KpageLane(fhFlags, paths.flags, capacity), new KpageLane(fhCounts, paths.counts, capacity)];
    if (fhCg) lanes.push(new KpageLane(fhCg, paths.cgroups, capacity));

    const readSet = async (pos: number, len: number): Promise<number> => {
      const got = await Promise.all(lanes.map((l) => l.read(pos, len)));
      for (let i = 1; i < lanes.length; i++) {
        if (got[i] !== got[0]) {
          throw new ProcfsError(lanes[i]!.path, `returned ${got[i]} bytes at offset ${pos} where kpageflags returned ${got[0]}; the files must cover the same PFNs`);
        }
      }
      return got[0]!;
    };
    /** Whether kpageflags has anything at `pos` (used once the capacity guess is used up). */
    const more = async (pos: number): Promise<boolean> => {
      try {
        return (await fhFlags.read(Buffer.alloc(8), 0, 8, pos)).bytesRead > 0;
      } catch (err) {
        throw procfsErrorFrom(paths.flags, err, 'reading');
      }
    };

    // Keep `depth` chunk sets in flight; stop at the first short one (end of the PFN range).
    // A lane's buffer only grows when no read is in flight, so no read ever targets a stale buffer.
    let next = 0;
    let total = 0;
    const inflight: Array<{ pos: number; len: number; p: Promise<number> }> = [];
    for (;;) {
      let atEnd = false;
      while (inflight.length < depth) {
        if (next >= lanes[0]!.buf.length) {
          if (inflight.length > 0) break;
          if (!(await more(next))) {
            atEnd = true;
            break;
          }
          for (const l of lanes) l.ensure(next * 2);
        }
        const len = Math.min(chunk, lanes[0]!.buf.length - next);
        inflight.push({ pos: next, len, p: readSet(next, len) });
        next += len;
      }
      if (atEnd) {
        total = next;
        break;
      }
      const head = inflight.shift()!;
      const got = await head.p;
      total = head.pos + got;
      if (got < head.len) break;
    }
    // Reads past the end return 0 bytes; wait for them so no read is left running on a closed file.
    await Promise.all(inflight.map((r) => r.p));

    const pfns = total / 8;
    const arrays: LiveArrays = {
      pfns,
      flags: u64WordsFromBytes(lanes[0]!.buf.subarray(0, total), paths.flags),
      counts: u64WordsFromBytes(lanes[1]!.buf.subarray(0, total), paths.counts),
    };
    if (fhCg) arrays.cgroups = u64WordsFromBytes(lanes[2]!.buf.subarray(0, total), paths.cgroups);
    if (opts.meminfo ?? true) {
      const mpath = join(dir, 'meminfo');
      try {
        arrays.meminfoText = await readFile(mpath, 'utf8');
      } catch (err) {
        throw procfsErrorFrom(mpath, err, 'reading');
      }
      arrays.meminfo = parseMeminfo(arrays.meminfoText, mpath);
    }
    return arrays;
  } finally {
    await Promise.all(handles.map((h) => h.close()));
  }
}

/** Reads the live machine and classifies every PFN. */
export async function readLiveCensus(opts: LiveReadOptions = {}): Promise<Census> {
  const a = await readLive(opts);
  const census = censusFromArrays(a, { source: { kind: 'live', path: opts.procDir ?? '/proc' } });
  if (a.meminfo) census.meminfo = a.meminfo;
  return census;
}
