/**
 * include/linux/hash.h on a 64-bit kernel: hash_ptr(ptr, bits) = hash_long(ptr, bits) = hash_64(ptr, bits)
 * = (val * GOLDEN_RATIO_64) >> (64 - bits), with the product taken modulo 2^64 (x86-64 has no
 * HAVE_ARCH_HASH). Computed exactly from 32-bit halves, no BigInt: only the top `bits` (<= 32) bits of
 * the low 64 bits of the product are needed, i.e. the high word of the low 64-bit product.
 */
export const GOLDEN_RATIO_64_HI = 0x61c88646;
export const GOLDEN_RATIO_64_LO = 0x80b583eb;

/** High 32 bits of the unsigned 64-bit product a * b (a, b unsigned 32-bit), exact in doubles. */
export function mulhi32(a: number, b: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  return (p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) >>> 0;
}

/** hash_64(hi:lo, bits) for 1 <= bits <= 32. */
export function hash64(hi: number, lo: number, bits: number): number {
  // low64(val * G) = lo*Glo + ((hi*Glo + lo*Ghi) << 32)  (mod 2^64); its high word:
  const top = (mulhi32(lo >>> 0, GOLDEN_RATIO_64_LO) + Math.imul(hi, GOLDEN_RATIO_64_LO) + Math.imul(lo, GOLDEN_RATIO_64_HI)) >>> 0;
  return bits === 32 ? top : top >>> (32 - bits);
}
