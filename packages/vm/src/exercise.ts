import { PAGE_SIZE } from '@foliolab/memmap';
import { madvise_collapse } from './collapse.js';
import { VmStepError } from './errors.js';
import { vm_fork } from './fork.js';
import { vm_pin, vm_unpin } from './gup.js';
import type { Mm } from './mm.js';
import { vm_mremap } from './mremap.js';
import { PMD_SIZE } from './pagetable.js';
import { PROT_READ, PROT_WRITE, VM_DONTCOPY, VM_HUGEPAGE, VM_NOHUGEPAGE } from './vma.js';
import type { Vm } from './vm.js';

/**
 * One abstract random operation: `op` picks the operation, a/b/c/d pick its arguments modulo what
 * exists. Property tests generate arrays of these (fast-check) and vm_exercise turns each into a
 * valid call, so every generated sequence is a legal program over several processes.
 */
export interface VmFuzzOp {
  op: number;
  a: number;
  b: number;
  c: number;
  d: number;
}

export const VM_FUZZ_OPS = [
  'spawn', 'mmap', 'touch', 'touch', 'touch', 'fork', 'exit', 'munmap', 'mremap', 'mprotect',
  'dontneed', 'dontfork', 'dofork', 'hugepage', 'collapse', 'pin', 'unpin', 'shrink', 'write-all',
] as const;

export interface ExerciseOptions {
  /** Called after every operation (e.g. vm_check). */
  after?: (vm: Vm, step: number, what: string) => void;
  maxProcs?: number;
}

/** Run a random program. Returns the names of the operations actually performed. */
export function vm_exercise(vm: Vm, ops: readonly VmFuzzOp[], opts: ExerciseOptions = {}): string[] {
  const done: string[] = [];
  const maxProcs = opts.maxProcs ?? 4;
  let seq = 0;
  const procs = () => [...vm.mms.values()];
  const pick = <T>(xs: readonly T[], n: number): T | undefined => (xs.length === 0 ? undefined : xs[n % xs.length]);
  /** A page-aligned sub-range of a random VMA of mm. */
  const range = (mm: Mm, x: number, y: number, z: number) => {
    const v = pick(mm.vmas, x);
    if (v === undefined) return undefined;
    const pages = (v.end - v.start) / PAGE_SIZE;
    // Bias toward THP-relevant boundaries: whole VMA, halves, single pages, odd spans.
    const shape = z % 4;
    let first = y % pages;
    let n = 1 + ((y >>> 8) % Math.max(1, pages - first));
    if (shape === 0) {
      first = 0;
      n = pages;
    } else if (shape === 1) n = 1;
    return { vma: v, start: v.start + first * PAGE_SIZE, len: n * PAGE_SIZE };
  };
  ops.forEach((o, step) => {
    const what = VM_FUZZ_OPS[o.op % VM_FUZZ_OPS.length]!;
    const alive = procs();
    const mm = pick(alive, o.a);
    let did: string | undefined = what;
    try {
      switch (what) {
        case 'spawn':
          if (alive.length >= maxProcs) did = undefined;
          else vm.spawn(`p${seq++}`);
          break;
        case 'mmap': {
          if (!mm) { did = undefined; break; }
          const sizes = [PAGE_SIZE, 16 * PAGE_SIZE, 100 * PAGE_SIZE, PMD_SIZE, 2 * PMD_SIZE, 3 * PMD_SIZE + 5 * PAGE_SIZE];
          const size = sizes[o.b % sizes.length]!;
          const flags = o.c % 3 === 0 ? VM_HUGEPAGE : o.c % 3 === 1 ? 0 : VM_NOHUGEPAGE;
          const v = vm.mmap(mm, size, { align: o.d % 2 === 0 ? PMD_SIZE : PAGE_SIZE, flags });
          mm.regions.set(`r${seq++}`, { start: v.start, size });
          break;
        }
        case 'touch':
        case 'write-all': {
          if (!mm) { did = undefined; break; }
          const r = what === 'write-all' ? range(mm, o.b, 0, 0) : range(mm, o.b, o.c, o.d);
          if (!r || !(r.vma.prot & PROT_READ)) { did = undefined; break; }
          const write = what === 'write-all' || (o.d & 4) !== 0;
          if (write && !(r.vma.prot & PROT_WRITE)) { did = undefined; break; }
          vm.touch(mm, r.start, r.len, write);
          did = write ? 'write' : 'read';
          break;
        }
        case 'fork':
          if (!mm || alive.length >= maxProcs) did = undefined;
          else vm_fork(vm, mm, `p${seq++}`);
          break;
        case 'exit':
          if (!mm || alive.length <= 1) did = undefined;
          else vm.exit(mm);
          break;
        case 'munmap': {
          const r = mm && range(mm, o.b, o.c, o.d);
          if (!r) { did = undefined; break; }
          vm.munmap(mm!, r.start, r.len);
          break;
        }
        case 'mremap': {
          const r = mm && range(mm, o.b, o.c, o.d);
          if (!r) { did = undefined; break; }
          const grow = o.d % 3 === 0 ? r.len + 4 * PAGE_SIZE : o.d % 3 === 1 ? Math.max(PAGE_SIZE, r.len - PAGE_SIZE) : r.len;
          vm_mremap(vm, mm!, r.start, r.len, grow);
          break;
        }
        case 'mprotect': {
          const r = mm && range(mm, o.b, o.c, o.d);
          if (!r) { did = undefined; break; }
          vm.mprotect(mm!, r.start, r.len, o.d % 3 === 0 ? PROT_READ : PROT_READ | PROT_WRITE);
          break;
        }
        case 'dontneed':
        case 'dontfork':
        case 'dofork':
        case 'hugepage':
        case 'collapse': {
          const r = mm && range(mm, o.b, o.c, o.d);
          if (!r) { did = undefined; break; }
          if (what === 'dontneed') vm.madvise_dontneed(mm!, r.start, r.len);
          else if (what === 'dontfork') vm.madvise_flags(mm!, r.start, r.len, VM_DONTCOPY, 0);
          else if (what === 'dofork') vm.madvise_flags(mm!, r.start, r.len, 0, VM_DONTCOPY);
          else if (what === 'hugepage') vm.madvise_flags(mm!, r.start, r.len, VM_HUGEPAGE, VM_NOHUGEPAGE);
          else madvise_collapse(vm, mm!, r.start, r.len);
          break;
        }
        case 'pin': {
          const r = mm && range(mm, o.b, o.c, 1);
          if (!r || !(r.vma.prot & PROT_READ) || vm.pins.length > 6) { did = undefined; break; }
          const write = (o.d & 1) === 1 && (r.vma.prot & PROT_WRITE) !== 0;
          vm_pin(vm, mm!, r.start, r.len, { write, longterm: (o.d & 2) === 2 }, `pin${seq++}`);
          did = write ? 'pin-rw' : 'pin-ro';
          break;
        }
        case 'unpin': {
          const p = pick(vm.pins, o.b);
          if (!p) { did = undefined; break; }
          vm_unpin(vm, p);
          break;
        }
        case 'shrink':
          vm.shrink();
          break;
      }
    } catch (e) {
      if (!(e instanceof VmStepError)) throw e;
      did = `${what}!`;
    }
    if (did !== undefined) {
      done.push(did);
      opts.after?.(vm, step, did);
    }
  });
  return done;
}
