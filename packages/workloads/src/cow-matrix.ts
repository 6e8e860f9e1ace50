/**
 * The cow.c matrix: every anonymous case of tools/testing/selftests/mm/cow.c a simulator can express, on
 * every backing the selftest runs it on, as one workload per cell (kernel-mm reference §4).
 *
 * What a cell asks, and how a checker answers it from the run's observe records (PFN per process per page;
 * index = page index inside the observed range, null where a process maps nothing):
 *
 * - `pinned` (cells with a pin): observed right after the pin, `procs: [pinner]`. The pinner's PFNs at that
 *   moment are the pages the pin holds (GUP returns what the page table maps once any unshare/COW the pin
 *   triggers is done). A pinned page cannot be freed, so a PFN seen later is that same page.
 * - `after-write`: observed right after the writer's write, `procs: [writer, reader?]`.
 *
 * check `no-leak` ("Leak from parent into child" / "child into parent" in cow.c):
 *   - with a `pinner` (the vmsplice cases): a leak iff some page i has pinned[pinner][i] === after-write[writer][i]
 *     (the writer wrote into the page the pipe still holds);
 *   - otherwise: a leak iff some page i has after-write[writer][i] === after-write[reader][i], both non-null
 *     (writer and reader still share the page the writer wrote).
 * check `pin-sees-writer` ("Longterm R/O pin is not reliable" / the io_uring fixed-buffer cases):
 *   stale iff some page i has pinned[pinner][i] !== after-write[writer][i] (the writer's page table points at
 *   another page than the pin holds, so the pin no longer sees the writes).
 *
 * cow.c's GUP and GUP-fast variants of the R/O pin cases (9/10, 11/12, 13/14) are one case each here: a
 * simulator has one GUP. `clear_softdirty` (cases 7 and 13) has no step; its effect — the page stays
 * exclusive but R/O-mapped until mprotect(R/W) — is what the mprotect pair below produces. Swap backings
 * and hugetlb are out of scope (no swap, no hugetlb in the VM).
 */
import { WorkloadError } from './errors.js';
import { parseWorkload } from './parse.js';
import { object_to_yaml } from './serialize.js';
import type { Workload } from './types.js';
import { size_format } from './units.js';

export type CowCheck = 'no-leak' | 'pin-sees-writer';

export interface CowCellTag {
  case: string;
  backing: string;
  check: CowCheck;
  /** The process that writes before `after-write`. */
  writer: string;
  /** no-leak without a pin: the process that must not see the write. */
  reader?: string;
  /** The process whose PFNs at `pinned` are the pinned pages. */
  pinner?: string;
  pinLabel: 'pinned';
  writeLabel: 'after-write';
}

export interface CowCell extends Workload {
  cell: CowCellTag;
}

type RawStep = Record<string, Record<string, unknown>>;

interface Backing {
  id: string;
  /** cow.c's name for it. */
  title: string;
  /** Only the PMD-sized THP backings (cow.c runs the collapse cases on PMD THP only). */
  thp: boolean;
  /** Steps that leave `parent` with the test range [0, size) of `region` populated. */
  setup(): { steps: RawStep[]; region: string; size: number };
}

const KiB = 1024;
const MiB = 1024 * KiB;
const THP = 2 * MiB;
const P = 'parent';
const C = 'child';

const s = (op: string, args: Record<string, unknown>): RawStep => ({ [op]: args });
const fmt = (n: number): string | number => (n === 0 ? 0 : size_format(n));

function thp_setup(): RawStep[] {
  return [
    s('mmap', { proc: P, region: 'mem', size: fmt(THP), align: fmt(THP), advice: 'hugepage' }),
    s('touch', { proc: P, region: 'mem', offset: 0, size: fmt(THP), write: true }),
  ];
}

export const COW_BACKINGS: readonly Backing[] = [
  {
    id: 'base',
    title: 'base page',
    thp: false,
    setup: () => ({
      steps: [s('mmap', { proc: P, region: 'mem', size: '4KiB', advice: 'nohugepage' }), s('touch', { proc: P, region: 'mem', offset: 0, size: '4KiB', write: true })],
      region: 'mem',
      size: 4 * KiB,
    }),
  },
  { id: 'thp-pmd', title: 'THP', thp: true, setup: () => ({ steps: thp_setup(), region: 'mem', size: THP }) },
  {
    id: 'thp-pte',
    title: 'PTE-mapped THP',
    thp: true,
    // mprotect one subpage R/O and back: the PMD is split, the folio stays order-9.
    setup: () => ({
      steps: [
        ...thp_setup(),
        s('mprotect', { proc: P, region: 'mem', offset: 0, size: '4KiB', prot: 'r' }),
        s('mprotect', { proc: P, region: 'mem', offset: 0, size: '4KiB', prot: 'rw' }),
      ],
      region: 'mem',
      size: THP,
    }),
  },
  {
    id: 'thp-single-pte',
    title: 'single PTE of THP',
    thp: true,
    // MADV_DONTNEED everything but the first page: one PTE left mapping an order-9 folio.
    setup: () => ({
      steps: [...thp_setup(), s('madvise', { proc: P, region: 'mem', offset: '4KiB', size: fmt(THP - 4 * KiB), advice: 'dontneed' })],
      region: 'mem',
      size: 4 * KiB,
    }),
  },
  {
    id: 'thp-partial-mremap',
    title: "partially mremap()'ed THP",
    thp: true,
    // The upper half moves to a new location; the test runs on the moved half.
    setup: () => ({
      steps: [...thp_setup(), s('mremap', { proc: P, region: 'mem', offset: fmt(THP / 2), size: fmt(THP / 2), to: 'moved' })],
      region: 'moved',
      size: THP / 2,
    }),
  },
  {
    id: 'thp-partial-shared',
    title: 'partially shared THP',
    thp: true,
    // MADV_DONTFORK all but page 0, fork a child that exits at once, MADV_DOFORK: page 0 was shared once.
    setup: () => ({
      steps: [
        ...thp_setup(),
        s('madvise', { proc: P, region: 'mem', offset: '4KiB', size: fmt(THP - 4 * KiB), advice: 'dontfork' }),
        s('fork', { proc: P, child: 'sharer' }),
        s('exit', { proc: 'sharer' }),
        s('madvise', { proc: P, region: 'mem', offset: '4KiB', size: fmt(THP - 4 * KiB), advice: 'dofork' }),
      ],
      region: 'mem',
      size: THP,
    }),
  },
];

interface CaseCtx {
  region: string;
  size: number;
}

interface Case {
  id: string;
  /** cow.c's test name. */
  title: string;
  what: string;
  tag: Omit<CowCellTag, 'case' | 'backing' | 'pinLabel' | 'writeLabel'>;
  steps(c: CaseCtx): RawStep[];
  /** Runs only on the PTE-mapped PMD THP (the collapse cases). */
  collapse?: boolean;
}

const range = (c: CaseCtx, proc: string) => ({ proc, region: c.region, offset: 0, size: fmt(c.size) });
const write = (c: CaseCtx, proc: string) => s('touch', { ...range(c, proc), write: true });
const observe = (c: CaseCtx, label: string, procs: string[]) => s('observe', { label, procs, region: c.region, offset: 0, size: fmt(c.size) });
const pin = (c: CaseCtx, proc: string, mode: string) => s('pin', { ...range(c, proc), mode, name: 'pin' });
const mprotect_toggle = (c: CaseCtx, proc: string) => [s('mprotect', { ...range(c, proc), prot: 'r' }), s('mprotect', { ...range(c, proc), prot: 'rw' })];
const half = (c: CaseCtx, upper: boolean) => ({ proc: P, region: c.region, offset: upper ? fmt(c.size / 2) : 0, size: fmt(c.size / 2) });

/**
 * cow.c's "collapsing after fork() (lower/upper shared)": MADV_DONTFORK the other half, fork, MADV_DOFORK,
 * MADV_COLLAPSE in the parent; the parent writes; the child, which maps only the shared half, must keep
 * seeing the old data.
 */
function collapse_after_fork_half(shared: 'lower' | 'upper'): Case {
  const other = shared === 'lower' ? 'upper' : 'lower';
  return {
    id: `collapse-after-fork-${shared}-shared`,
    title: `Basic COW after fork() when collapsing after fork() (${shared} shared)`,
    what: `MADV_DONTFORK the ${other} half, fork, MADV_DOFORK, MADV_COLLAPSE in the parent; the parent writes; the child (which maps the ${shared} half only) must keep seeing the old data.`,
    tag: { check: 'no-leak', writer: P, reader: C },
    collapse: true,
    steps: (c) => [
      s('madvise', { ...half(c, other === 'upper'), advice: 'dontfork' }),
      s('fork', { proc: P, child: C }),
      s('madvise', { ...half(c, other === 'upper'), advice: 'dofork' }),
      s('madvise', { ...range(c, P), advice: 'collapse' }),
      write(c, P),
      observe(c, 'after-write', [P, C]),
    ],
  };
}

export const COW_CASES: readonly Case[] = [
  {
    id: 'cow-fork',
    title: 'Basic COW after fork()',
    what: 'fork; the parent writes the range; the child must keep seeing the old data.',
    tag: { check: 'no-leak', writer: P, reader: C },
    steps: (c) => [s('fork', { proc: P, child: C }), write(c, P), observe(c, 'after-write', [P, C])],
  },
  {
    id: 'cow-fork-mprotect',
    title: 'Basic COW after fork() with mprotect() optimization',
    what: 'fork; the parent mprotects the range R/O and back to R/W (mprotect may map pages writable directly, and must not for shared anon pages), then writes; the child must keep seeing the old data.',
    tag: { check: 'no-leak', writer: P, reader: C },
    steps: (c) => [s('fork', { proc: P, child: C }), ...mprotect_toggle(c, P), write(c, P), observe(c, 'after-write', [P, C])],
  },
  {
    id: 'vmsplice-unmap-child',
    title: 'vmsplice() + unmap in child',
    what: 'fork; the child takes an R/O pin (vmsplice into a pipe) and unmaps the range; the parent writes; the pipe must still hold the old data (CVE-2020-29374).',
    tag: { check: 'no-leak', writer: P, pinner: C },
    steps: (c) => [s('fork', { proc: P, child: C }), pin(c, C, 'ro'), observe(c, 'pinned', [C]), s('munmap', range(c, C)), write(c, P), observe(c, 'after-write', [P]), s('unpin', { name: 'pin' })],
  },
  {
    id: 'vmsplice-unmap-child-mprotect',
    title: 'vmsplice() + unmap in child with mprotect() optimization',
    what: 'as vmsplice-unmap-child, with the parent toggling mprotect R/O → R/W before its write.',
    tag: { check: 'no-leak', writer: P, pinner: C },
    steps: (c) => [
      s('fork', { proc: P, child: C }),
      pin(c, C, 'ro'),
      observe(c, 'pinned', [C]),
      s('munmap', range(c, C)),
      ...mprotect_toggle(c, P),
      write(c, P),
      observe(c, 'after-write', [P]),
      s('unpin', { name: 'pin' }),
    ],
  },
  {
    id: 'vmsplice-before-fork-unmap-parent',
    title: 'vmsplice() before fork(), unmap in parent after fork()',
    what: 'the parent takes an R/O pin (vmsplice), forks and unmaps the range; the child writes; the pipe must still hold the old data.',
    tag: { check: 'no-leak', writer: C, pinner: P },
    steps: (c) => [pin(c, P, 'ro'), observe(c, 'pinned', [P]), s('fork', { proc: P, child: C }), s('munmap', range(c, P)), write(c, C), observe(c, 'after-write', [C]), s('unpin', { name: 'pin' })],
  },
  {
    id: 'vmsplice-after-fork-unmap-parent',
    title: 'vmsplice() + unmap in parent after fork()',
    what: 'fork; the parent takes an R/O pin (vmsplice) and unmaps the range; the child writes; the pipe must still hold the old data.',
    tag: { check: 'no-leak', writer: C, pinner: P },
    steps: (c) => [s('fork', { proc: P, child: C }), pin(c, P, 'ro'), observe(c, 'pinned', [P]), s('munmap', range(c, P)), write(c, C), observe(c, 'after-write', [C]), s('unpin', { name: 'pin' })],
  },
  {
    id: 'iouring-ro-mapping',
    title: 'R/O-mapping a page registered as iouring fixed buffer',
    what: 'an R/W long-term pin (io_uring fixed buffer); mprotect R/O and back to R/W; the parent writes; the pinned page must be reused, not copied, so the pin sees the write.',
    tag: { check: 'pin-sees-writer', writer: P, pinner: P },
    steps: (c) => [pin(c, P, 'rw-longterm'), observe(c, 'pinned', [P]), ...mprotect_toggle(c, P), write(c, P), observe(c, 'after-write', [P]), s('unpin', { name: 'pin' })],
  },
  {
    id: 'iouring-fork',
    title: 'fork() with an iouring fixed buffer',
    what: 'an R/W long-term pin, then fork with the child kept alive; the parent writes; the pin must see the write, so fork must have copied the pinned page for the child (the -EBUSY path) rather than share it.',
    tag: { check: 'pin-sees-writer', writer: P, pinner: P },
    steps: (c) => [pin(c, P, 'rw-longterm'), observe(c, 'pinned', [P]), s('fork', { proc: P, child: C }), write(c, P), observe(c, 'after-write', [P, C]), s('unpin', { name: 'pin' })],
  },
  {
    id: 'ro-pin-shared',
    title: 'R/O GUP pin on R/O-mapped shared page (and the GUP-fast variant)',
    what: 'fork with the child alive, so the page is R/O-mapped and shared; an R/O long-term pin must unshare it (FAULT_FLAG_UNSHARE); the parent writes; the pin must see the write.',
    tag: { check: 'pin-sees-writer', writer: P, pinner: P },
    steps: (c) => [s('fork', { proc: P, child: C }), pin(c, P, 'ro-longterm'), observe(c, 'pinned', [P]), write(c, P), observe(c, 'after-write', [P, C]), s('unpin', { name: 'pin' })],
  },
  {
    id: 'ro-pin-previously-shared',
    title: 'R/O GUP pin on R/O-mapped previously-shared page (and the GUP-fast variant)',
    what: 'fork, then the child exits: the page is R/O-mapped and no longer shared but may not be marked exclusive; an R/O long-term pin; the parent writes; the pin must see the write.',
    tag: { check: 'pin-sees-writer', writer: P, pinner: P },
    steps: (c) => [s('fork', { proc: P, child: C }), s('exit', { proc: C }), pin(c, P, 'ro-longterm'), observe(c, 'pinned', [P]), write(c, P), observe(c, 'after-write', [P]), s('unpin', { name: 'pin' })],
  },
  {
    id: 'ro-pin-exclusive',
    title: 'R/O GUP pin on R/O-mapped exclusive page (and the GUP-fast variant)',
    what: 'the page is exclusive but mapped R/O (mprotect R/O; cow.c adds clear_softdirty) when an R/O long-term pin is taken; mprotect R/W; the parent writes; the pin must see the write.',
    tag: { check: 'pin-sees-writer', writer: P, pinner: P },
    steps: (c) => [
      s('mprotect', { ...range(c, P), prot: 'r' }),
      pin(c, P, 'ro-longterm'),
      observe(c, 'pinned', [P]),
      s('mprotect', { ...range(c, P), prot: 'rw' }),
      write(c, P),
      observe(c, 'after-write', [P]),
      s('unpin', { name: 'pin' }),
    ],
  },
  {
    id: 'collapse-before-fork',
    title: 'Basic COW after fork() when collapsing before fork()',
    what: 'MADV_COLLAPSE the PTE-mapped THP, fork; the parent writes; the child must keep seeing the old data ("in-place collapse … might easily get COW handling wrong when not collapsing exclusivity information properly").',
    tag: { check: 'no-leak', writer: P, reader: C },
    collapse: true,
    steps: (c) => [s('madvise', { ...range(c, P), advice: 'collapse' }), s('fork', { proc: P, child: C }), write(c, P), observe(c, 'after-write', [P, C])],
  },
  {
    id: 'collapse-after-fork',
    title: 'Basic COW after fork() when collapsing after fork() (fully shared)',
    what: 'fork, then MADV_COLLAPSE the fully shared PTE-mapped THP in the parent; the parent writes; the child must keep seeing the old data.',
    tag: { check: 'no-leak', writer: P, reader: C },
    collapse: true,
    steps: (c) => [s('fork', { proc: P, child: C }), s('madvise', { ...range(c, P), advice: 'collapse' }), write(c, P), observe(c, 'after-write', [P, C])],
  },
  collapse_after_fork_half('lower'),
  collapse_after_fork_half('upper'),
];

const SOURCE = 'tools/testing/selftests/mm/cow.c (David Hildenbrand; torvalds/linux@49850bd0): anon_test_cases[] and anon_thp_test_cases[] × the backings of run_anon_test_case(); kernel-mm reference §4.';

function check_text(t: CowCellTag): string {
  if (t.check === 'pin-sees-writer') return `Check (pin-sees-writer): stale pin iff a page's PFN in "${t.pinner}" at "pinned" differs from its PFN in "${t.writer}" at "after-write".`;
  if (t.pinner) return `Check (no-leak): leak iff a page's PFN in "${t.pinner}" at "pinned" equals its PFN in "${t.writer}" at "after-write".`;
  return `Check (no-leak): leak iff a page has the same PFN in "${t.writer}" and "${t.reader}" at "after-write".`;
}

/** A cell before parsing: cheap to list (no YAML round trip). */
export interface CowCellDraft {
  name: string;
  cell: CowCellTag;
  description: string;
  source: string;
  /** The workload in file form. */
  raw: Record<string, unknown> & { steps: RawStep[] };
}

function cell_draft(k: Case, b: Backing): CowCellDraft {
  const setup = b.setup();
  const tag: CowCellTag = { case: k.id, backing: b.id, ...k.tag, pinLabel: 'pinned', writeLabel: 'after-write' };
  const name = `cow.${k.id}.${b.id}`;
  const description = `cow.c "${k.title}" on a ${b.title} (${size_format(setup.size)} test range): ${k.what} ${check_text(tag)}`;
  const raw = {
    name,
    description,
    source: SOURCE,
    machine: { memory: '64MiB', thp: 'madvise', seed: 1 },
    steps: [s('spawn', { proc: P }), ...setup.steps, ...k.steps({ region: setup.region, size: setup.size })],
  };
  return { name, cell: tag, description, source: SOURCE, raw };
}

/** Parse a draft the way a file is parsed, so a cell's steps carry positions in its YAML text (cowCellYaml). */
function cell_parse(d: CowCellDraft): CowCell {
  const file = `cow-matrix/${d.name}.yaml`;
  try {
    return Object.assign(parseWorkload(object_to_yaml(d.raw), file), { cell: d.cell });
  } catch (e) {
    // A generator bug, not user input: say which cell.
    throw new WorkloadError({ file }, '', `cow matrix cell ${d.name} does not parse: ${(e as Error).message}`);
  }
}

let drafts: CowCellDraft[] | null = null;
const parsed = new Map<string, CowCell>();

/** Every cell unparsed: the 11 anon cases × 6 backings, plus the 4 collapse cases on the PTE-mapped PMD THP. */
export function cowCellDrafts(): readonly CowCellDraft[] {
  if (!drafts) {
    drafts = [];
    for (const k of COW_CASES) for (const b of COW_BACKINGS) if (k.collapse ? b.id === 'thp-pte' : true) drafts.push(cell_draft(k, b));
  }
  return drafts;
}

/** One cell by name, parsed (undefined when no cell has that name). */
export function cowCell(name: string): CowCell | undefined {
  let c = parsed.get(name);
  if (!c) {
    const d = cowCellDrafts().find((x) => x.name === name);
    if (!d) return undefined;
    c = cell_parse(d);
    parsed.set(name, c);
  }
  return c;
}

/** The YAML text of a cell, as its positions refer to it (`foliolab workloads --show NAME` material). */
export function cowCellYaml(name: string): string | undefined {
  const d = cowCellDrafts().find((x) => x.name === name);
  return d && object_to_yaml(d.raw);
}

/** Every cell, parsed, each with its `cell: { case, backing, check, … }` tag. */
export function cowMatrix(): CowCell[] {
  return cowCellDrafts().map((d) => cowCell(d.name)!);
}
