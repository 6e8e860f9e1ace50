import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ProcfsError } from './errors.js';
import { flagNames, flagsCensus, formatFlagsCensus } from './flags-census.js';

const FIXTURES = fileURLToPath(new URL('../test-fixtures', import.meta.url));

function words(values: bigint[]): Uint32Array {
  const u = BigUint64Array.from(values);
  return new Uint32Array(u.buffer);
}
const bit = (n: number): bigint => 1n << BigInt(n);

describe('flagsCensus against the kernel tool', () => {
  const raw = new Uint8Array(gunzipSync(readFileSync(`${FIXTURES}/kpage-snapshot-idle/kpageflags.gz`)));
  const flags = new Uint32Array(raw.buffer, 0, raw.byteLength / 4);

  // page-types-r.kpage-snapshot-idle.txt is the output of the kernel's tools/mm/page-types -r run on this
  // snapshot (its files bind-mounted over /proc/kpageflags and /proc/kpagecount); see VERIFY.md.
  it('prints `page-types -r` line for line on the bundled snapshot', () => {
    const expected = readFileSync(`${FIXTURES}/page-types-r.kpage-snapshot-idle.txt`, 'utf8').split('\n');
    const got = formatFlagsCensus(flagsCensus(flags, { raw: true })).split('\n');
    expect(got.length).toBe(expected.length);
    for (let i = 0; i < expected.length; i++) expect(got[i], `line ${i + 1}`).toBe(expected[i]);
  });

  it('prints plain `page-types` (no -r) line for line on the bundled snapshot', () => {
    const expected = readFileSync(`${FIXTURES}/page-types.kpage-snapshot-idle.txt`, 'utf8');
    expect(formatFlagsCensus(flagsCensus(flags, { raw: false }))).toBe(expected);
  });

  it('returns JSON-ready rows whose pages sum to the PFN count', () => {
    const rows = flagsCensus(flags);
    expect(rows.reduce((a, r) => a + r.pages, 0)).toBe(6_553_600);
    expect(rows[0]).toMatchObject({ value: '0x0000000000000000', bits: 0n, longSymbolic: '' });
    const buddy = rows.find((r) => r.longSymbolic === 'buddy')!;
    expect(buddy.value).toBe('0x0000000000000400');
  });
});

describe('flagsCensus semantics', () => {
  it('expands overloaded bits in raw mode only', () => {
    const anonOwner2 = bit(12) | bit(34);
    const slabActiveError = bit(7) | bit(6) | bit(1);
    const reclaim = bit(9);
    const reclaimWriteback = bit(9) | bit(8);
    const rows = flagsCensus(words([anonOwner2, slabActiveError, reclaim, reclaimWriteback]));
    const values = rows.map((r) => r.bits);
    expect(values).toContain(bit(12) | bit(47)); // anon_exclusive
    expect(values).toContain(bit(7) | bit(50) | bit(51)); // slub_frozen, slub_debug
    expect(values).toContain(bit(48)); // readahead
    expect(values).toContain(reclaimWriteback); // real reclaim stays
    const plain = flagsCensus(words([anonOwner2, bit(15) | bit(5), bit(15) | bit(17)]), { raw: false }).map((r) => r.bits);
    // bits 32..47 hidden; compound bits hidden unless hugetlb. Slots: 0x28000 & 8191 = 0 -> 1, 0x20 -> 32, 0x1000 -> 4096.
    expect(plain).toEqual([bit(15) | bit(17), bit(5), bit(12)]);
  });

  it('orders rows like page-types’ hash table: flags 0 first, collisions probe forward in first-seen order', () => {
    // 0x400 and 0x1_0000_0400 share slot 0x400; the later one moves to 0x401, pushing 0x401 to 0x402.
    const rows = flagsCensus(words([bit(32) | 0x400n, 0x401n, 0x400n, 0x400n, 0n, 0x8n]));
    expect(rows.map((r) => [r.value, r.pages])).toEqual([
      ['0x0000000000000000', 1],
      ['0x0000000000000008', 1],
      ['0x0000000100000400', 1],
      ['0x0000000000000401', 1],
      ['0x0000000000000400', 2],
    ]);
  });

  it('refuses a set bit page-types has no name for', () => {
    expect(() => flagsCensus(words([bit(44)]), { path: '/x/kpageflags' })).toThrow(ProcfsError);
    expect(() => flagsCensus(words([bit(44)]), { path: '/x/kpageflags' })).toThrow('/x/kpageflags: unknown flag bit 44');
  });

  it('names bits with page-types’ letters', () => {
    expect(flagNames(bit(10) | bit(32))).toEqual(['__________B________________r________________', 'buddy,reserved']);
  });

  it('formats the MB column from the page size', () => {
    const text = formatFlagsCensus([{ value: '0x0000000000000400', bits: 0x400n, pages: 512, symbolic: 'x', longSymbolic: 'buddy' }], 4096);
    expect(text.split('\n')[1]).toBe('0x0000000000000400\t       512        2  x\tbuddy');
    expect(text.split('\n')[2]).toBe('             total\t       512        2');
  });
});
