import { CLASS_NONE, PAGE_CLASSES, pageClassify } from './classify.js';
import type { PageClass } from './classify.js';
import { KPF, kpfLo } from './kpf.js';
import type { KpageArrays } from './kpage-arrays.js';
import { kpageArraysCheck } from './kpage-arrays.js';

/** Where a census came from. */
export interface CensusSource {
  kind: 'live' | 'snapshot' | 'arrays';
  path?: string;
}

/**
 * One row per folio or non-tail page (struct of arrays). `start` is the first PFN, `nrPages` the folio's
 * page count (1 for a page that is not a compound head), `cls` the index into PAGE_CLASSES.
 * Rows are in PFN order and never overlap.
 */
export interface CensusObjects {
  count: number;
  start: Uint32Array | Float64Array;
  nrPages: Uint32Array;
  cls: Uint8Array;
}

export interface Census {
  /** PFNs covered: the length of kpageflags. */
  pfns: number;
  /** Pages per class; compound tails count under their head's class. Sums to `pfns`. */
  pages: Record<PageClass, number>;
  /** class -> order ("0".."63", or "irregular" for a head+tail run that is not a power of two) -> count. */
  folios: Record<PageClass, Record<string, number>>;
  objects: CensusObjects;
  source: CensusSource;
  /** /proc/meminfo in bytes (or plain counts for the HugePages_* lines) when it was read or snapshotted. */
  meminfo?: Record<string, number>;
}

export interface CensusOptions {
  source?: CensusSource;
  meminfo?: Record<string, number>;
  /** Also give `none` pages a row in `objects` (default false: they have no descriptor and no memmap state). */
  objectsIncludeNone?: boolean;
}

const HEAD = kpfLo(KPF.COMPOUND_HEAD);
const TAIL = kpfLo(KPF.COMPOUND_TAIL);
const NCLASS = PAGE_CLASSES.length;
/** Order buckets per class: orders 0..63, then one "irregular" bucket. */
const ORDER_SLOTS = 65;
const IRREGULAR = 64;

/** log2 of a head+tail run, or IRREGULAR when the run is not a power of two. */
function runOrder(run: number): number {
  if (run <= 0x40000000) return (run & (run - 1)) === 0 ? 31 - Math.clz32(run) : IRREGULAR;
  const o = Math.log2(run);
  return Number.isInteger(o) ? o : IRREGULAR;
}

/** Growable struct-of-arrays for census rows. */
class ObjectRows {
  count = 0;
  start: Uint32Array | Float64Array;
  nrPages: Uint32Array;
  cls: Uint8Array;
  constructor(
    capacity: number,
    private readonly wide: boolean,
  ) {
    this.start = wide ? new Float64Array(capacity) : new Uint32Array(capacity);
    this.nrPages = new Uint32Array(capacity);
    this.cls = new Uint8Array(capacity);
  }
  private grow(): void {
    const cap = this.nrPages.length * 2 || 1024;
    const start = this.wide ? new Float64Array(cap) : new Uint32Array(cap);
    start.set(this.start);
    const nrPages = new Uint32Array(cap);
    nrPages.set(this.nrPages);
    const cls = new Uint8Array(cap);
    cls.set(this.cls);
    this.start = start;
    this.nrPages = nrPages;
    this.cls = cls;
  }
  push(pfn: number, nr: number, c: number): void {
    if (this.count === this.nrPages.length) this.grow();
    const i = this.count++;
    this.start[i] = pfn;
    this.nrPages[i] = nr;
    this.cls[i] = c;
  }
  finish(): CensusObjects {
    const n = this.count;
    return { count: n, start: this.start.slice(0, n), nrPages: this.nrPages.slice(0, n), cls: this.cls.slice(0, n) };
  }
}

/**
 * Classifies every PFN of `arrays` and groups compound pages into folios.
 *
 * A COMPOUND_HEAD page and the COMPOUND_TAIL pages right after it form one folio of the head's class;
 * its order is log2 of the run length, or "irregular" when the run is not a power of two. A tail with no
 * head before it (a race in a live read, or PFN 0) is counted on its own, by its own flags, as order 0.
 * Pure: reads the arrays, allocates only the result.
 */
export function censusFromArrays(arrays: KpageArrays, opts: CensusOptions = {}): Census {
  kpageArraysCheck(arrays);
  const { flags, counts, pfns: n } = arrays;
  const pages = new Float64Array(NCLASS);
  const orders = new Float64Array(NCLASS * ORDER_SLOTS);
  const includeNone = opts.objectsIncludeNone === true;
  const rows = new ObjectRows(Math.min(n, Math.max(1 << 16, n >>> 2)), n > 0xffffffff);

  let i = 0;
  while (i < n) {
    const lo = flags[2 * i]!;
    const hi = flags[2 * i + 1]!;
    // Fast path: a run of flag-less, unreferenced PFNs (free-block tails, holes).
    if (lo === 0 && hi === 0 && (counts[2 * i]! | counts[2 * i + 1]!) === 0) {
      let j = i + 1;
      while (j < n && flags[2 * j] === 0 && flags[2 * j + 1] === 0 && (counts[2 * j]! | counts[2 * j + 1]!) === 0) j++;
      const run = j - i;
      pages[CLASS_NONE] += run;
      orders[CLASS_NONE * ORDER_SLOTS] += run;
      if (includeNone) for (let p = i; p < j; p++) rows.push(p, 1, CLASS_NONE);
      i = j;
      continue;
    }
    const cls = pageClassify(lo, hi, counts[2 * i]! | counts[2 * i + 1]!);
    let run = 1;
    if (lo & HEAD) {
      let j = i + 1;
      while (j < n && flags[2 * j]! & TAIL) j++;
      run = j - i;
    }
    pages[cls] += run;
    orders[cls * ORDER_SLOTS + runOrder(run)]! += 1;
    if (cls !== CLASS_NONE || includeNone) rows.push(i, run, cls);
    i += run;
  }

  const pagesRec = {} as Record<PageClass, number>;
  const foliosRec = {} as Record<PageClass, Record<string, number>>;
  for (let c = 0; c < NCLASS; c++) {
    const name = PAGE_CLASSES[c]!;
    pagesRec[name] = pages[c]!;
    const byOrder: Record<string, number> = {};
    for (let o = 0; o < ORDER_SLOTS; o++) {
      const v = orders[c * ORDER_SLOTS + o]!;
      if (v !== 0) byOrder[o === IRREGULAR ? 'irregular' : String(o)] = v;
    }
    foliosRec[name] = byOrder;
  }
  const census: Census = {
    pfns: n,
    pages: pagesRec,
    folios: foliosRec,
    objects: rows.finish(),
    source: opts.source ?? { kind: 'arrays' },
  };
  if (opts.meminfo) census.meminfo = opts.meminfo;
  return census;
}
