import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { hostname, machine, release, type, version } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { censusFromArrays } from './census.js';
import type { Census } from './census.js';
import { ProcfsError, procfsErrorFrom } from './errors.js';
import type { KpageArrays } from './kpage-arrays.js';
import { kpageArraysCheck, u64WordsFromBytes, u64WordsToBytes } from './kpage-arrays.js';
import { readLive } from './live.js';
import type { LiveReadOptions } from './live.js';
import { parseMeminfo } from './meminfo.js';
import { parse_maps, process_pages_from_bytes, process_pages_to_bytes, readProcessMap } from './process.js';
import type { ProcessMap } from './process.js';

const gunzipAsync = promisify(gunzip);
const gzipAsync = promisify(gzip);

/**
 * A snapshot is a directory: the raw little-endian u64 arrays `kpageflags`, `kpagecount` and optionally
 * `kpagecgroup` (each may instead be `<name>.gz`), plus small text files copied from /proc when present.
 */
export const SNAPSHOT_TEXT_FILES = ['meminfo', 'meminfo.before', 'meminfo.after', 'vmstat', 'zoneinfo', 'buddyinfo', 'uname'] as const;

export interface Snapshot extends KpageArrays {
  dir: string;
  /** The text files found, by name. */
  texts: Record<string, string>;
  /** Parsed `meminfo` (or `meminfo.before` when only that exists), in bytes. */
  meminfo?: Record<string, number>;
  /** Processes captured with `--pid`: `proc/PID/{comm,maps,pagemap[.gz]}`, in PID order. */
  processes: ProcessMap[];
}

async function statOrUndefined(path: string): Promise<import('node:fs').Stats | undefined> {
  try {
    return await stat(path);
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return undefined;
    throw procfsErrorFrom(path, err, 'examining');
  }
}

/** Finds `<name>` or `<name>.gz` in `dir` and returns its u64 words; undefined when absent and optional. */
async function snapshotArrayRead(dir: string, name: string, required: boolean): Promise<{ words: Uint32Array; path: string } | undefined> {
  const r = await snapshotArrayBytes(dir, name, required);
  return r && { words: u64WordsFromBytes(r.bytes, r.path), path: r.path };
}

/** The bytes of `<name>` or `<name>.gz` (gunzipped) in `dir`. */
async function snapshotArrayBytes(dir: string, name: string, required: true): Promise<{ bytes: Uint8Array; path: string }>;
async function snapshotArrayBytes(dir: string, name: string, required?: boolean): Promise<{ bytes: Uint8Array; path: string } | undefined>;
async function snapshotArrayBytes(dir: string, name: string, required = true): Promise<{ bytes: Uint8Array; path: string } | undefined> {
  const rawPath = join(dir, name);
  const gzPath = `${rawPath}.gz`;
  const [rawSt, gzSt] = await Promise.all([statOrUndefined(rawPath), statOrUndefined(gzPath)]);
  if (rawSt && gzSt) throw new ProcfsError(dir, `both ${name} and ${name}.gz are present; keep one`);
  if (!rawSt && !gzSt) {
    if (required) throw new ProcfsError(rawPath, `missing (expected ${name} or ${name}.gz in the snapshot)`);
    return undefined;
  }
  const path = rawSt ? rawPath : gzPath;
  if (!(rawSt ?? gzSt)!.isFile()) throw new ProcfsError(path, 'is not a regular file');
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw procfsErrorFrom(path, err, 'reading');
  }
  if (gzSt) {
    try {
      bytes = await gunzipAsync(bytes);
    } catch (err) {
      throw new ProcfsError(path, `not valid gzip data (${(err as Error).message})`);
    }
  }
  return { bytes, path };
}

/** The `proc/PID` directories of a snapshot (none when it has no `proc`). */
async function snapshotProcessesRead(dir: string): Promise<ProcessMap[]> {
  const root = join(dir, 'proc');
  const st = await statOrUndefined(root);
  if (!st) return [];
  if (!st.isDirectory()) throw new ProcfsError(root, 'not a directory (it holds one PID directory per captured process)');
  let names: string[];
  try {
    names = await readdir(root);
  } catch (err) {
    throw procfsErrorFrom(root, err, 'listing');
  }
  const bad = names.find((name) => !/^[1-9]\d*$/.test(name));
  if (bad !== undefined) throw new ProcfsError(join(root, bad), 'not a process id (proc/ holds only PID directories)');
  const out: ProcessMap[] = [];
  for (const name of names.sort((a, b) => Number(a) - Number(b))) {
    const pdir = join(root, name);
    const text = async (f: string): Promise<string> => {
      try {
        return await readFile(join(pdir, f), 'utf8');
      } catch (err) {
        throw procfsErrorFrom(join(pdir, f), err, 'reading');
      }
    };
    const mapsText = await text('maps');
    const comm = (await text('comm')).trimEnd();
    const pm = await snapshotArrayBytes(pdir, 'pagemap', true);
    const { vmas, skipped } = parse_maps(mapsText, join(pdir, 'maps'));
    out.push({ pid: Number(name), comm, vmas, skipped, mapsText, pages: process_pages_from_bytes(pm.bytes, pm.path) });
  }
  return out;
}

/** Reads a snapshot directory. Missing arrays, bad sizes and length mismatches are ProcfsErrors. */
export async function readSnapshot(dir: string): Promise<Snapshot> {
  const st = await statOrUndefined(dir);
  if (!st) throw new ProcfsError(dir, 'no such snapshot directory');
  if (!st.isDirectory()) throw new ProcfsError(dir, 'not a directory (a snapshot is a directory of kpageflags, kpagecount, ...)');
  const [flags, counts, cgroups] = await Promise.all([
    snapshotArrayRead(dir, 'kpageflags', true),
    snapshotArrayRead(dir, 'kpagecount', true),
    snapshotArrayRead(dir, 'kpagecgroup', false),
  ]);
  const snap: Snapshot = { dir, pfns: flags!.words.length / 2, flags: flags!.words, counts: counts!.words, texts: {}, processes: await snapshotProcessesRead(dir) };
  if (cgroups) snap.cgroups = cgroups.words;
  kpageArraysCheck(snap, { flags: flags!.path, counts: counts!.path, cgroups: cgroups?.path ?? join(dir, 'kpagecgroup') });
  for (const name of SNAPSHOT_TEXT_FILES) {
    const p = join(dir, name);
    const s = await statOrUndefined(p);
    if (!s?.isFile()) continue;
    try {
      snap.texts[name] = await readFile(p, 'utf8');
    } catch (err) {
      throw procfsErrorFrom(p, err, 'reading');
    }
  }
  const memName = snap.texts['meminfo'] !== undefined ? 'meminfo' : snap.texts['meminfo.before'] !== undefined ? 'meminfo.before' : undefined;
  if (memName) snap.meminfo = parseMeminfo(snap.texts[memName]!, join(dir, memName));
  return snap;
}

/** Reads a snapshot and classifies every PFN. */
export async function readSnapshotCensus(dir: string): Promise<Census> {
  const snap = await readSnapshot(dir);
  const census = censusFromArrays(snap, { source: { kind: 'snapshot', path: dir } });
  if (snap.meminfo) census.meminfo = snap.meminfo;
  return census;
}

export interface WriteSnapshotOptions {
  /** Write `<name>.gz` instead of the raw arrays (default false). */
  gzip?: boolean;
  /** Text files to store beside the arrays (e.g. meminfo, vmstat, uname). */
  texts?: Record<string, string>;
  /** Process page maps to store as `proc/PID/{comm,maps,pagemap[.gz]}`. */
  processes?: readonly ProcessMap[];
}

async function refuseExisting(dir: string): Promise<void> {
  if (await statOrUndefined(dir)) throw new ProcfsError(dir, 'already exists; refusing to overwrite a snapshot');
  const parent = dirname(dir);
  const pst = await statOrUndefined(parent);
  if (!pst) throw new ProcfsError(parent, 'no such directory (the snapshot’s parent must exist)');
  if (!pst.isDirectory()) throw new ProcfsError(parent, 'not a directory');
}

/**
 * Writes arrays (and texts) as a snapshot directory. Everything goes to a temporary sibling directory that
 * is renamed to `dir` only when complete, so a failure never leaves a half-written snapshot behind.
 */
export async function writeSnapshot(dir: string, arrays: KpageArrays, opts: WriteSnapshotOptions = {}): Promise<void> {
  kpageArraysCheck(arrays);
  await refuseExisting(dir);
  for (const name of Object.keys(opts.texts ?? {})) {
    if (name.includes('/') || name.startsWith('.') || /^kpage(flags|count|cgroup)(\.gz)?$/.test(name)) {
      throw new ProcfsError(name, 'not a valid snapshot text file name');
    }
  }
  const tmp = join(dirname(dir), `.${basename(dir)}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`);
  try {
    await mkdir(tmp);
    const files: Array<[string, Uint32Array]> = [
      ['kpageflags', arrays.flags],
      ['kpagecount', arrays.counts],
    ];
    if (arrays.cgroups) files.push(['kpagecgroup', arrays.cgroups]);
    await Promise.all(
      files.map(async ([name, words]) => {
        const bytes = u64WordsToBytes(words);
        if (opts.gzip) await writeFile(join(tmp, `${name}.gz`), await gzipAsync(bytes, { level: 6 }));
        else await writeFile(join(tmp, name), bytes);
      }),
    );
    for (const [name, text] of Object.entries(opts.texts ?? {})) await writeFile(join(tmp, name), text);
    for (const p of opts.processes ?? []) {
      const pdir = join(tmp, 'proc', String(p.pid));
      await mkdir(pdir, { recursive: true });
      await writeFile(join(pdir, 'comm'), `${p.comm}\n`);
      await writeFile(join(pdir, 'maps'), p.mapsText);
      const bytes = process_pages_to_bytes(p.pages);
      if (opts.gzip) await writeFile(join(pdir, 'pagemap.gz'), await gzipAsync(bytes, { level: 6 }));
      else await writeFile(join(pdir, 'pagemap'), bytes);
    }
    await rename(tmp, dir);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw procfsErrorFrom(dir, err, 'writing');
  }
}

export interface CaptureOptions extends LiveReadOptions {
  gzip?: boolean;
  /** Also capture these processes' maps and pagemap (read right after the kpage arrays). */
  pids?: readonly number[];
}

/** The `uname` line stored in snapshots: sysname nodename release version machine. */
export function unameLine(): string {
  return `${type()} ${hostname()} ${release()} ${version()} ${machine()}\n`;
}

/**
 * Captures the live machine into a snapshot directory: kpageflags, kpagecount, kpagecgroup (when the
 * kernel has it), meminfo, vmstat, zoneinfo, buddyinfo and uname, and the page maps of `pids`.
 * `outDir` must not exist yet.
 */
export async function captureSnapshot(outDir: string, opts: CaptureOptions = {}): Promise<void> {
  await refuseExisting(outDir);
  const procDir = opts.procDir ?? '/proc';
  // A process that is not there fails before the long read of the kpage arrays, not after it.
  for (const pid of opts.pids ?? []) {
    if (!Number.isSafeInteger(pid) || pid <= 0) throw new ProcfsError('--pid', `${pid} is not a process id (a positive integer)`);
    if (!(await statOrUndefined(join(procDir, String(pid), 'maps')))) throw new ProcfsError(join(procDir, String(pid), 'maps'), `no process ${pid} (it is not running, or it exited)`);
  }
  const live = await readLive({ ...opts, cgroup: opts.cgroup ?? true, meminfo: true });
  const texts: Record<string, string> = { meminfo: live.meminfoText! };
  for (const name of ['vmstat', 'zoneinfo', 'buddyinfo']) {
    try {
      texts[name] = await readFile(join(procDir, name), 'utf8');
    } catch (err) {
      if ((err as { code?: string }).code !== 'ENOENT') throw procfsErrorFrom(join(procDir, name), err, 'reading');
    }
  }
  texts['uname'] = unameLine();
  const processes: ProcessMap[] = [];
  for (const pid of new Set(opts.pids ?? [])) processes.push(await readProcessMap(pid, { procDir }));
  await writeSnapshot(outDir, live, { gzip: opts.gzip ?? false, texts, processes });
}
