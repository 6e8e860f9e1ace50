import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hash64, mulhi32 } from './index.js';

const GOLDEN_RATIO_64 = 0x61c8864680b583ebn;
const MASK64 = (1n << 64n) - 1n;
/** include/linux/hash.h hash_64_generic, in BigInt. */
function hash64Ref(val: bigint, bits: number): number {
  return Number(((val * GOLDEN_RATIO_64) & MASK64) >> BigInt(64 - bits));
}

describe('hash_64 from 32-bit halves', () => {
  it('mulhi32 is the exact high word of a 32x32 product', () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffffffff }), fc.nat({ max: 0xffffffff }), (a, b) => {
        expect(mulhi32(a, b)).toBe(Number((BigInt(a) * BigInt(b)) >> 32n));
      }),
      { numRuns: 2000 },
    );
  });

  it('equals (val * GOLDEN_RATIO_64) >> (64 - bits) for every 64-bit value and 1..32 bits', () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffffffff }), fc.nat({ max: 0xffffffff }), fc.integer({ min: 1, max: 32 }), (hi, lo, bits) => {
        expect(hash64(hi, lo, bits)).toBe(hash64Ref((BigInt(hi) << 32n) | BigInt(lo), bits));
      }),
      { numRuns: 5000 },
    );
  });

  it('matches on vmemmap addresses and edge values', () => {
    for (const v of [0n, 1n, MASK64, 0xffffea0000000000n, 0xffffea0000000040n, 0xffffea0004000000n]) {
      for (const bits of [8, 12, 16]) expect(hash64(Number(v >> 32n), Number(v & 0xffffffffn), bits)).toBe(hash64Ref(v, bits));
    }
  });
});
