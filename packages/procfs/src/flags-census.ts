import { ProcfsError } from './errors.js';
import { KPF, kpfHi, kpfLo } from './kpf.js';

/**
 * The flag-combination census of the kernel's tools/mm/page-types (its summary table), reimplemented.
 *
 * Semantics reproduced (from reading page-types.c; no code of it is used):
 *  - every PFN of kpageflags is one page; pages are grouped by their (possibly rewritten) u64 flag value;
 *  - `-r` (raw, the default here): overloaded bits are expanded into page-types' private slots —
 *    anon + owner_2 -> anon_exclusive; slab + active -> slub_frozen; slab + error -> slub_debug;
 *    reclaim without writeback -> readahead. Without `-r` the kernel-hacking bits 32..47 are hidden and
 *    compound head/tail are hidden unless the page is hugetlb;
 *  - rows come out in page-types' hash-table order: flags 0 owns slot 0; any other value first seen
 *    (in PFN order) takes the first free slot probing linearly from (value & 8191), skipping slot 0;
 *  - a set bit that has no name is fatal in page-types ("unknown flag bit N"); here it throws a ProcfsError.
 */

/** page-types' one-letter and long names, by bit. */
const FLAG_NAMES: ReadonlyArray<readonly [number, string, string]> = [
  [KPF.LOCKED, 'L', 'locked'],
  [KPF.ERROR, 'E', 'error'],
  [KPF.REFERENCED, 'R', 'referenced'],
  [KPF.UPTODATE, 'U', 'uptodate'],
  [KPF.DIRTY, 'D', 'dirty'],
  [KPF.LRU, 'l', 'lru'],
  [KPF.ACTIVE, 'A', 'active'],
  [KPF.SLAB, 'S', 'slab'],
  [KPF.WRITEBACK, 'W', 'writeback'],
  [KPF.RECLAIM, 'I', 'reclaim'],
  [KPF.BUDDY, 'B', 'buddy'],
  [KPF.MMAP, 'M', 'mmap'],
  [KPF.ANON, 'a', 'anonymous'],
  [KPF.SWAPCACHE, 's', 'swapcache'],
  [KPF.SWAPBACKED, 'b', 'swapbacked'],
  [KPF.COMPOUND_HEAD, 'H', 'compound_head'],
  [KPF.COMPOUND_TAIL, 'T', 'compound_tail'],
  [KPF.HUGE, 'G', 'huge'],
  [KPF.UNEVICTABLE, 'u', 'unevictable'],
  [KPF.HWPOISON, 'X', 'hwpoison'],
  [KPF.NOPAGE, 'n', 'nopage'],
  [KPF.KSM, 'x', 'ksm'],
  [KPF.THP, 't', 'thp'],
  [KPF.OFFLINE, 'o', 'offline'],
  [KPF.ZERO_PAGE, 'z', 'zero_page'],
  [KPF.IDLE, 'i', 'idle_page'],
  [KPF.PGTABLE, 'g', 'pgtable'],
  [KPF.RESERVED, 'r', 'reserved'],
  [KPF.MLOCKED, 'm', 'mlocked'],
  [KPF.OWNER_2, 'd', 'owner_2'],
  [KPF.PRIVATE, 'P', 'private'],
  [KPF.PRIVATE_2, 'p', 'private_2'],
  [KPF.OWNER_PRIVATE, 'O', 'owner_private'],
  [KPF.ARCH, 'h', 'arch'],
  [KPF.UNCACHED, 'c', 'uncached'],
  [KPF.SOFTDIRTY, 'f', 'softdirty'],
  [KPF.ARCH_2, 'H', 'arch_2'],
  [KPF.ANON_EXCLUSIVE, 'd', 'anon_exclusive'],
  [KPF.READAHEAD, 'I', 'readahead'],
  [KPF.SLUB_FROZEN, 'A', 'slub_frozen'],
  [KPF.SLUB_DEBUG, 'E', 'slub_debug'],
  [KPF.FILE, 'F', 'file'],
  [KPF.SWAP, 'w', 'swap'],
  [KPF.MMAP_EXCLUSIVE, '1', 'mmap_exclusive'],
];

/** Bit-indexed name table (undefined = no name). Sorted by bit, as page-types walks it. */
const NAME_BY_BIT: Array<readonly [string, string] | undefined> = new Array(64).fill(undefined);
for (const [bit, letter, long] of FLAG_NAMES) NAME_BY_BIT[bit] = [letter, long];

export interface FlagsCensusEntry {
  /** The (expanded) flag value as page-types prints it: "0x" + 16 hex digits. */
  value: string;
  bits: bigint;
  pages: number;
  /** page-types' "symbolic-flags": one character per named bit, '_' where clear. */
  symbolic: string;
  /** page-types' "long-symbolic-flags": comma-separated names of the set bits. */
  longSymbolic: string;
}

export interface FlagsCensusOptions {
  /** page-types -r (default true). */
  raw?: boolean;
  /** Named in errors (default "kpageflags"). */
  path?: string;
}

const HASH_SIZE = 1 << 13;
const HASH_MASK = HASH_SIZE - 1;

const ANON = kpfLo(KPF.ANON);
const OWNER_2 = kpfHi(KPF.OWNER_2);
const ANON_EXCLUSIVE = kpfHi(KPF.ANON_EXCLUSIVE);
const SLAB = kpfLo(KPF.SLAB);
const ACTIVE = kpfLo(KPF.ACTIVE);
const SLUB_FROZEN = kpfHi(KPF.SLUB_FROZEN);
const ERROR = kpfLo(KPF.ERROR);
const SLUB_DEBUG = kpfHi(KPF.SLUB_DEBUG);
const RECLAIM = kpfLo(KPF.RECLAIM);
const WRITEBACK = kpfLo(KPF.WRITEBACK);
const READAHEAD = kpfHi(KPF.READAHEAD);
const COMPOUND = kpfLo(KPF.COMPOUND_HEAD) | kpfLo(KPF.COMPOUND_TAIL);
const HUGE = kpfLo(KPF.HUGE);
/** Bits 32..47 ("kernel hacking assistances") as a high-word mask. */
const HACKERS_HI = 0xffff;

/**
 * Counts pages per flag combination exactly as `page-types [-r]` does over a whole kpageflags array.
 * Returns the rows in page-types' output order.
 */
export function flagsCensus(flags: Uint32Array, opts: FlagsCensusOptions = {}): FlagsCensusEntry[] {
  const raw = opts.raw ?? true;
  const n = flags.length >>> 1;
  const slotCount = new Float64Array(HASH_SIZE);
  const slotLo = new Uint32Array(HASH_SIZE);
  const slotHi = new Uint32Array(HASH_SIZE);
  const slotUsed = new Uint8Array(HASH_SIZE);
  slotUsed[0] = 1; // reserved for flags 0
  const slotOf = new Map<number | string, number>();

  let prevLo = -1;
  let prevHi = -1;
  let prevSlot = 0;
  for (let i = 0; i < n; i++) {
    const rawLo = flags[2 * i]!;
    const rawHi = flags[2 * i + 1]!;
    if (rawLo === prevLo && rawHi === prevHi) {
      slotCount[prevSlot]! += 1;
      continue;
    }
    let lo = rawLo;
    let hi = rawHi;
    if (raw) {
      if (lo & ANON && hi & OWNER_2) hi ^= OWNER_2 | ANON_EXCLUSIVE;
      if (lo & SLAB) {
        if (lo & ACTIVE) {
          lo ^= ACTIVE;
          hi ^= SLUB_FROZEN;
        }
        if (lo & ERROR) {
          lo ^= ERROR;
          hi ^= SLUB_DEBUG;
        }
      }
      if ((lo & (RECLAIM | WRITEBACK)) === RECLAIM) {
        lo ^= RECLAIM;
        hi ^= READAHEAD;
      }
    } else {
      hi &= ~HACKERS_HI;
      if (lo & COMPOUND && !(lo & HUGE)) lo &= ~COMPOUND;
    }
    lo >>>= 0;
    hi >>>= 0;
    // hi < 2^21 keeps hi * 2^32 + lo exact in a double; wider values key by string.
    const key: number | string = hi < 0x200000 ? hi * 0x100000000 + lo : `${hi}:${lo}`;
    let slot = slotOf.get(key);
    if (slot === undefined) {
      slot = lo === 0 && hi === 0 ? 0 : hashSlotClaim(slotUsed, lo & HASH_MASK, opts.path ?? 'kpageflags');
      slotLo[slot] = lo;
      slotHi[slot] = hi;
      slotOf.set(key, slot);
    }
    slotCount[slot]! += 1;
    prevLo = rawLo;
    prevHi = rawHi;
    prevSlot = slot;
  }

  const out: FlagsCensusEntry[] = [];
  for (let s = 0; s < HASH_SIZE; s++) {
    const pages = slotCount[s]!;
    if (pages === 0) continue;
    const bits = (BigInt(slotHi[s]!) << 32n) | BigInt(slotLo[s]!);
    const [symbolic, longSymbolic] = flagNames(bits, opts.path ?? 'kpageflags');
    out.push({ value: `0x${bits.toString(16).padStart(16, '0')}`, bits, pages, symbolic, longSymbolic });
  }
  return out;
}

/** page-types' linear probe: first free slot from `k`, wrapping to 1 (slot 0 belongs to flags 0). */
function hashSlotClaim(used: Uint8Array, k: number, path: string): number {
  for (let i = 1; i < HASH_SIZE; i++, k++) {
    if (k === 0 || k >= HASH_SIZE) k = 1;
    if (!used[k]) {
      used[k] = 1;
      return k;
    }
  }
  throw new ProcfsError(path, `more than ${HASH_SIZE - 1} distinct flag combinations (page-types' hash table is full)`);
}

/** The short and long symbolic names of a flag value; a set bit without a name is an error. */
export function flagNames(bits: bigint, path = 'kpageflags'): [string, string] {
  let short = '';
  const long: string[] = [];
  for (let b = 0; b < 64; b++) {
    const present = ((bits >> BigInt(b)) & 1n) === 1n;
    const name = NAME_BY_BIT[b];
    if (!name) {
      if (present) throw new ProcfsError(path, `unknown flag bit ${b} in value 0x${bits.toString(16)}`);
      continue;
    }
    short += present ? name[0] : '_';
    if (present) long.push(name[1]);
  }
  return [short, long.join(',')];
}

/** Formats rows the way page-types prints its summary, header and total line included. */
export function formatFlagsCensus(entries: readonly FlagsCensusEntry[], pageSize = 4096): string {
  const mb = (pages: number): number => Math.floor((pages * pageSize) / 1048576);
  let total = 0;
  let s = '             flags\tpage-count       MB  symbolic-flags\t\t\tlong-symbolic-flags\n';
  for (const e of entries) {
    total += e.pages;
    s += `${e.value}\t${String(e.pages).padStart(10)} ${String(mb(e.pages)).padStart(8)}  ${e.symbolic}\t${e.longSymbolic}\n`;
  }
  s += `             total\t${String(total).padStart(10)} ${String(mb(total)).padStart(8)}\n`;
  return s;
}
