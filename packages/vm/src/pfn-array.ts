import { PFN_SECTION_SHIFT, PAGES_PER_SECTION } from '@foliolab/memmap';

const MASK = PAGES_PER_SECTION - 1;
const EMPTY8 = new Uint8Array(0);

/**
 * A byte of vm-owned state per PFN (PageState: PageAnonExclusive and the oracle's PTE count), one typed array per
 * 128 MiB section, created the first time a PFN of the section is touched: a 1 TiB machine costs
 * the host only the sections its workload uses. A machine whose memmap is initialized at boot
 * (MemmapOptions.eagerInit) gets every section here at boot too (eager()), as the kernel allocates
 * page_ext with the memmap.
 *
 * Invariant: `chunks` has one entry per section from the start (the empty array until the section
 * is made), so a lookup never reads past its end; an out-of-bounds read there once threw away the
 * optimised fault path each time a new machine first met a section.
 */
export class PfnUint8 {
  readonly chunks: Uint8Array[];

  constructor(sections: number) {
    this.chunks = new Array<Uint8Array>(sections).fill(EMPTY8);
  }

  ensure(pfn: number): Uint8Array {
    const s = pfn >>> PFN_SECTION_SHIFT;
    const c = this.chunks[s];
    return c !== undefined && c.length !== 0 ? c : this.section_make(s);
  }

  private section_make(s: number): Uint8Array {
    if (s >= this.chunks.length) throw new RangeError(`pfn section ${s} is beyond the machine's ${this.chunks.length} sections`);
    const c = (this.chunks[s] = new Uint8Array(PAGES_PER_SECTION));
    // Written now, in one sequential sweep: the host faults the section in page by page here, instead
    // of twice per page later (a read maps the zero page, the first write copies it).
    c.fill(0);
    return c;
  }

  /** Every section now, not on first use. */
  eager(): void {
    for (let s = 0; s < this.chunks.length; s++) if (this.chunks[s]!.length === 0) this.section_make(s);
  }

  get(pfn: number): number {
    const c = this.chunks[pfn >>> PFN_SECTION_SHIFT];
    return c === undefined || c.length === 0 ? 0 : c[pfn & MASK]!;
  }

  host_bytes(): number {
    let b = 0;
    for (const c of this.chunks) b += c.byteLength;
    return b;
  }
}

export const PFN_MASK = MASK;
