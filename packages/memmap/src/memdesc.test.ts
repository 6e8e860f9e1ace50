import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  MEMDESC_ALIGN,
  MemdescTag,
  memdesc_address,
  memdesc_encode_desc,
  memdesc_encode_undescribed,
  memdesc_subtype,
  memdesc_tag,
  memdesc_to_bigint,
} from './memdesc.js';

describe('memdesc word codec', () => {
  it('a 4-bit tag means descriptors are 16-byte aligned', () => {
    expect(MEMDESC_ALIGN).toBe(16);
    expect(() => memdesc_encode_desc(MemdescTag.anon, 0x1008)).toThrow(/multiple of 16/);
  });

  it('round-trips tag and address through the two 32-bit halves', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 15 }), fc.integer({ min: 1, max: 2 ** 47 }), (tag, a) => {
        const address = a * 16;
        const w = memdesc_encode_desc(tag as MemdescTag, address);
        expect(memdesc_tag(w.lo)).toBe(tag);
        expect(memdesc_address(w.lo, w.hi)).toBe(address);
        expect(memdesc_to_bigint(w)).toBe(BigInt(address) | BigInt(tag));
      }),
    );
  });

  it('undescribed memory has 2^28 subtypes and tag 0', () => {
    const w = memdesc_encode_undescribed(2 ** 28 - 1);
    expect(memdesc_tag(w.lo)).toBe(MemdescTag.undescribed);
    expect(memdesc_subtype(w.lo)).toBe(2 ** 28 - 1);
    expect(() => memdesc_encode_undescribed(2 ** 28)).toThrow(RangeError);
    expect(() => memdesc_encode_desc(MemdescTag.undescribed, 16)).toThrow(/cannot carry/);
  });
});
