import { endianness } from 'node:os';
import { ProcfsError } from './errors.js';

/**
 * The raw per-PFN arrays of /proc/kpageflags, /proc/kpagecount and (optionally) /proc/kpagecgroup.
 *
 * Invariant: each array is a Uint32Array of 2 × pfns words; the u64 of PFN i is
 * `words[2i] + words[2i+1] × 2^32` (low word first, whatever the host's byte order).
 * No object per PFN ever exists.
 */
export interface KpageArrays {
  pfns: number;
  flags: Uint32Array;
  counts: Uint32Array;
  cgroups?: Uint32Array;
}

const HOST_IS_BIG_ENDIAN = endianness() === 'BE';

/**
 * Reinterprets little-endian u64 bytes as low/high u32 word pairs without copying when it can.
 * `path` names the file in the error when the byte count is not a multiple of 8.
 */
export function u64WordsFromBytes(bytes: Uint8Array, path: string): Uint32Array {
  if (bytes.byteLength % 8 !== 0) {
    throw new ProcfsError(path, `size ${bytes.byteLength} bytes is not a multiple of 8 (one u64 per PFN)`);
  }
  let view = bytes;
  if (view.byteOffset % 4 !== 0 || HOST_IS_BIG_ENDIAN) view = Uint8Array.prototype.slice.call(view);
  if (HOST_IS_BIG_ENDIAN) Buffer.from(view.buffer, view.byteOffset, view.byteLength).swap32();
  return new Uint32Array(view.buffer, view.byteOffset, view.byteLength / 4);
}

/** The bytes of a word array as the kernel writes them (little-endian u64s). */
export function u64WordsToBytes(words: Uint32Array): Buffer {
  const buf = Buffer.from(words.buffer, words.byteOffset, words.byteLength);
  if (!HOST_IS_BIG_ENDIAN) return buf;
  return Buffer.from(buf).swap32();
}

/** The u64 of PFN `pfn` as a bigint (for display and tests, never for hot loops). */
export function u64At(words: Uint32Array, pfn: number): bigint {
  return (BigInt(words[2 * pfn + 1]!) << 32n) | BigInt(words[2 * pfn]!);
}

/** Checks that flags and counts (and cgroups, when present) describe the same PFN range. */
export function kpageArraysCheck(a: KpageArrays, names = { flags: 'kpageflags', counts: 'kpagecount', cgroups: 'kpagecgroup' }): void {
  const nFlags = a.flags.length / 2;
  if (!Number.isInteger(nFlags)) throw new ProcfsError(names.flags, 'odd number of u32 words');
  const nCounts = a.counts.length / 2;
  if (nCounts !== nFlags) {
    throw new ProcfsError(names.counts, `has ${nCounts} entries but ${names.flags} has ${nFlags}; they must cover the same PFNs`);
  }
  if (a.cgroups && a.cgroups.length / 2 !== nFlags) {
    throw new ProcfsError(names.cgroups, `has ${a.cgroups.length / 2} entries but ${names.flags} has ${nFlags}; they must cover the same PFNs`);
  }
  if (a.pfns !== nFlags) throw new ProcfsError(names.flags, `pfns says ${a.pfns} but the array holds ${nFlags}`);
}
