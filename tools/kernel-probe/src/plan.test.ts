import { describe, expect, it } from 'vitest';
import { parseWorkload, WorkloadError } from '@foliolab/workloads';
import { mmap_alignment, mremap_alignment, probe_plan } from './plan.js';

const MiB = 1024 * 1024;
const wl = (steps: string, machine = '{ memory: 1GiB, thp: madvise, seed: 1 }') => parseWorkload(`name: t\nmachine: ${machine}\nsteps:\n${steps}`, 't.yaml');

describe('probe_plan', () => {
  it('numbers processes and regions and resolves repeats, sizes and defaults', () => {
    const p = probe_plan(
      wl(`  - spawn: { proc: p }
  - mmap: { proc: p, region: A, size: 3MiB, align: 64KiB, advice: hugepage }
  - repeat:
      times: 2
      steps:
        - fork: { proc: p, child: "c{i}" }
        - touch: { proc: "c{i}", region: A, offset: 4KiB, size: 6KiB, write: true }
  - madvise: { proc: c1, region: A, offset: 0, size: 8KiB, advice: dontneed }
  - mremap: { proc: p, region: A, offset: 1MiB, size: 2MiB, to: B }
  - mprotect: { proc: p, region: B, offset: 0, size: 4KiB, prot: r }
  - observe: { label: x, procs: [p, c0], region: B, offset: 0, size: 8KiB }
  - exit: { proc: c0 }
`),
    );
    expect(p.procs).toEqual(['p', 'c0', 'c1']);
    expect(p.lines).toEqual([
      'spawn 0',
      `mmap 0 0 ${3 * MiB} ${64 * 1024} 3 14`,
      'fork 0 1',
      'touch 1 0 4096 6144 1',
      'fork 0 2',
      'touch 2 0 4096 6144 1',
      'madvise 2 0 0 8192 4',
      `mremap 0 0 ${MiB} ${2 * MiB} 1 ${2 * MiB} ${2 * MiB}`,
      'mprotect 0 1 0 4096 1',
      'observe 0 1 0 8192 2 0 1',
      'exit 1',
    ]);
    expect(p.observes).toEqual([{ label: 'x', step: 9, region: 'B', offset: 0, size: 8192, procs: ['p', 'c0'] }]);
  });

  it('aligns like the kernel: 2 MiB multiples on a PMD boundary, mremap destinations likewise', () => {
    expect(mmap_alignment(4 * MiB, undefined)).toBe(2 * MiB);
    expect(mmap_alignment(4 * MiB, 64 * 1024)).toBe(2 * MiB);
    expect(mmap_alignment(MiB, 64 * 1024)).toBe(64 * 1024);
    expect(mmap_alignment(MiB + 4096, undefined)).toBe(4096);
    expect(mremap_alignment(2 * MiB)).toBe(2 * MiB);
    expect(mremap_alignment(MiB)).toBe(4096);
  });

  const refuse: [string, string, RegExp][] = [
    ['a file step', '  - open: { file: f }\n', /t\.yaml:4:5: .*no handler for op "open"/],
    ['a contend step', '  - contend: { tasks: 2, hotFolios: 1, holdTime: 1us, duration: 1ms, pattern: lock }\n', /t\.yaml:4:5: .*no handler for op "contend"/],
    ['a pin', '  - spawn: { proc: p }\n  - mmap: { proc: p, region: A, size: 8KiB }\n  - pin: { proc: p, region: A, offset: 0, size: 4KiB, mode: ro }\n', /t\.yaml:6:5: .*no handler for op "pin"/],
    ['a shared mapping', '  - spawn: { proc: p }\n  - mmap: { proc: p, region: A, size: 8KiB, shared: true }\n', /t\.yaml:5:5: .*private mappings only/],
    ['a file mapping', '  - open: { file: f }\n  - spawn: { proc: p }\n  - mmap: { proc: p, region: A, size: 8KiB, file: f }\n', /no handler for op "open"/],
  ];
  for (const [what, steps, re] of refuse) {
    it(`refuses ${what} with file:line:column`, () => {
      let err: unknown;
      try {
        probe_plan(wl(steps));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(WorkloadError);
      expect((err as Error).message).toMatch(re);
      expect((err as Error).message.split('\n')).toHaveLength(1);
    });
  }
});
