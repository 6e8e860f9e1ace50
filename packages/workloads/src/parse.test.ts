import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WorkloadError } from './errors.js';
import { loadWorkload, parseWorkload } from './parse.js';
import { OPS } from './schema.js';
import { pos_of } from './test-util.js';
import type { Step, Workload } from './types.js';
import { validateWorkload } from './validate.js';

const GOOD = `name: thp-fork-partial
machine: { memory: 1GiB, thp: madvise, mthp: [64KiB], seed: 1 }
steps:
  - spawn:   { proc: p }
  - mmap:    { proc: p, region: A, size: 4MiB, align: 2MiB, anon: true, advice: hugepage }
  - touch:   { proc: p, region: A, offset: 0, size: 2MiB, write: true }
  - fork:    { proc: p, child: c }
  - munmap:  { proc: p, region: A, offset: 0, size: 1MiB }
  - madvise: { proc: c, region: A, offset: 1536KiB, size: 512KiB, advice: dontneed }
  - mremap:  { proc: p, region: A, offset: 1MiB, size: 1MiB, to: B }
  - observe: { label: after, procs: [p, c], region: A, offset: 0, size: 2MiB }
  - exit:    { proc: c }
`;

/** The one-line message a bad text gives (parse, then validate). */
function error_of(text: string, file = 'thp.yaml'): WorkloadError {
  try {
    validateWorkload(parseWorkload(text, file));
  } catch (e) {
    expect(e).toBeInstanceOf(WorkloadError);
    expect((e as Error).message).not.toContain('\n');
    return e as WorkloadError;
  }
  throw new Error('expected an error');
}

describe('parseWorkload: a good file', () => {
  const w = parseWorkload(GOOD, 'thp.yaml');
  it('converts sizes to bytes and fills defaults', () => {
    const mmap = w.steps[1]!;
    expect(mmap.op).toBe('mmap');
    expect(mmap.args).toEqual({ proc: 'p', region: 'A', size: 4 << 20, align: 2 << 20, anon: true, advice: 'hugepage', shared: false, prot: 'rw', fileOffset: 0 });
    expect(w.machine).toEqual({ memory: 1 << 30, thp: 'madvise', mthp: [64 << 10], seed: 1 });
    expect(w.steps[5]!.args).toEqual({ proc: 'c', region: 'A', offset: 1536 << 10, size: 512 << 10, advice: 'dontneed' });
  });
  it('records the position of every step and field', () => {
    const touch = w.steps[2]!;
    expect(`${touch.pos.line}:${touch.pos.column}`).toBe(pos_of(GOOD, '- touch', 'touch'));
    expect(`${touch.fields['size']!.line}:${touch.fields['size']!.column}`).toBe(pos_of(GOOD, '- touch', '2MiB'));
    expect(touch.path).toBe('steps[2].touch');
  });
  it('validates', () => {
    expect(validateWorkload(w)).toMatchObject({ steps: 9, sourceSteps: 9, kind: 'mapcount' });
  });
});

describe('bad input: file:line:column: field: reason', () => {
  const cases: [string, string, [string, string], string][] = [
    ['bad size', GOOD.replace('size: 2MiB, write', 'size: 2XB, write'), ['- touch', '2XB'], 'steps[2].touch.size: "2XB" is not a size (use B, KiB, MiB, GiB, TiB)'],
    ['unknown op', GOOD.replace('- touch:', '- tuch:'), ['- tuch', 'tuch'], `steps[2].tuch: unknown operation "tuch" (did you mean "touch"?) (operations: ${OPS.join(', ')})`],
    ['missing field', GOOD.replace(', write: true', ''), ['- touch', '{'], 'steps[2].touch.write: is required'],
    ['unknown field', GOOD.replace('write: true', 'write: true, wrte: 1'), ['- touch', 'wrte'], 'steps[2].touch.wrte: unknown field (did you mean "write"?) (fields: proc, region, offset, size, write)'],
    ['wrong type', GOOD.replace('write: true', 'write: yes'), ['- touch', 'yes'], 'steps[2].touch.write: must be true or false, got string "yes"'],
    ['bad enum', GOOD.replace('advice: dontneed', 'advice: free'), ['- madvise', 'free'], 'steps[5].madvise.advice: must be one of dontneed, dontfork, dofork, hugepage, nohugepage, collapse, got string "free"'],
    ['range outside region', GOOD.replace('offset: 1536KiB', 'offset: 3840KiB'), ['- madvise', '512KiB'], 'steps[5].madvise.size: range [3840KiB, 4352KiB) ends past the end of region "A" (4MiB)'],
    ['process that does not exist', GOOD.replace('exit:    { proc: c }', 'exit:    { proc: q }'), ['- exit', 'q'], 'steps[8].exit.proc: process "q" does not exist (processes: p, c)'],
    ['region that does not exist', GOOD.replace('- fork:    { proc: p, child: c }', '- fork:    { proc: p, child: c }\n  - touch: { proc: c, region: Z, offset: 0, size: 4KiB, write: true }'), ['region: Z', 'Z'], 'steps[4].touch.region: region "Z" does not exist in process "c" (its regions: A)'],
    ['unaligned munmap', GOOD.replace('offset: 0, size: 1MiB', 'offset: 100, size: 1MiB'), ['- munmap', '100'], 'steps[4].munmap.offset: 100B is not a multiple of the 4KiB page size'],
    ['touch of an unmapped range', GOOD.replace('- exit:    { proc: c }', '- touch: { proc: p, region: A, offset: 0, size: 4KiB, write: false }'), ['- touch: { proc: p, region: A, offset: 0, size: 4KiB', '0'], 'steps[8].touch.offset: range [0, 4KiB) of region "A" is not mapped at 0 (unmapped or moved earlier)'],
    ['bad machine field', GOOD.replace('thp: madvise', 'thp: sometimes'), ['machine', 'sometimes'], 'machine.thp: must be one of always, madvise, never, got string "sometimes"'],
    ['bad mthp size', GOOD.replace('mthp: [64KiB]', 'mthp: [64KiB, 48KiB]'), ['machine', '48KiB'], 'machine.mthp[1]: 48KiB is not an anon mTHP size (a power of two from 16KiB to 2MiB)'],
    ['missing machine', GOOD.replace(/^machine:.*\n/m, ''), ['name', 'name'], 'machine: is required'],
    ['step with two ops', GOOD.replace('- exit:    { proc: c }', '- exit:    { proc: c }\n    spawn: { proc: d }'), ['spawn: { proc: d }', 'spawn'], 'steps[8].spawn: has 2 operations (exit, spawn); give each its own "- " item'],
    ['a process that already exists', GOOD.replace('child: c', 'child: p'), ['- fork', 'p }'], 'steps[3].fork.child: process "p" already exists'],
  ];
  it.each(cases)('%s', (_, text, [line, token], tail) => {
    const e = error_of(text);
    expect(e.message).toBe(`thp.yaml:${pos_of(text, line, token)}: ${tail}`);
  });

  it('a touch of an exited process names it', () => {
    const text = GOOD + '  - touch: { proc: c, region: A, offset: 0, size: 4KiB, write: true }\n';
    expect(error_of(text).message).toBe(`thp.yaml:${pos_of(text, '- touch: { proc: c', 'c,')}: steps[9].touch.proc: process "c" has exited`);
  });

  it('errors inside repeat name the iteration', () => {
    const text = `name: r
machine: { memory: 64MiB, thp: never, seed: 1 }
steps:
  - spawn: { proc: p }
  - repeat:
      times: 3
      steps:
        - spawn: { proc: "q" }
`;
    expect(error_of(text).message).toBe(`thp.yaml:${pos_of(text, 'spawn: { proc: "q"', '"q"')}: steps[1].repeat.steps[0].spawn.proc: process "q" already exists (repeat iteration 2 of 3)`);
  });

  it('YAML syntax errors point at the problem', () => {
    const text = 'name: x\nmachine: { memory: 1GiB\nsteps: []\n';
    const e = error_of(text);
    expect(e.message).toMatch(/^thp\.yaml:\d+:\d+: invalid YAML: /);
    expect(e.line).toBeGreaterThanOrEqual(2);
  });

  it('duplicate keys are an error', () => {
    const text = GOOD.replace('{ proc: p }', '{ proc: p, proc: q }');
    expect(error_of(text).message).toBe(`thp.yaml:${pos_of(text, 'proc: q', 'proc: q')}: invalid YAML: Map keys must be unique`);
  });

  it('an empty file, a list, and empty steps', () => {
    expect(error_of('  \n').message).toBe('thp.yaml:1:1: is empty; a workload needs name, machine and steps');
    expect(error_of('- a\n').message).toBe('thp.yaml:1:1: must be a mapping with name, machine and steps, got a list');
    expect(error_of('name: x\nmachine: { memory: 1GiB, thp: never, seed: 1 }\nsteps: []\n').message).toBe('thp.yaml:3:8: steps: must have at least 1 item');
  });

  it('strict JSON for .json files, with the position of the error', () => {
    const e = error_of('{\n  "name": "x",\n  "steps": [],\n}\n', 'w.json');
    expect(e.message).toBe('w.json:4:1: invalid JSON: Expected double-quoted property name');
  });

  it('an unreadable file names the path', async () => {
    await expect(loadWorkload('/nonexistent/dir/w.yaml')).rejects.toThrow('/nonexistent/dir/w.yaml: cannot read: no such file');
  });
});

/** A workload with positions stripped, for comparing two sources of the same workload. */
function shape(w: Workload): unknown {
  const steps = (ss: Step[]): unknown[] => ss.map((s) => (s.op === 'repeat' ? { op: s.op, times: s.args.times, steps: steps(s.args.steps) } : { op: s.op, args: s.args }));
  return { name: w.name, description: w.description, source: w.source, machine: w.machine, steps: steps(w.steps) };
}

describe('YAML and JSON give the same workload', () => {
  const dir = mkdtempSync(join(tmpdir(), 'foliolab-workloads-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('for the contract example', async () => {
    const json = JSON.stringify(
      {
        name: 'thp-fork-partial',
        machine: { memory: '1GiB', thp: 'madvise', mthp: ['64KiB'], seed: 1 },
        steps: [
          { spawn: { proc: 'p' } },
          { mmap: { proc: 'p', region: 'A', size: '4MiB', align: '2MiB', anon: true, advice: 'hugepage' } },
          { touch: { proc: 'p', region: 'A', offset: 0, size: 2097152, write: true } },
          { fork: { proc: 'p', child: 'c' } },
          { munmap: { proc: 'p', region: 'A', offset: 0, size: '1MiB' } },
          { madvise: { proc: 'c', region: 'A', offset: '1536KiB', size: '512KiB', advice: 'dontneed' } },
          { mremap: { proc: 'p', region: 'A', offset: '1MiB', size: '1MiB', to: 'B' } },
          { observe: { label: 'after', procs: ['p', 'c'], region: 'A', offset: 0, size: '2MiB' } },
          { exit: { proc: 'c' } },
        ],
      },
      null,
      2,
    );
    writeFileSync(join(dir, 'w.json'), json);
    writeFileSync(join(dir, 'w.yaml'), GOOD);
    const a = await loadWorkload(join(dir, 'w.json'));
    const b = await loadWorkload(join(dir, 'w.yaml'));
    expect(shape(a)).toEqual(shape(b));
    // JSON positions are real too: the touch step's size is on its own line in the pretty-printed JSON.
    expect(`${a.steps[2]!.fields['size']!.line}:${a.steps[2]!.fields['size']!.column}`).toBe(pos_of(json, '"size": 2097152', '2097152'));
  });
});

describe('step forms', () => {
  const base = 'name: f\nmachine: { memory: 1GiB, thp: never, seed: 1 }\nsteps:\n';
  it('no-argument ops accept null, random offsets default to 4 KiB alignment, contend times convert', () => {
    const w = parseWorkload(
      base +
        '  - open: { file: d }\n  - sync:\n  - write: { file: d, offset: { random: 1MiB }, size: 4KiB }\n' +
        '  - contend: { tasks: 8, hotFolios: 2, holdTime: 10us, duration: 1ms, pattern: lock }\n',
      'f.yaml',
    );
    expect(w.steps[1]!.args).toEqual({});
    expect(w.steps[2]!.args).toEqual({ file: 'd', offset: { random: 1 << 20, align: 4096 }, size: 4096 });
    expect(w.steps[3]!.args).toEqual({ tasks: 8, hotFolios: 2, coldFolios: 0, holdTime: 10_000, ioLatency: 0, duration: 1_000_000, pattern: 'lock' });
  });
  it('unpin takes a name or a range, not both', () => {
    const pre = base + '  - spawn: { proc: p }\n  - mmap: { proc: p, region: A, size: 8KiB }\n  - pin: { proc: p, region: A, offset: 0, size: 4KiB, mode: ro, name: k }\n';
    expect(() => validateWorkload(parseWorkload(pre + '  - unpin: { name: k }\n', 'f.yaml'))).not.toThrow();
    expect(() => validateWorkload(parseWorkload(pre + '  - unpin: { proc: p, region: A, offset: 0, size: 4KiB }\n', 'f.yaml'))).not.toThrow();
    const both = pre + '  - unpin: { name: k, proc: p }\n';
    expect(error_of(both, 'f.yaml').message).toBe(`f.yaml:${pos_of(both, 'unpin', 'p }')}: steps[3].unpin.proc: give either { name } or { proc, region, offset, size }, not both`);
    const unknown = pre + '  - unpin: { name: nope }\n';
    expect(error_of(unknown, 'f.yaml').message).toBe(`f.yaml:${pos_of(unknown, 'unpin', 'nope')}: steps[3].unpin.name: pin "nope" does not exist`);
  });
  it('file steps need an open file', () => {
    const text = base + '  - read: { file: never-opened, offset: 0, size: 4KiB }\n';
    expect(error_of(text, 'f.yaml').message).toBe(`f.yaml:${pos_of(text, 'read', 'never-opened')}: steps[0].read.file: file "never-opened" was never opened`);
  });
  it('contend: zero tasks and more folios than memory are errors', () => {
    const zero = base + '  - contend: { tasks: 0, hotFolios: 2, holdTime: 10us, duration: 1ms, pattern: lock }\n';
    expect(error_of(zero, 'f.yaml').message).toBe(`f.yaml:${pos_of(zero, 'contend', '0,')}: steps[0].contend.tasks: must be at least 1, got number 0`);
    const big = base + '  - contend: { tasks: 4, hotFolios: 300000, holdTime: 10us, duration: 1ms, pattern: lock }\n';
    expect(error_of(big, 'f.yaml').message).toBe(
      `f.yaml:${pos_of(big, 'contend', '300000')}: steps[0].contend.hotFolios: 300000 hot + 0 cold folios need 1200000KiB, more than the machine's 1GiB`,
    );
  });
});
