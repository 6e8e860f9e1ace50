import { describe, expect, it } from 'vitest';
import { mulberry32, offsets_random, prng_derive } from './prng.js';

/** mulberry32 again, in BigInt arithmetic, as the reference the Math.imul version must match. */
function reference(seed: number, n: number): number[] {
  const M = 1n << 32n;
  const mul = (a: bigint, b: bigint): bigint => (a * b) % M;
  let a = BigInt(seed >>> 0);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5n) % M;
    let t = mul(a ^ (a >> 15n), a | 1n);
    t = (t ^ ((t + mul(t ^ (t >> 7n), t | 61n)) % M)) % M;
    out.push(Number(t ^ (t >> 14n)));
  }
  return out;
}

describe('mulberry32', () => {
  it('matches a BigInt reference for several seeds', () => {
    for (const seed of [0, 1, 2017, 0xffffffff, 123456789]) {
      const p = mulberry32(seed);
      const got = Array.from({ length: 1000 }, () => p.nextU32());
      expect(got).toEqual(reference(seed, 1000));
    }
  });

  it('nextFloat is in [0, 1) and nextBelow in [0, n)', () => {
    const p = mulberry32(9);
    let bad = 0;
    for (let i = 0; i < 10_000; i++) {
      const f = p.nextFloat();
      const k = p.nextBelow(7);
      if (!(f >= 0 && f < 1) || !(Number.isInteger(k) && k >= 0 && k < 7)) bad++;
    }
    expect(bad).toBe(0);
    expect(() => p.nextBelow(0)).toThrow(RangeError);
  });

  it('derived streams are deterministic and differ by name and seed', () => {
    const a = Array.from({ length: 8 }, ((p) => () => p.nextU32())(prng_derive(1, 'target')));
    const b = Array.from({ length: 8 }, ((p) => () => p.nextU32())(prng_derive(1, 'target')));
    const c = Array.from({ length: 8 }, ((p) => () => p.nextU32())(prng_derive(1, 'other')));
    const d = Array.from({ length: 8 }, ((p) => () => p.nextU32())(prng_derive(2, 'target')));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(a).not.toEqual(d);
  });
});

describe('offsets_random', () => {
  it('is (mulberry32(seed) % slots) * align, the tools/fs-probe convention', () => {
    const MiB = 1024 * 1024;
    const raw = reference(1, 2048);
    const expected = raw.map((x) => (x % ((64 * MiB) / 4096)) * 4096);
    expect(offsets_random(1, 2048, 64 * MiB, 4096)).toEqual(expected);
    for (const o of expected) expect(o % 4096 === 0 && o < 64 * MiB).toBe(true);
  });
});
