import { MEMDESC_ALIGN } from './memdesc.js';
import { field_handle, type FieldHandle } from './field.js';
import { PAGES_PER_SECTION, PFN_SECTION_SHIFT } from './constants.js';

/**
 * A slab of fixed-size descriptors (the kmem_cache a memdesc type would be allocated from): chunked
 * Int32Arrays, a free stack, and byte accounting of live objects. Descriptor sizes are multiples of
 * 16 bytes because a memdesc word keeps a 4-bit tag in the low bits of the descriptor's address.
 */
export class DescriptorArena {
  static readonly CHUNK_SHIFT = 12;
  static readonly CHUNK_MASK = (1 << DescriptorArena.CHUNK_SHIFT) - 1;
  readonly chunks: Int32Array[] = [];
  private freeStack = new Int32Array(64);
  private freeLen = 0;
  private fresh = 0;
  /** reserve(): descriptors to make room for at the first chunk. */
  private reserved = 0;
  private sizeBytes: number;
  live = 0;
  peak = 0;

  constructor(readonly name: string, size: number, readonly base: number) {
    if (!Number.isInteger(size) || size <= 0 || size % MEMDESC_ALIGN !== 0) {
      throw new RangeError(`${name} descriptor size ${size} is not a positive multiple of ${MEMDESC_ALIGN} bytes`);
    }
    this.sizeBytes = size;
  }

  get size(): number {
    return this.sizeBytes;
  }

  get stride(): number {
    return this.sizeBytes >>> 2;
  }

  /** Grow the descriptor by `words` 32-bit slots before any is allocated; returns the slot offset. Size rounds up to 16 bytes. */
  extend(words: number): { off: number; added: number } {
    if (this.fresh > 0) throw new Error(`${this.name}: descriptors already allocated; fields must be declared when the machine is composed`);
    const off = this.usedWords;
    this.usedWords += words;
    const need = Math.ceil((this.usedWords * 4) / MEMDESC_ALIGN) * MEMDESC_ALIGN;
    const added = Math.max(0, need - this.sizeBytes);
    this.sizeBytes = Math.max(this.sizeBytes, need);
    // Invariant: every handle into this arena indexes with the arena's current stride.
    for (const h of this.handles) h.stride = this.stride;
    return { off, added };
  }

  /** Words in use by named fields (the rest of the descriptor is padding). */
  usedWords = 0;

  /** Handles given out so far: a later extend() changes the stride they index with. */
  private readonly handles: Array<{ stride: number }> = [];

  handle(off: number): FieldHandle {
    const h = field_handle(this.chunks, DescriptorArena.CHUNK_SHIFT, this.stride, off);
    this.handles.push(h as { stride: number });
    return h;
  }

  /** Returns a zeroed descriptor: a fresh one lies in a chunk that was zero when created, a reused one is cleared here. */
  alloc(): number {
    let idx: number;
    if (this.freeLen > 0) {
      idx = this.freeStack[--this.freeLen]!;
      const stride = this.sizeBytes >>> 2;
      const c = this.chunks[idx >>> DescriptorArena.CHUNK_SHIFT]!;
      // A plain loop: the descriptor is a handful of words and fill()'s call overhead is larger than the work.
      for (let k = (idx & DescriptorArena.CHUNK_MASK) * stride, end = k + stride; k < end; k++) c[k] = 0;
    } else {
      idx = this.fresh++;
      if (idx >>> DescriptorArena.CHUNK_SHIFT === this.chunks.length) this.chunk_add();
    }
    if (++this.live > this.peak) this.peak = this.live;
    return idx;
  }

  /**
   * n alloc() calls at once: the ids go to out[0..n), in the order alloc() would return them. A reused
   * descriptor is zeroed here too, but run by run: ids that leave the free stack as consecutive numbers
   * (up or down, the order a range of frees pushed them) are cleared by one fill() of their span, where
   * alloc() clears word by word (20 stores for an 80-byte folio, about 30 ns on this kind of host).
   */
  alloc_bulk(n: number, out: Int32Array): void {
    const reuse = Math.min(n, this.freeLen);
    const stack = this.freeStack;
    let top = this.freeLen;
    for (let i = 0; i < reuse; i++) out[i] = stack[--top]!;
    this.freeLen = top;
    const stride = this.sizeBytes >>> 2;
    for (let i = 0; i < reuse; ) {
      const id0 = out[i]!;
      const chunk = id0 >>> DescriptorArena.CHUNK_SHIFT;
      // The run's step: +1 or -1 (any other, or a chunk change, ends it at one id).
      const step = i + 1 < reuse ? out[i + 1]! - id0 : 0;
      let r = 1;
      if (step === 1 || step === -1) while (i + r < reuse && out[i + r] === id0 + r * step && (id0 + r * step) >>> DescriptorArena.CHUNK_SHIFT === chunk) r++;
      const lo = (step === -1 ? id0 - r + 1 : id0) & DescriptorArena.CHUNK_MASK;
      this.chunks[chunk]!.fill(0, lo * stride, (lo + r) * stride);
      i += r;
    }
    for (let i = reuse; i < n; i++) {
      const idx = this.fresh++;
      if (idx >>> DescriptorArena.CHUNK_SHIFT === this.chunks.length) this.chunk_add();
      out[i] = idx;
    }
    this.live += n;
    if (this.live > this.peak) this.peak = this.live;
  }

  /**
   * Room for n descriptors, made in one go the first time a descriptor is needed (not now: fields may
   * still be declared, which changes the size) and written then, so that the host faults their memory
   * in there and not at the fault that first uses each chunk. For a machine whose memmap is made at
   * boot (MemmapOptions.eagerInit).
   */
  reserve(n: number): void {
    this.reserved = Math.max(this.reserved, n);
  }

  private chunk_add(): void {
    const per = 1 << DescriptorArena.CHUNK_SHIFT;
    const want = Math.max(this.chunks.length + 1, Math.ceil(this.reserved / per));
    const prefault = want > this.chunks.length + 1;
    while (this.chunks.length < want) {
      const c = new Int32Array(this.stride * per);
      if (prefault) c.fill(0);
      this.chunks.push(c);
    }
  }

  free(idx: number): void {
    if (this.freeLen === this.freeStack.length) {
      const bigger = new Int32Array(this.freeStack.length * 2);
      bigger.set(this.freeStack);
      this.freeStack = bigger;
    }
    this.freeStack[this.freeLen++] = idx;
    this.live--;
  }

  address(idx: number): number {
    return this.base + idx * this.sizeBytes;
  }

  index_of(address: number): number {
    return (address - this.base) / this.sizeBytes;
  }

  /** Simulated kernel bytes: live descriptors. */
  bytes(): number {
    return this.live * this.sizeBytes;
  }

  host_bytes(): number {
    let b = this.freeStack.byteLength;
    for (const c of this.chunks) b += c.byteLength;
    return b;
  }
}

/** A per-PFN array of `stride` int32 slots, one Int32Array per section, allocated when the section is onlined. */
export class SectionArray {
  readonly chunks: Int32Array[] = [];
  constructor(readonly stride: number, readonly fill = 0) {}

  online(section: number): void {
    while (this.chunks.length <= section) this.chunks.push(EMPTY);
    if (this.chunks[section] === EMPTY) {
      const a = new Int32Array(PAGES_PER_SECTION * this.stride);
      // Written even when the initial value is 0: memmap init writes every page's record at onlining
      // (memmap_init_range), so the host memory behind the section is faulted in here, not by the
      // first allocation that touches it.
      a.fill(this.fill);
      this.chunks[section] = a;
    }
  }

  handle(off: number): FieldHandle {
    return field_handle(this.chunks, PFN_SECTION_SHIFT, this.stride, off);
  }

  host_bytes(): number {
    let b = 0;
    for (const c of this.chunks) b += c.byteLength;
    return b;
  }
}

const EMPTY = new Int32Array(0);
