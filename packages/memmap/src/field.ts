import { TWO32 } from './constants.js';
/**
 * Field declarations and handles (DESIGN §2: layouts own storage, policies declare fields).
 *
 * A declaration says what a policy needs: a per-page value, a per-folio value, a value that only
 * large folios have, or a global table. The layout places it (in a struct page slot, a tail page,
 * a descriptor, or an extra array it charges for) or refuses. A placement is resolved once, at
 * composition time, into a handle: chunked Int32Arrays, a stride and an offset. Hot code indexes
 * it directly through field_get/field_set, which V8 inlines: no virtual call per access.
 */
export type FieldScope = 'page' | 'folio' | 'large-folio' | 'global';

export interface FieldDecl {
  /** Package that declares the field, for reports. */
  owner: string;
  /** The kernel's name where there is one (`_mapcount`, `_large_mapcount`, `_mm_ids`, ...). */
  name: string;
  scope: FieldScope;
  /** Number of 32-bit slots per unit (2 for a 64-bit field). Default 1. */
  words?: number;
  /** Value every slot takes when its object is created. Default 0. */
  init?: number;
  /** For 'global': number of units. */
  length?: number;
  /** For 'large-folio': the smallest folio order that has the field. Default 1. */
  minOrder?: number;
}

/** Chunked storage: unit i lives at chunks[i >>> shift][(i & mask) * stride + off]. */
export interface FieldHandle {
  readonly chunks: Int32Array[];
  readonly shift: number;
  readonly mask: number;
  readonly stride: number;
  readonly off: number;
}

export interface Placement {
  readonly decl: FieldDecl;
  readonly handle: FieldHandle;
  /** Human-readable home: "struct page +48 (_mapcount)", "page[1] +16", "folio descriptor +80", "extra array". */
  readonly where: string;
  /** Simulated kernel bytes this field adds per unit (0 when it reuses space the layout already pays for). */
  readonly bytesPerUnit: number;
  readonly refused?: undefined;
}

export interface Refusal {
  readonly decl: FieldDecl;
  readonly refused: string;
}

export type PlacementResult = Placement | Refusal;

export function is_refusal(p: PlacementResult): p is Refusal {
  return p.refused !== undefined;
}

export function field_get(h: FieldHandle, i: number): number {
  return h.chunks[i >>> h.shift]![(i & h.mask) * h.stride + h.off]!;
}

export function field_set(h: FieldHandle, i: number, v: number): void {
  h.chunks[i >>> h.shift]![(i & h.mask) * h.stride + h.off] = v;
}

/**
 * The length (1 to lim) of the run of consecutive values starting at units[i]: units[i + j] === units[i] + j.
 * Batches from an allocator are mostly such runs; inside one, addresses are computed, not loaded.
 */
export function units_run(units: Int32Array, i: number, lim: number): number {
  const u0 = units[i]!;
  let r = 1;
  while (r < lim && units[i + r] === u0 + r) r++;
  return r;
}

/**
 * Where a batch of units (PFNs) breaks into runs of consecutive values, as its producer saw them:
 * run k is units[at[k] .. at[k + 1]), k < count, and at[count] is the batch's length. The allocator
 * knows its runs (a split block is one), so a consumer need not find them again with units_run().
 * Invariant: inside a run, units[i + 1] === units[i] + 1 (two runs may also be consecutive).
 */
export class UnitRuns {
  at: Int32Array;
  count = 0;

  constructor(capacity: number) {
    this.at = new Int32Array(capacity + 1);
  }

  /** Room for a batch of n units (n runs at most). */
  reserve(n: number): void {
    if (this.at.length < n + 1) this.at = new Int32Array(n + 1);
  }

  /** units[i], just written, starts a run unless it continues units[i - 1]. */
  add(units: Int32Array, i: number): void {
    if (i === 0 || units[i - 1] !== units[i]! - 1) this.at[this.count++] = i;
  }

  /** The batch is units[0..n). */
  end(n: number): void {
    this.at[this.count] = n;
  }
}

/** field_set(h, units[i], v) for i in 0..n-1: one value for a batch of folios or pages. */
export function field_set_each(h: FieldHandle, units: Int32Array, n: number, v: number): void {
  const { chunks, shift, mask, stride, off } = h;
  // Run by run, each inside one chunk: no per-unit chunk lookup or index load.
  for (let i = 0; i < n; ) {
    const u0 = units[i]!;
    const r = units_run(units, i, Math.min(n - i, mask + 1 - (u0 & mask)));
    const c = chunks[u0 >>> shift]!;
    for (let k = (u0 & mask) * stride + off, end = k + r * stride; k < end; k += stride) c[k] = v;
    i += r;
  }
}

/** Add and return the new value (atomic_add_return in the kernel). */
export function field_add(h: FieldHandle, i: number, d: number): number {
  const c = h.chunks[i >>> h.shift]!;
  const k = (i & h.mask) * h.stride + h.off;
  return (c[k] = c[k]! + d);
}

/** A second slot of a multi-word field. */
export function field_get_word(h: FieldHandle, i: number, word: number): number {
  return h.chunks[i >>> h.shift]![(i & h.mask) * h.stride + h.off + word]!;
}

export function field_set_word(h: FieldHandle, i: number, word: number, v: number): void {
  h.chunks[i >>> h.shift]![(i & h.mask) * h.stride + h.off + word] = v;
}

/**
 * The high word of a 64-bit value below 2^53 stored as two 32-bit slots; the low word is `v | 0`
 * (ToInt32 is v mod 2^32, exact for such integers), so no division by 2^32 of v itself is needed.
 */
export function u64_hi(v: number): number {
  return (v - ((v | 0) >>> 0)) / TWO32;
}

/** A 64-bit field (two slots, low word first), such as folio->index, set to v (below 2^53). */
export function field_set_u64(h: FieldHandle, i: number, v: number): void {
  const c = h.chunks[i >>> h.shift]!;
  const k = (i & h.mask) * h.stride + h.off;
  c[k] = v | 0;
  c[k + 1] = u64_hi(v);
}

export function field_get_u64(h: FieldHandle, i: number): number {
  const c = h.chunks[i >>> h.shift]!;
  const k = (i & h.mask) * h.stride + h.off;
  return c[k + 1]! * TWO32 + (c[k]! >>> 0);
}

export function field_handle(chunks: Int32Array[], shift: number, stride: number, off: number): FieldHandle {
  return { chunks, shift, mask: (1 << shift) - 1, stride, off };
}
