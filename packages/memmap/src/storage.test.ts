import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DescriptorArena } from './storage.js';

/** Every word of descriptor `id`. */
function words(a: DescriptorArena, id: number): number[] {
  const c = a.chunks[id >>> DescriptorArena.CHUNK_SHIFT]!;
  const b = (id & DescriptorArena.CHUNK_MASK) * a.stride;
  return Array.from(c.subarray(b, b + a.stride));
}

function zero(a: DescriptorArena, id: number): boolean {
  const c = a.chunks[id >>> DescriptorArena.CHUNK_SHIFT]!;
  const b = (id & DescriptorArena.CHUNK_MASK) * a.stride;
  for (let k = 0; k < a.stride; k++) if (c[b + k] !== 0) return false;
  return true;
}

function scribble(a: DescriptorArena, id: number): void {
  const c = a.chunks[id >>> DescriptorArena.CHUNK_SHIFT]!;
  const b = (id & DescriptorArena.CHUNK_MASK) * a.stride;
  for (let k = 0; k < a.stride; k++) c[b + k] = id * 31 + k + 1;
}

describe('DescriptorArena.alloc_bulk', () => {
  it('property: the ids, zeroed descriptors, live and peak counts of n alloc() calls', () => {
    // Frees come as ranges up or down (what munmap and exit push) and as single random ids.
    const op = fc.oneof(
      fc.record({ alloc: fc.integer({ min: 1, max: 5000 }), bulk: fc.boolean() }),
      fc.record({ freeFrom: fc.nat(), count: fc.integer({ min: 1, max: 4000 }), down: fc.boolean() }),
      fc.record({ freeOne: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), fc.constantFrom(64, 80, 96), (ops, size) => {
        const bulk = new DescriptorArena('folio', size, 2 ** 40);
        const single = new DescriptorArena('folio', size, 2 ** 40);
        const live: number[] = [];
        for (const o of ops) {
          if ('alloc' in o) {
            const want: number[] = [];
            for (let i = 0; i < o.alloc; i++) want.push(single.alloc());
            const out = new Int32Array(o.alloc);
            if (o.bulk) bulk.alloc_bulk(o.alloc, out);
            else for (let i = 0; i < o.alloc; i++) out[i] = bulk.alloc();
            expect(Array.from(out)).toEqual(want);
            for (const id of out) {
              if (!zero(bulk, id)) expect.fail(`descriptor ${id} is not zeroed`);
              scribble(bulk, id);
              scribble(single, id);
              live.push(id);
            }
          } else if ('freeFrom' in o) {
            if (live.length === 0) continue;
            const from = o.freeFrom % live.length;
            const gone = live.splice(from, o.count);
            if (o.down) gone.reverse();
            for (const id of gone) {
              bulk.free(id);
              single.free(id);
            }
          } else if (live.length > 0) {
            const [id] = live.splice(o.freeOne % live.length, 1);
            bulk.free(id!);
            single.free(id!);
          }
          expect(bulk.live).toBe(single.live);
          expect(bulk.peak).toBe(single.peak);
        }
        // Descriptors still live are untouched by the runs cleared around them.
        for (const id of live) expect(words(bulk, id)).toEqual(words(single, id));
      }),
      { numRuns: 30 },
    );
  }, 60_000);
});

describe('DescriptorArena.reserve', () => {
  it('makes the room at the first allocation, at the size fields declared before it, and hands out the same ids', () => {
    const plain = new DescriptorArena('plain', 64, 0);
    const booted = new DescriptorArena('booted', 64, 0);
    booted.reserve(3 * (1 << DescriptorArena.CHUNK_SHIFT) + 5);
    // A field declared after reserve() and before the first allocation still resizes every descriptor.
    for (const a of [plain, booted]) a.extend(20);
    expect(booted.chunks.length).toBe(0);
    const ids = (a: DescriptorArena) => {
      const out = new Int32Array(100);
      a.alloc_bulk(100, out);
      return [a.alloc(), ...out];
    };
    expect(ids(booted)).toEqual(ids(plain));
    expect(booted.chunks.length).toBe(4);
    expect(plain.chunks.length).toBe(1);
    for (const c of booted.chunks) expect(c.length).toBe(booted.stride << DescriptorArena.CHUNK_SHIFT);
    expect(booted.stride).toBe(plain.stride);
  });
});
