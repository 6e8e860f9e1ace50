import { describe, expect, it } from 'vitest';
import { parseWorkload } from './parse.js';
import { pos_of } from './test-util.js';
import { validateWorkload } from './validate.js';

const HEAD = 'name: v\nmachine: { memory: 1GiB, thp: madvise, seed: 1 }\nsteps:\n  - spawn: { proc: p }\n  - mmap: { proc: p, region: A, size: 2MiB, align: 2MiB }\n';
const run = (tail: string) => validateWorkload(parseWorkload(HEAD + tail, 'v.yaml'));
const msg = (tail: string): string => {
  try {
    run(tail);
  } catch (e) {
    return (e as Error).message;
  }
  return 'no error';
};

describe('validateWorkload tracks processes and regions', () => {
  it('MADV_DONTFORK ranges are not inherited; MADV_DOFORK restores them', () => {
    const tail = '  - madvise: { proc: p, region: A, offset: 1MiB, size: 1MiB, advice: dontfork }\n  - fork: { proc: p, child: c }\n  - touch: { proc: c, region: A, offset: 1MiB, size: 4KiB, write: true }\n';
    expect(msg(tail)).toBe(`v.yaml:${pos_of(HEAD + tail, 'proc: c, region: A', '1MiB')}: steps[4].touch.offset: range [1MiB, 1028KiB) of region "A" is not mapped at 1MiB (unmapped or moved earlier)`);
    const ok = '  - madvise: { proc: p, region: A, offset: 1MiB, size: 1MiB, advice: dontfork }\n  - madvise: { proc: p, region: A, offset: 1MiB, size: 1MiB, advice: dofork }\n  - fork: { proc: p, child: c }\n  - touch: { proc: c, region: A, offset: 1MiB, size: 4KiB, write: true }\n';
    expect(run(ok).steps).toBe(6);
  });

  it('mremap moves the range to a new region, growing it with newSize', () => {
    const tail = '  - mremap: { proc: p, region: A, offset: 1MiB, size: 1MiB, to: B, newSize: 3MiB }\n  - touch: { proc: p, region: B, offset: 0, size: 3MiB, write: true }\n';
    expect(run(tail).steps).toBe(4);
    const past = '  - mremap: { proc: p, region: A, offset: 1MiB, size: 1MiB, to: B }\n  - touch: { proc: p, region: B, offset: 0, size: 2MiB, write: true }\n';
    expect(msg(past)).toBe(`v.yaml:${pos_of(HEAD + past, 'region: B', '2MiB')}: steps[3].touch.size: range [0, 2MiB) ends past the end of region "B" (1MiB)`);
    const src = '  - mremap: { proc: p, region: A, offset: 1MiB, size: 1MiB, to: B }\n  - touch: { proc: p, region: A, offset: 1MiB, size: 4KiB, write: true }\n';
    expect(msg(src)).toMatch(/steps\[3\]\.touch\.offset: range \[1MiB, 1028KiB\) of region "A" is not mapped at 1MiB/);
    const clash = '  - mmap: { proc: p, region: B, size: 4KiB }\n  - mremap: { proc: p, region: A, offset: 0, size: 4KiB, to: B }\n';
    expect(msg(clash)).toMatch(/steps\[3\]\.mremap\.to: region "B" already exists in process "p"/);
  });

  it('observe may name an exited process but not an unknown one', () => {
    expect(run('  - fork: { proc: p, child: c }\n  - exit: { proc: c }\n  - observe: { label: x, procs: [p, c], region: A, offset: 0, size: 2MiB }\n').steps).toBe(5);
    expect(msg('  - observe: { label: x, procs: [p, z], region: A, offset: 0, size: 2MiB }\n')).toMatch(/steps\[2\]\.observe\.procs: process "z" does not exist/);
    expect(msg('  - observe: { label: x, procs: [p], region: Q, offset: 0, size: 4KiB }\n')).toMatch(/steps\[2\]\.observe\.region: region "Q" does not exist in any of p/);
  });

  it('a region can be mapped again once fully unmapped, and a file mapping needs the file', () => {
    expect(run('  - munmap: { proc: p, region: A, offset: 0, size: 2MiB }\n  - mmap: { proc: p, region: A, size: 4KiB }\n').steps).toBe(4);
    expect(msg('  - mmap: { proc: p, region: A, size: 4KiB }\n')).toMatch(/steps\[2\]\.mmap\.region: region "A" already exists/);
    expect(msg('  - mmap: { proc: p, region: F, size: 4KiB, file: data }\n')).toMatch(/steps\[2\]\.mmap\.file: file "data" does not exist/);
    expect(msg('  - mmap: { proc: p, region: F, size: 4KiB, anon: false }\n')).toMatch(/steps\[2\]\.mmap\.file: is required when anon is false/);
  });

  it('a repeat that expands past the step budget is refused at its times field', () => {
    const tail = '  - repeat: { times: 100000000, steps: [ { touch: { proc: p, region: A, offset: 0, size: 4KiB, write: false } } ] }\n';
    expect(msg(tail)).toMatch(/steps\[2\]\.repeat\.times: expands to 100000000 steps, more than the 20000000 a workload may run/);
  });

  it('counts handler calls and kinds', () => {
    const r = validateWorkload(
      parseWorkload('name: k\nmachine: { memory: 1GiB, thp: never, seed: 1 }\nsteps:\n  - mark: { label: m }\n  - open: { file: f }\n  - repeat: { times: 4, steps: [ { write: { file: f, offset: 0, size: 1MiB, chunk: 256KiB } } ] }\n', 'k.yaml'),
    );
    expect(r).toEqual({ steps: 17, sourceSteps: 4, ops: { open: 1, write: 16 }, kind: 'fs' });
  });
});
