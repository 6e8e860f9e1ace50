/**
 * The PRNG every foliolab package shares: mulberry32 (Tommy Ettinger, public domain). State is one uint32;
 * each call adds 0x6D2B79F5 (an odd constant, so the state walks all 2^32 values) and mixes:
 *
 *   a = (a + 0x6D2B79F5) >>> 0
 *   t = Math.imul(a ^ (a >>> 15), a | 1)
 *   t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
 *   return (t ^ (t >>> 14)) >>> 0
 *
 * It is the generator tools/fs-probe uses for the random offsets of the calibration workloads, so a
 * workload's `offset: { random: … }` draws the same offsets in the simulator as on the real kernel.
 * Sub-streams (one per consumer) come from {@link prng_derive}: the seed mixed with an FNV-1a hash of a name,
 * so adding a consumer never shifts another consumer's numbers.
 */

export class Prng {
  /** Current state; a uint32. */
  private a: number;

  constructor(seed: number) {
    this.a = seed >>> 0;
  }

  /** Next uniform uint32. */
  nextU32(): number {
    this.a = (this.a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(this.a ^ (this.a >>> 15), this.a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1), 32 bits of resolution. */
  nextFloat(): number {
    return this.nextU32() / 4294967296;
  }

  /** Integer in [0, n) for 1 ≤ n ≤ 2^32: `nextU32() % n`, the fs-probe convention (unbiased when n is a power of two). */
  nextBelow(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 4294967296) throw new RangeError(`nextBelow: n must be an integer in [1, 2^32], got ${n}`);
    return this.nextU32() % n;
  }

  /** The state, to save and restore a stream position. */
  get state(): number {
    return this.a;
  }
}

/** A mulberry32 stream seeded with `seed` as-is (the fs-probe convention). */
export function mulberry32(seed: number): Prng {
  return new Prng(seed);
}

/** 32-bit FNV-1a of a string's UTF-16 code units. */
function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** An independent stream for one consumer: seed XOR FNV-1a(name), then one murmur3 finaliser round. */
export function prng_derive(seed: number, stream: string): Prng {
  let z = ((seed >>> 0) ^ fnv1a32(stream)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return new Prng((z ^ (z >>> 16)) >>> 0);
}

/**
 * `count` offsets aligned to `align` in [0, bound): `(next() % floor(bound / align)) * align` drawn from
 * mulberry32(seed). Identical to tools/fs-probe's `offsets_random(seed, count, file_bytes, block_bytes)`.
 */
export function offsets_random(seed: number, count: number, bound: number, align: number): number[] {
  const slots = Math.floor(bound / align);
  const prng = mulberry32(seed);
  const out = new Array<number>(count);
  for (let i = 0; i < count; i++) out[i] = prng.nextBelow(slots) * align;
  return out;
}
