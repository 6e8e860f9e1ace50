import { open, readFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { ProcfsError, procfsErrorFrom } from './errors.js';
import type { KpageArrays } from './kpage-arrays.js';
import { u64WordsFromBytes, u64WordsToBytes } from './kpage-arrays.js';
import { KPF, kpfLo } from './kpf.js';

/**
 * A process's page map as the kernel reports it: the VMAs of /proc/PID/maps and, for every page of them
 * that is present or swapped, the raw /proc/PID/pagemap entry (Documentation/admin-guide/mm/pagemap.rst).
 * Pages are a struct of arrays in address order; nothing is allocated per page.
 */
export interface ProcessVma {
  start: number;
  end: number;
  perms: string;
  offset: number;
  dev: string;
  inode: number;
  path: string;
}

export interface ProcessPages {
  count: number;
  /** Virtual page number (address / 4096) of each entry, ascending. */
  vpn: Float64Array;
  /** The pagemap u64 of each entry as low and high 32-bit words. */
  lo: Uint32Array;
  hi: Uint32Array;
}

export interface ProcessMap {
  pid: number;
  comm: string;
  vmas: ProcessVma[];
  pages: ProcessPages;
  /** VMAs whose addresses a JS number cannot hold exactly (x86-64 `[vsyscall]`): listed by name, not read. */
  skipped: string[];
  /** /proc/PID/maps as the kernel wrote it (a snapshot stores it as is). */
  mapsText: string;
}

/** pagemap bits in the high word (bit - 32). */
export const PM_HI = {
  SOFT_DIRTY: 1 << 23, // bit 55
  MMAP_EXCLUSIVE: 1 << 24, // bit 56: the page is mapped exactly once
  FILE: 1 << 29, // bit 61: file page or shared anon
  SWAPPED: 1 << 30, // bit 62
  PRESENT: 1 << 31, // bit 63
} as const;
const PFN_HI_MASK = 0x7fffff; // bits 32..54 of the PFN field

/** The PFN of a present entry, or -1. */
export function pagemap_pfn(pages: ProcessPages, i: number): number {
  const hi = pages.hi[i]!;
  if (!(hi & PM_HI.PRESENT)) return -1;
  return pages.lo[i]! + (hi & PFN_HI_MASK) * 0x1_0000_0000;
}

const PAGE_SHIFT = 12;
const PAGE = 1 << PAGE_SHIFT;
const MAX_EXACT = 2 ** 53;

/**
 * Parses /proc/PID/maps text. Every line is "start-end perms offset dev inode [path]"; a line that is not
 * is a ProcfsError naming `path:line`.
 */
export function parse_maps(text: string, path: string): { vmas: ProcessVma[]; skipped: string[] } {
  const vmas: ProcessVma[] = [];
  const skipped: string[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!;
    if (line === '') continue;
    const m = /^([0-9a-f]+)-([0-9a-f]+) ([r-][w-][x-][ps]) ([0-9a-f]+) ([0-9a-f]+:[0-9a-f]+) (\d+)\s*(.*)$/.exec(line);
    if (!m) throw new ProcfsError(`${path}:${n + 1}`, `not a maps line ("start-end perms offset dev inode [path]"): ${JSON.stringify(line.slice(0, 80))}`);
    const start = BigInt(`0x${m[1]}`);
    const end = BigInt(`0x${m[2]}`);
    if (end <= start) throw new ProcfsError(`${path}:${n + 1}`, `end ${m[2]} is not above start ${m[1]}`);
    if (end > BigInt(MAX_EXACT)) {
      skipped.push(m[7] || `${m[1]}-${m[2]}`);
      continue;
    }
    vmas.push({ start: Number(start), end: Number(end), perms: m[3]!, offset: Number(BigInt(`0x${m[4]}`)), dev: m[5]!, inode: Number(m[6]), path: m[7]! });
  }
  return { vmas, skipped };
}

class PageBuilder {
  count = 0;
  vpn = new Float64Array(1024);
  lo = new Uint32Array(1024);
  hi = new Uint32Array(1024);
  push(vpn: number, lo: number, hi: number): void {
    if (this.count === this.vpn.length) {
      const n = this.count * 2;
      const v = new Float64Array(n);
      v.set(this.vpn);
      this.vpn = v;
      const l = new Uint32Array(n);
      l.set(this.lo);
      this.lo = l;
      const h = new Uint32Array(n);
      h.set(this.hi);
      this.hi = h;
    }
    this.vpn[this.count] = vpn;
    this.lo[this.count] = lo;
    this.hi[this.count] = hi;
    this.count++;
  }
  done(): ProcessPages {
    return { count: this.count, vpn: this.vpn.slice(0, this.count), lo: this.lo.slice(0, this.count), hi: this.hi.slice(0, this.count) };
  }
}

export interface ProcessReadOptions {
  /** Directory holding PID/maps, PID/pagemap and PID/comm (default "/proc"). */
  procDir?: string;
  /** pagemap entries per read (default 65536: 512 KiB). */
  chunkEntries?: number;
}

/**
 * Reads one live process: its comm, maps and the pagemap entries of every present or swapped page,
 * VMA by VMA in chunks. PFNs read as 0 without CAP_SYS_ADMIN: that is an error, not a map of zeros.
 */
export async function readProcessMap(pid: number, opts: ProcessReadOptions = {}): Promise<ProcessMap> {
  if (!Number.isSafeInteger(pid) || pid <= 0) throw new ProcfsError('--pid', `${pid} is not a process id (a positive integer)`);
  const dir = join(opts.procDir ?? '/proc', String(pid));
  const chunk = opts.chunkEntries ?? 1 << 16;
  if (!Number.isInteger(chunk) || chunk <= 0) throw new ProcfsError('chunkEntries', `must be a positive integer, got ${chunk}`);
  const mapsPath = join(dir, 'maps');
  let mapsText: string;
  let comm: string;
  try {
    mapsText = await readFile(mapsPath, 'utf8');
    comm = (await readFile(join(dir, 'comm'), 'utf8')).trimEnd();
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') throw new ProcfsError(mapsPath, `no process ${pid} (it is not running, or it exited)`);
    throw procfsErrorFrom(mapsPath, err, 'reading');
  }
  const { vmas, skipped } = parse_maps(mapsText, mapsPath);
  const pmPath = join(dir, 'pagemap');
  let fh: FileHandle;
  try {
    fh = await open(pmPath, 'r');
  } catch (err) {
    throw procfsErrorFrom(pmPath, err, 'opening');
  }
  const out = new PageBuilder();
  // PFNs read as 0 without CAP_SYS_ADMIN: present pages and not one PFN.
  let presentSeen = false;
  let pfnSeen = false;
  try {
    const buf = Buffer.alloc(chunk * 8);
    const words = new Uint32Array(buf.buffer, buf.byteOffset, chunk * 2);
    for (const v of vmas) {
      for (let vpn = v.start / PAGE; vpn < v.end / PAGE; ) {
        const n = Math.min(chunk, v.end / PAGE - vpn);
        let got = 0;
        try {
          while (got < n * 8) {
            const { bytesRead } = await fh.read(buf, got, n * 8 - got, vpn * 8 + got);
            if (bytesRead === 0) break;
            got += bytesRead;
          }
        } catch (err) {
          throw procfsErrorFrom(pmPath, err, 'reading');
        }
        // A short read: the VMA went away under us; keep what was read.
        const entries = Math.floor(got / 8);
        for (let i = 0; i < entries; i++) {
          const hi = words[2 * i + 1]!;
          if (!(hi & (PM_HI.PRESENT | PM_HI.SWAPPED))) continue;
          const lo = words[2 * i]!;
          if (hi & PM_HI.PRESENT) {
            presentSeen = true;
            if (lo !== 0 || (hi & PFN_HI_MASK) !== 0) pfnSeen = true;
          }
          out.push(vpn + i, lo, hi);
        }
        if (entries < n) break;
        vpn += n;
      }
    }
  } finally {
    await fh.close();
  }
  if (presentSeen && !pfnSeen) {
    throw new ProcfsError(pmPath, 'every PFN reads as 0: the kernel hides PFNs without CAP_SYS_ADMIN (run as root)');
  }
  return { pid, comm, vmas, pages: out.done(), skipped, mapsText };
}

/** A snapshot's `proc/PID/pagemap`: per entry four little-endian u32s, vpn low, vpn high, entry low, entry high. */
export function process_pages_to_bytes(pages: ProcessPages): Buffer {
  const w = new Uint32Array(pages.count * 4);
  for (let i = 0; i < pages.count; i++) {
    const v = pages.vpn[i]!;
    w[4 * i] = v >>> 0;
    w[4 * i + 1] = Math.floor(v / 0x1_0000_0000);
    w[4 * i + 2] = pages.lo[i]!;
    w[4 * i + 3] = pages.hi[i]!;
  }
  return u64WordsToBytes(w);
}

export function process_pages_from_bytes(bytes: Uint8Array, path: string): ProcessPages {
  if (bytes.byteLength % 16 !== 0) throw new ProcfsError(path, `size ${bytes.byteLength} bytes is not a multiple of 16 (a virtual page number and a pagemap entry per record)`);
  const w = u64WordsFromBytes(bytes, path);
  const count = w.length / 4;
  const pages: ProcessPages = { count, vpn: new Float64Array(count), lo: new Uint32Array(count), hi: new Uint32Array(count) };
  for (let i = 0; i < count; i++) {
    const v = w[4 * i]! + w[4 * i + 1]! * 0x1_0000_0000;
    if (i > 0 && v <= pages.vpn[i - 1]!) throw new ProcfsError(path, `record ${i}: virtual page 0x${v.toString(16)} is not above the previous one (records are in address order)`);
    pages.vpn[i] = v;
    pages.lo[i] = w[4 * i + 2]!;
    pages.hi[i] = w[4 * i + 3]!;
  }
  return pages;
}

/** What one process maps, folio by folio, read against the machine's kpageflags and kpagecount. */
export interface ProcessFolioCensus {
  pid: number;
  comm: string;
  vmas: number;
  pages: {
    /** Present pages (page-table entries that map a page, counting a PMD mapping as 512). */
    present: number;
    swapped: number;
    anon: number;
    file: number;
    zeroPage: number;
    /** kpagecount > 1: the page is mapped more than once, by this process or others. */
    mappedMoreThanOnce: number;
    /** pagemap's "exclusively mapped" bit (PM_MMAP_EXCLUSIVE). */
    exclusive: number;
    /** Present pages whose PFN lies beyond the kpage arrays (a snapshot of another machine). */
    outsideArrays: number;
  };
  /** Present pages by the order of the folio they belong to ("0" = small folios). */
  pagesByOrder: Record<string, number>;
  /** Folios of order >= 1 that this process maps at least one page of. */
  largeFolios: {
    byOrder: Record<string, number>;
    /** Mapped here page for page (folio_nr_pages mappings from this process). */
    fullyMappedHere: number;
    /** Some pages mapped here, some not: the partial mappings that queue a folio for deferred split. */
    partiallyMappedHere: number;
    /** kpagecount summed over the folio exceeds this process's mappings: some other process maps it too. */
    alsoMappedElsewhere: number;
    /** The (VMA, page table) pairs through which this process maps them: the per-folio (tuple) mapcount's share. */
    tuplesHere: number;
    /** Their pages' mappings from this process: what per-page mapcounts add up to for them. */
    pageMappingsHere: number;
  };
}

const TAIL = kpfLo(KPF.COMPOUND_TAIL);
const HEAD = kpfLo(KPF.COMPOUND_HEAD);
const ANON = kpfLo(KPF.ANON);
const ZERO = kpfLo(KPF.ZERO_PAGE);
/** 1 GiB hugetlb folios: no folio is larger. */
const MAX_FOLIO_PAGES = 1 << 18;
const PMD_PAGES = 512;

/**
 * Groups a process's present pages into the machine's folios (compound head and tails in kpageflags)
 * and counts how it maps them. kpagecount is the page's precise mapcount on a CONFIG_PAGE_MAPCOUNT
 * kernel (fs/proc/page.c), so its sum over a folio is every page mapping of it, from every process.
 * The arrays and the page map are read at different moments: on a live machine, a process that changes
 * its mappings in between is counted by its page map.
 */
export function processFolioCensus(proc: ProcessMap, arrays: KpageArrays): ProcessFolioCensus {
  const { flags, counts } = arrays;
  const r: ProcessFolioCensus = {
    pid: proc.pid,
    comm: proc.comm,
    vmas: proc.vmas.length,
    pages: { present: 0, swapped: 0, anon: 0, file: 0, zeroPage: 0, mappedMoreThanOnce: 0, exclusive: 0, outsideArrays: 0 },
    pagesByOrder: {},
    largeFolios: { byOrder: {}, fullyMappedHere: 0, partiallyMappedHere: 0, alsoMappedElsewhere: 0, tuplesHere: 0, pageMappingsHere: 0 },
  };
  const bump = (o: Record<string, number>, k: number, n = 1): void => {
    o[String(k)] = (o[String(k)] ?? 0) + n;
  };
  // Per large folio: pages, mappings from here, the last (vma, page table) seen, tuples.
  const large = new Map<number, { nr: number; here: number; lastVma: number; lastPmd: number; tuples: number }>();
  const pages = proc.pages;
  let vmaIdx = 0;
  let last: { nr: number; here: number; lastVma: number; lastPmd: number; tuples: number } | undefined;
  let lastHead = -1;
  for (let i = 0; i < pages.count; i++) {
    const hi = pages.hi[i]!;
    if (!(hi & PM_HI.PRESENT)) {
      r.pages.swapped++;
      continue;
    }
    r.pages.present++;
    if (hi & PM_HI.MMAP_EXCLUSIVE) r.pages.exclusive++;
    const pfn = pagemap_pfn(pages, i);
    if (pfn >= arrays.pfns) {
      r.pages.outsideArrays++;
      continue;
    }
    const f = flags[2 * pfn]!;
    if (f & ZERO) {
      r.pages.zeroPage++;
      continue;
    }
    if (f & ANON) r.pages.anon++;
    else r.pages.file++;
    if (counts[2 * pfn]! > 1 || counts[2 * pfn + 1]! > 0) r.pages.mappedMoreThanOnce++;
    if (!(f & (HEAD | TAIL))) {
      bump(r.pagesByOrder, 0);
      continue;
    }
    // Consecutive pages mostly map consecutive PFNs of one folio: look the head up only on leaving it.
    let e = last;
    if (e === undefined || pfn < lastHead || pfn >= lastHead + e.nr) {
      let head = pfn;
      while (flags[2 * head]! & TAIL && pfn - head < MAX_FOLIO_PAGES && head > 0) head--;
      e = large.get(head);
      if (e === undefined) {
        let nr = 1;
        while (head + nr < arrays.pfns && nr < MAX_FOLIO_PAGES && flags[2 * (head + nr)]! & TAIL) nr++;
        e = { nr, here: 0, lastVma: -1, lastPmd: -1, tuples: 0 };
        large.set(head, e);
      }
      last = e;
      lastHead = head;
    }
    e.here++;
    const vpn = pages.vpn[i]!;
    while (vmaIdx < proc.vmas.length && proc.vmas[vmaIdx]!.end <= vpn * PAGE) vmaIdx++;
    const pmd = Math.floor(vpn / PMD_PAGES);
    if (vmaIdx !== e.lastVma || pmd !== e.lastPmd) {
      e.tuples++;
      e.lastVma = vmaIdx;
      e.lastPmd = pmd;
    }
    bump(r.pagesByOrder, 31 - Math.clz32(e.nr));
  }
  const lf = r.largeFolios;
  for (const [head, e] of large) {
    const order = 31 - Math.clz32(e.nr);
    bump(lf.byOrder, order);
    if (e.here >= e.nr) lf.fullyMappedHere++;
    else lf.partiallyMappedHere++;
    let sum = 0;
    for (let k = 0; k < e.nr; k++) sum += counts[2 * (head + k)]! + counts[2 * (head + k) + 1]! * 0x1_0000_0000;
    if (sum > e.here) lf.alsoMappedElsewhere++;
    lf.tuplesHere += e.tuples;
    lf.pageMappingsHere += e.here;
  }
  return r;
}
