import { describe, expect, it } from 'vitest';
import { size_format, size_parse, time_format, time_parse } from './units.js';

describe('size_parse', () => {
  it.each([
    ['4KiB', 4096],
    ['2MiB', 2 * 1024 * 1024],
    ['1GiB', 1024 ** 3],
    ['1TiB', 1024 ** 4],
    ['512B', 512],
    ['1536KiB', 1536 * 1024],
    ['1.5MiB', 1.5 * 1024 * 1024],
    [8192, 8192],
    [0, 0],
    ['4096', 4096],
  ])('%s → %d bytes', (input, bytes) => {
    expect(size_parse(input)).toEqual({ ok: true, value: bytes });
  });

  it.each([
    ['2XB', '"2XB" is not a size (use B, KiB, MiB, GiB, TiB)'],
    ['4KB', '"4KB" is not a size (use B, KiB, MiB, GiB, TiB)'],
    ['4 kib', '"4 kib" is not a size (use B, KiB, MiB, GiB, TiB)'],
    ['', '"" is not a size (use B, KiB, MiB, GiB, TiB)'],
    [-1, '-1 is negative'],
    [1.5, '1.5 is not a whole number of bytes'],
    ['0.3B', '"0.3B" is not a whole number of bytes'],
    [true, 'true is not a size (use B, KiB, MiB, GiB, TiB)'],
  ])('%s is an error', (input, reason) => {
    expect(size_parse(input)).toEqual({ ok: false, reason });
  });
});

describe('time_parse', () => {
  it.each([
    ['100ns', 100],
    ['10us', 10_000],
    ['1ms', 1_000_000],
    ['2s', 2_000_000_000],
    [250, 250],
  ])('%s → %d ns', (input, ns) => {
    expect(time_parse(input)).toEqual({ ok: true, value: ns });
  });
  it('rejects unknown units', () => {
    expect(time_parse('3min')).toEqual({ ok: false, reason: '"3min" is not a time (use ns, us, ms, s)' });
  });
});

describe('formatting', () => {
  it('spells sizes and times exactly with the largest unit that divides them', () => {
    expect(size_format(2 * 1024 * 1024)).toBe('2MiB');
    expect(size_format(1536 * 1024)).toBe('1536KiB');
    expect(size_format(1000)).toBe('1000B');
    expect(time_format(2_000_000)).toBe('2ms');
    expect(time_format(1500)).toBe('1500ns');
  });
  it('parses back what it formats', () => {
    for (const n of [1, 512, 4096, 6144, 2 ** 21 + 4096, 2 ** 40]) expect(size_parse(size_format(n))).toEqual({ ok: true, value: n });
    for (const n of [1, 1000, 1001, 2_000_000, 3e9]) expect(time_parse(time_format(n))).toEqual({ ok: true, value: n });
  });
});
