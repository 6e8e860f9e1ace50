import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { field_get, field_handle, field_set, field_set_each } from './field.js';

describe('field_set_each', () => {
  // Chunks of 8 units, stride 3, the field at slot 1: runs of consecutive units cross chunk ends.
  const make = () => field_handle(Array.from({ length: 6 }, () => new Int32Array(8 * 3)), 3, 3, 1);

  it('writes exactly what field_set() per unit writes, whatever the runs in the units', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 47 }), { minLength: 1, maxLength: 60 }), fc.integer(), (units, v) => {
        const a = make();
        const b = make();
        field_set_each(a, Int32Array.from(units), units.length, v);
        for (const u of units) field_set(b, u, v);
        expect(a.chunks).toEqual(b.chunks);
      }),
    );
  });

  it('stops a run at the end of its chunk', () => {
    const h = make();
    field_set_each(h, Int32Array.from([5, 6, 7, 8, 9]), 5, 42);
    expect([4, 5, 6, 7, 8, 9, 10].map((u) => field_get(h, u))).toEqual([0, 42, 42, 42, 42, 42, 0]);
    expect(h.chunks[0]![7 * 3 + 1]).toBe(42);
    expect(h.chunks[1]![0 * 3 + 1]).toBe(42);
  });

  it('writes only the first n units', () => {
    const h = make();
    field_set_each(h, Int32Array.from([1, 2, 3]), 2, 7);
    expect([1, 2, 3].map((u) => field_get(h, u))).toEqual([7, 7, 0]);
  });
});
