import { describe, expect, it } from 'vitest';
import { WorkloadError } from './errors.js';
import { parseWorkload } from './parse.js';
import { mulberry32 } from './prng.js';
import { runWorkload, type Target } from './runner.js';
import { pos_of } from './test-util.js';

const TEXT = `name: run
machine: { memory: 1GiB, thp: madvise, seed: 42 }
steps:
  - spawn: { proc: p }
  - mmap: { proc: p, region: A, size: 8MiB }
  - repeat:
      times: 3
      steps:
        - fork: { proc: p, child: "c{i}" }
        - touch: { proc: "c{i}", region: A, offset: { random: 8MiB }, size: 4KiB, write: true }
  - mark: { label: traced }
  - observe: { label: end, procs: [p, c0, c1, c2], region: A, offset: 0, size: 8KiB }
  - open: { file: f }
  - write: { file: f, offset: 1MiB, size: 10KiB, chunk: 4KiB }
`;

/** A target that logs every call and answers observe with the args it got. */
function logging_target(log: string[]): Target {
  const t: Target = {};
  for (const op of ['spawn', 'mmap', 'fork', 'touch', 'open', 'write'] as const) {
    (t as Record<string, unknown>)[op] = (args: unknown, ctx: { index: number; prng: { nextU32(): number } }) => {
      log.push(`${ctx.index} ${op} ${JSON.stringify(args)} ${ctx.prng.nextU32()}`);
    };
  }
  t.observe = (args, ctx) => ({ procs: args.procs, at: ctx.index });
  return t;
}

describe('runWorkload', () => {
  const w = parseWorkload(TEXT, 'run.yaml');

  it('expands repeat, resolves {i} names, chunks writes, and draws random offsets from mulberry32(seed)', () => {
    const log: string[] = [];
    const r = runWorkload(w, logging_target(log));
    const ops = log.map((l) => l.split(' ')[1]);
    expect(ops).toEqual(['spawn', 'mmap', 'fork', 'touch', 'fork', 'touch', 'fork', 'touch', 'open', 'write', 'write', 'write']);
    expect(r.steps).toBe(13); // 12 logged calls + observe
    const offsets = mulberry32(42);
    const expected = [0, 1, 2].map(() => (offsets.nextU32() % 2048) * 4096);
    expect(r.randomOffsets).toEqual(expected);
    expect(log[3]).toContain(`{"proc":"c0","region":"A","offset":${expected[0]},"size":4096,"write":true}`);
    expect(log[6]).toContain('"child":"c2"');
    expect(log.slice(9).map((l) => JSON.parse(l.split(' ')[2]!))).toEqual([
      { file: 'f', offset: 1 << 20, size: 4096 },
      { file: 'f', offset: (1 << 20) + 4096, size: 4096 },
      { file: 'f', offset: (1 << 20) + 8192, size: 2048 },
    ]);
  });

  it('collects observe records and marks with positions', () => {
    const r = runWorkload(w, logging_target([]));
    expect(r.marks).toEqual([{ label: 'traced', index: 8, pos: { file: 'run.yaml', line: Number(pos_of(TEXT, '- mark', 'mark').split(':')[0]), column: 5 } }]);
    expect(r.observe).toHaveLength(1);
    expect(r.observe[0]).toMatchObject({ label: 'end', index: 8, data: { procs: ['p', 'c0', 'c1', 'c2'], at: 8 } });
  });

  it('is deterministic for a seed and changes with it', () => {
    const a: string[] = [];
    const b: string[] = [];
    const c: string[] = [];
    runWorkload(w, logging_target(a));
    runWorkload(w, logging_target(b));
    runWorkload(w, logging_target(c), { seed: 43 });
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('ctx.recorder adds records from any handler', () => {
    const t = logging_target([]);
    t.spawn = (args, ctx) => ctx.recorder.record('spawned', args.proc);
    const r = runWorkload(w, t);
    expect(r.observe.map((o) => o.label)).toEqual(['spawned', 'end']);
    expect(r.observe[0]!.data).toBe('p');
  });

  it('a missing handler is an error naming the op and the target, before any step runs', () => {
    const log: string[] = [];
    const t = logging_target(log);
    delete t.write;
    expect(() => runWorkload(w, t, { targetName: 'vm' })).toThrow(
      `run.yaml:${pos_of(TEXT, '- write', 'write')}: steps[6].write: vm has no handler for op "write" (it handles: spawn, mmap, fork, touch, open, observe)`,
    );
    expect(log).toEqual([]);
  });

  it('wraps a handler error with the step position and keeps the cause', () => {
    class VmError extends Error {
      override name = 'VmError';
    }
    const t = logging_target([]);
    const boom = new VmError('SIGSEGV: no VMA at 0x1000');
    t.touch = (_a, ctx) => {
      if (ctx.iterations[0] === 1) throw boom;
    };
    let err: unknown;
    try {
      runWorkload(w, t);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WorkloadError);
    expect((err as Error).message).toBe(`run.yaml:${pos_of(TEXT, '- touch', 'touch')}: steps[2].repeat.steps[1].touch: VmError: SIGSEGV: no VMA at 0x1000`);
    expect((err as Error).cause).toBe(boom);
  });

  it('afterStep sees every call and its throw is reported at that step', () => {
    const seen: string[] = [];
    runWorkload(w, logging_target([]), { afterStep: ({ op, ctx }) => seen.push(`${ctx.index}:${op}`) });
    expect(seen).toHaveLength(13);
    expect(seen[8]).toBe('8:observe');
    expect(() =>
      runWorkload(w, logging_target([]), {
        afterStep: ({ op }) => {
          if (op === 'open') throw new Error('invariant: refcount < mapcount');
        },
      }),
    ).toThrow(`run.yaml:${pos_of(TEXT, '- open', 'open')}: steps[5].open: after this step: invariant: refcount < mapcount`);
  });

  it('validates before running', () => {
    const bad = parseWorkload(TEXT.replace('proc: "c{i}", region: A', 'proc: "d{i}", region: A'), 'run.yaml');
    const log: string[] = [];
    expect(() => runWorkload(bad, logging_target(log))).toThrow(/process "d0" does not exist/);
    expect(log).toEqual([]);
  });
});
