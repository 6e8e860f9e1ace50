import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PAGE_CLASSES } from './classify.js';
import type { PageClass } from './classify.js';
import { censusFromArrays } from './census.js';
import type { KpageArrays } from './kpage-arrays.js';

const FIXTURE = fileURLToPath(new URL('../test-fixtures/kpage-snapshot-idle', import.meta.url));

/** BigUint64 view of a fixture array, decoded here without the package's reader. */
function fixtureU64(name: string): BigUint64Array {
  const raw = gunzipSync(readFileSync(`${FIXTURE}/${name}.gz`));
  const copy = new Uint8Array(raw); // aligned
  return new BigUint64Array(copy.buffer, 0, copy.byteLength / 8);
}

function toArrays(flags: BigUint64Array, counts: BigUint64Array): KpageArrays {
  return {
    pfns: flags.length,
    flags: new Uint32Array(flags.buffer, flags.byteOffset, flags.length * 2),
    counts: new Uint32Array(counts.buffer, counts.byteOffset, counts.length * 2),
  };
}

const bit = (n: number): bigint => 1n << BigInt(n);
/**
 * The classification rules written out as a table over BigInt flag words (KPF numbers from
 * include/uapi/linux/kernel-page-flags.h and include/linux/kernel-page-flags.h).
 */
const RULES: Array<[PageClass, bigint]> = [
  ['hwpoison', bit(19)],
  ['offline', bit(23)],
  ['reserved', bit(32)],
  ['buddy', bit(10)],
  ['slab', bit(7)],
  ['pagetable', bit(26)],
  ['zero_page', bit(24)],
  ['hugetlb', bit(17)],
  ['ksm', bit(21)],
  ['anon', bit(12)],
  // lru, mmap, uptodate, dirty, writeback, mappedtodisk (owner_2), private
  ['file', bit(5) | bit(11) | bit(3) | bit(4) | bit(8) | bit(34) | bit(35)],
];
const HEAD = bit(15);
const TAIL = bit(16);
const NOPAGE = bit(20);

function refClass(f: bigint, count: bigint): PageClass {
  if ((f === 0n || f === NOPAGE) && count === 0n) return 'none';
  for (const [name, mask] of RULES) if ((f & mask) !== 0n) return name;
  return 'unknown';
}

/** A straightforward re-derivation: walk PFNs, open a folio at every non-tail page, extend it with tails. */
function referenceCensus(flags: BigUint64Array, counts: BigUint64Array) {
  const pages = Object.fromEntries(PAGE_CLASSES.map((c) => [c, 0])) as Record<PageClass, number>;
  const folios = Object.fromEntries(PAGE_CLASSES.map((c) => [c, {}])) as Record<PageClass, Record<string, number>>;
  let objects = 0;
  let cur: { cls: PageClass; size: number; compound: boolean } | undefined;
  const close = () => {
    if (!cur) return;
    const log = Math.log2(cur.size);
    const key = Number.isInteger(log) ? String(log) : 'irregular';
    folios[cur.cls][key] = (folios[cur.cls][key] ?? 0) + 1;
    if (cur.cls !== 'none') objects++;
    cur = undefined;
  };
  for (let pfn = 0; pfn < flags.length; pfn++) {
    const f = flags[pfn]!;
    if ((f & TAIL) !== 0n && cur?.compound) {
      cur.size++;
      pages[cur.cls]++;
      continue;
    }
    close();
    const cls = refClass(f, counts[pfn]!);
    cur = { cls, size: 1, compound: (f & HEAD) !== 0n };
    pages[cls]++;
  }
  close();
  return { pages, folios, objects };
}

describe('censusFromArrays on the bundled idle snapshot', () => {
  const flags = fixtureU64('kpageflags');
  const counts = fixtureU64('kpagecount');
  const census = censusFromArrays(toArrays(flags, counts));
  const ref = referenceCensus(flags, counts);

  it('covers 6,553,600 PFNs', () => {
    expect(census.pfns).toBe(6_553_600);
    expect(Object.values(census.pages).reduce((a, b) => a + b, 0)).toBe(6_553_600);
  });

  it('matches the independent re-derivation: pages per class', () => {
    expect(census.pages).toEqual(ref.pages);
  });

  it('matches the independent re-derivation: folios per class and order', () => {
    expect(census.folios).toEqual(ref.folios);
    // the idle machine has large file folios (page cache, THP) and order-0 anon
    expect(Object.keys(census.folios.file).length).toBeGreaterThan(3);
  });

  it('has one object row per non-none folio or page, in PFN order, covering exactly the classified pages', () => {
    const o = census.objects;
    expect(o.count).toBe(ref.objects);
    const perClass = new Float64Array(PAGE_CLASSES.length);
    let prevEnd = 0;
    let disordered = 0;
    for (let i = 0; i < o.count; i++) {
      if (o.start[i]! < prevEnd) disordered++;
      prevEnd = o.start[i]! + o.nrPages[i]!;
      perClass[o.cls[i]!]! += o.nrPages[i]!;
    }
    expect(disordered).toBe(0);
    PAGE_CLASSES.forEach((c, k) => {
      if (c !== 'none') expect(perClass[k]).toBe(census.pages[c]);
    });
    // a row's head really is a page of its class per the reference rules
    const i = o.cls.indexOf(PAGE_CLASSES.indexOf('slab'));
    expect(refClass(flags[o.start[i]!]!, counts[o.start[i]!]!)).toBe('slab');
  });

  it('agrees loosely with the snapshot meminfo', () => {
    const mem = readFileSync(`${FIXTURE}/meminfo.before`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(mem)![1]) * 1024;
    const bytes = (c: PageClass) => census.pages[c] * 4096;
    // free memory is in buddy heads plus flag-less free tails
    expect(bytes('buddy')).toBeLessThanOrEqual(kb('MemFree'));
    expect(bytes('buddy') + bytes('none')).toBeGreaterThanOrEqual(kb('MemFree') * 0.9);
    expect(Math.abs(bytes('anon') - kb('AnonPages'))).toBeLessThan(kb('AnonPages') * 0.15);
  });
});

describe('censusFromArrays on hand-built arrays', () => {
  const F = (bits: number[]): bigint => bits.reduce((a, b) => a | bit(b), 0n);
  const run = (flagWords: bigint[], countWords?: bigint[]) =>
    censusFromArrays(toArrays(BigUint64Array.from(flagWords), BigUint64Array.from(countWords ?? flagWords.map(() => 0n))));

  it('groups a head and its tails into one folio of the head class', () => {
    const anonHead = F([12, 15]);
    const tail = F([16]);
    const c = run([anonHead, tail, tail, tail, F([5]), F([15, 5]), tail, tail, 0n]);
    expect(c.pages.anon).toBe(4);
    expect(c.folios.anon).toEqual({ '2': 1 });
    expect(c.pages.file).toBe(4);
    expect(c.folios.file).toEqual({ '0': 1, irregular: 1 });
    expect(c.pages.none).toBe(1);
    expect(Array.from(c.objects.nrPages)).toEqual([4, 1, 3]);
  });

  it('applies first-match priority and the file bits in the high word', () => {
    const c = run([F([19, 10]), F([23, 12]), F([32, 10]), F([10, 7]), F([7, 26]), F([26, 24]), F([24, 17]), F([17, 21]), F([21, 12]), F([12, 5]), F([35]), F([34]), F([2]), F([20])]);
    expect(c.pages).toEqual({ none: 1, hwpoison: 1, offline: 1, reserved: 1, buddy: 1, slab: 1, pagetable: 1, zero_page: 1, hugetlb: 1, ksm: 1, anon: 1, file: 2, unknown: 1 });
  });

  it('counts a page with no flags but a map count as unknown, and an orphan tail on its own', () => {
    const c = run([F([16]), 0n], [0n, 1n]);
    expect(c.pages).toMatchObject({ unknown: 2, none: 0 });
    expect(c.folios.unknown).toEqual({ '0': 2 });
  });

  it('agrees with the re-derivation on random flag arrays', () => {
    const word = fc.oneof(
      fc.constant(0n),
      fc.constant(F([16])),
      fc.constant(F([15, 12])),
      fc.constantFrom(...[0, 3, 5, 7, 10, 12, 17, 19, 20, 21, 23, 24, 26, 32, 34, 35, 36].map((b) => F([b]))),
      fc.bigInt({ min: 0n, max: (1n << 43n) - 1n }),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(word, fc.constantFrom(0n, 0n, 1n, 3n)), { maxLength: 300 }), (rows) => {
        const f = BigUint64Array.from(rows.map((r) => r[0]));
        const k = BigUint64Array.from(rows.map((r) => r[1]));
        const c = censusFromArrays(toArrays(f, k));
        const r = referenceCensus(f, k);
        expect(c.pages).toEqual(r.pages);
        expect(c.folios).toEqual(r.folios);
        expect(c.objects.count).toBe(r.objects);
      }),
      { numRuns: 300 },
    );
  });
});
