import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createStandaloneHost } from './index.js';

describe('standalone host', () => {
  it('places folios in the x86-64 vmemmap: 0xffffea0000000000 + pfn * 64', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 2 ** 30 }), (n, order, basePfn) => {
        const host = createStandaloneHost({ nrFolios: n, folioOrder: order, basePfn });
        for (let f = 0; f < n; f++) {
          const pfn = BigInt(basePfn) + (BigInt(f) << BigInt(order));
          const addr = 0xffffea0000000000n + pfn * 64n;
          expect(host.folioAddressLo(f)).toBe(Number(addr & 0xffffffffn));
          expect(host.folioAddressHi(f)).toBe(Number(addr >> 32n));
          expect(host.folioPfn(f)).toBe(Number(pfn));
        }
      }),
      { numRuns: 50 },
    );
  });

  it('gives file mappings that are 8-byte-aligned pointers, one address_space per 1024 folios', () => {
    const host = createStandaloneHost({ nrFolios: 3000 });
    expect(host.mappingRead(0) % 8).toBe(0);
    expect(host.mappingRead(0)).toBe(host.mappingRead(1023));
    expect(host.mappingRead(1024)).not.toBe(host.mappingRead(1023));
    expect(host.mappingRead(2999)).toBe(host.originalMapping(2999));
  });

  it('rejects a bad folio count or order with the option named', () => {
    expect(() => createStandaloneHost({ nrFolios: 0 })).toThrow(/host\.nrFolios/);
    expect(() => createStandaloneHost({ nrFolios: 1, folioOrder: -1 })).toThrow(/host\.folioOrder/);
  });
});
