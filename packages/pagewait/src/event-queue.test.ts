import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventQueue } from './index.js';

describe('EventQueue', () => {
  it('pops by time, then in scheduling order, under any interleaving of pushes and pops', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.integer({ min: 0, max: 20 }), fc.constant(-1)), { maxLength: 300 }), (ops) => {
        const q = new EventQueue();
        const model: { time: number; id: number }[] = [];
        let id = 0;
        for (const op of ops) {
          if (op >= 0) {
            q.push(op, 1, id, 0);
            model.push({ time: op, id: id++ });
          } else {
            model.sort((a, b) => a.time - b.time || a.id - b.id);
            const want = model.shift();
            expect(q.pop()).toBe(want !== undefined);
            if (want) {
              expect(q.poppedTime).toBe(want.time);
              expect(q.poppedA).toBe(want.id);
            }
          }
          expect(q.length).toBe(model.length);
        }
      }),
    );
  });
});
