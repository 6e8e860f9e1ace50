import { PFN_SECTION_SHIFT, PAGES_PER_SECTION } from '@foliolab/memmap';

const MASK = PAGES_PER_SECTION - 1;

type PfnChunk = Int32Array | Uint8Array;

/**
 * Per-PFN state the vm owns (PageAnonExclusive, the oracle's PTE counts), one typed array per
 * 128 MiB section, created the first time a PFN of the section is touched: a 1 TiB machine costs
 * the host only the sections its workload uses.
 */
class PfnArray<A extends PfnChunk> {
  readonly chunks: A[] = [];

  constructor(
    private readonly make: (n: number) => A,
    private readonly empty: A,
  ) {}

  ensure(pfn: number): A {
    const s = pfn >>> PFN_SECTION_SHIFT;
    let c = this.chunks[s];
    if (c === undefined || c.length === 0) {
      while (this.chunks.length < s) this.chunks.push(this.empty);
      c = this.chunks[s] = this.make(PAGES_PER_SECTION);
      // Written now, in one sequential sweep: the host faults the section in page by page here, instead
      // of twice per page later (a read maps the zero page, the first write copies it).
      c.fill(0);
    }
    return c;
  }

  get(pfn: number): number {
    const c = this.chunks[pfn >>> PFN_SECTION_SHIFT];
    return c === undefined || c.length === 0 ? 0 : c[pfn & MASK]!;
  }

  set(pfn: number, v: number): void {
    this.ensure(pfn)[pfn & MASK] = v;
  }

  add(pfn: number, d: number): number {
    const c = this.ensure(pfn);
    return (c[pfn & MASK] = c[pfn & MASK]! + d);
  }

  host_bytes(): number {
    let b = 0;
    for (const c of this.chunks) b += c.byteLength;
    return b;
  }
}

const EMPTY32 = new Int32Array(0);
const EMPTY8 = new Uint8Array(0);

/** Signed 32-bit per-PFN counts. */
export class PfnInt32 extends PfnArray<Int32Array> {
  constructor() {
    super((n) => new Int32Array(n), EMPTY32);
  }
}

/** Per-PFN flag bytes. */
export class PfnUint8 extends PfnArray<Uint8Array> {
  constructor() {
    super((n) => new Uint8Array(n), EMPTY8);
  }
}

export const PFN_MASK = MASK;
