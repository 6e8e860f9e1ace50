import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WaitQueueArena } from './index.js';

describe('WaitQueueArena', () => {
  it('behaves as FIFO lists with O(1) unlink, against an array model', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: 2 })), { maxLength: 200 }), (ops) => {
        const arena = new WaitQueueArena(16);
        const h = arena.allocHeads(3);
        const model: number[][] = [[], [], []];
        const where = new Map<number, number>();
        for (const [add, node, q] of ops) {
          if (add && !where.has(node)) {
            expect(arena.addTail(h + q, node)).toBe(model[q].length + 1);
            model[q].push(node);
            where.set(node, q);
          } else if (!add && where.has(node)) {
            const mq = where.get(node)!;
            arena.del(node);
            model[mq].splice(model[mq].indexOf(node), 1);
            where.delete(node);
          }
        }
        for (let q = 0; q < 3; q++) {
          const got: number[] = [];
          for (let n = arena.next[h + q]; n !== h + q; n = arena.next[n]) got.push(n);
          expect(got).toEqual(model[q]);
          expect(arena.queueLen[h + q]).toBe(model[q].length);
          expect(arena.active(h + q)).toBe(model[q].length > 0);
        }
      }),
    );
  });
});
