import { PFN_SECTION_SHIFT, PAGES_PER_SECTION } from '@foliolab/memmap';

const MASK = PAGES_PER_SECTION - 1;

/**
 * Per-PFN state the vm owns (PageAnonExclusive, the oracle's PTE counts), one typed array per
 * 128 MiB section, created the first time a PFN of the section is touched: a 1 TiB machine costs
 * the host only the sections its workload uses.
 */
export class PfnInt32 {
  readonly chunks: Int32Array[] = [];

  ensure(pfn: number): Int32Array {
    const s = pfn >>> PFN_SECTION_SHIFT;
    let c = this.chunks[s];
    if (c === undefined) {
      while (this.chunks.length < s) this.chunks.push(EMPTY32);
      c = this.chunks[s] = new Int32Array(PAGES_PER_SECTION);
    } else if (c.length === 0) c = this.chunks[s] = new Int32Array(PAGES_PER_SECTION);
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

export class PfnUint8 {
  readonly chunks: Uint8Array[] = [];

  ensure(pfn: number): Uint8Array {
    const s = pfn >>> PFN_SECTION_SHIFT;
    let c = this.chunks[s];
    if (c === undefined || c.length === 0) {
      while (this.chunks.length < s) this.chunks.push(EMPTY8);
      c = this.chunks[s] = new Uint8Array(PAGES_PER_SECTION);
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

  host_bytes(): number {
    let b = 0;
    for (const c of this.chunks) b += c.byteLength;
    return b;
  }
}

const EMPTY32 = new Int32Array(0);
const EMPTY8 = new Uint8Array(0);
export const PFN_MASK = MASK;
