import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { walk_buckets, walk_histogram } from './walk-buckets.js';

/** The inclusive range a label names: "7" -> [7, 7], "64–127" -> [64, 127]. */
function range_of(label: string): [number, number] {
  const [a, b] = label.split('–').map(Number);
  return [a!, b ?? a!];
}

describe('walk_buckets', () => {
  it('keeps one bucket per value up to 16, empty values included', () => {
    const b = walk_buckets([[[1, 5], [4, 2]], [[2, 1]]]);
    expect(b.labels).toEqual(['1', '2', '3', '4']);
    expect(walk_histogram([[1, 5], [4, 2]], b)).toEqual([5, 0, 0, 2]);
  });

  it('switches to power-of-two buckets past 16', () => {
    const b = walk_buckets([[[1, 10], [17, 3], [300, 1]]]);
    expect(b.labels).toEqual(['1', '2–3', '4–7', '8–15', '16–31', '32–63', '64–127', '128–255', '256–511']);
    expect(walk_histogram([[1, 10], [17, 3], [300, 1], [31, 2]], b)).toEqual([10, 0, 0, 0, 5, 0, 0, 0, 1]);
  });

  it('ignores zero counts when choosing the range', () => {
    expect(walk_buckets([[[1, 0], [3, 4], [1000, 0]]]).labels).toEqual(['3']);
    expect(walk_buckets([]).labels).toEqual([]);
  });

  it('puts every value in the bucket whose label contains it, and loses no count', () => {
    const pair = fc.tuple(fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 1, max: 1000 }));
    fc.assert(
      fc.property(fc.array(pair, { minLength: 1, maxLength: 40 }), (d) => {
        const b = walk_buckets([d]);
        for (const [v] of d) {
          const [lo, hi] = range_of(b.labels[b.of(v)]!);
          expect(v).toBeGreaterThanOrEqual(lo);
          expect(v).toBeLessThanOrEqual(hi);
        }
        const h = walk_histogram(d, b);
        expect(h.reduce((a, x) => a + x, 0)).toBe(d.reduce((a, [, c]) => a + c, 0));
        // Labels tile the range: each starts one past the previous end.
        for (let i = 1; i < b.labels.length; i++) expect(range_of(b.labels[i]!)[0]).toBe(range_of(b.labels[i - 1]!)[1] + 1);
      }),
    );
  });
});
