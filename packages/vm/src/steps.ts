import { PAGE_SIZE } from '@foliolab/memmap';
import { madvise_collapse } from './collapse.js';
import { VmStepError } from './errors.js';
import { vm_fork } from './fork.js';
import { pin_mode, vm_pin, vm_unpin } from './gup.js';
import type { Mm, Region } from './mm.js';
import { vm_mremap } from './mremap.js';
import { vm_observe, type ObserveRecord } from './observe.js';
import { vm_check } from './check.js';
import { PROT_NONE, PROT_READ, PROT_WRITE, VM_DONTCOPY, VM_HUGEPAGE, VM_NOHUGEPAGE, VM_SHARED } from './vma.js';
import type { Vm } from './vm.js';

/** The VM steps of the workload contract. */
export const VM_STEP_OPS = ['spawn', 'mmap', 'touch', 'fork', 'exit', 'munmap', 'mremap', 'mprotect', 'madvise', 'pin', 'unpin', 'observe', 'shrink'] as const;
export type VmStepOp = (typeof VM_STEP_OPS)[number];
type Args = Record<string, unknown>;

export interface VmSteps {
  readonly ops: readonly VmStepOp[];
  /** Run one step. Returns the observation for `observe`, undefined otherwise. Throws VmStepError on bad input. */
  run(op: string, args: Args): ObserveRecord | undefined;
}

function str(a: Args, k: string): string {
  const v = a[k];
  if (typeof v !== 'string' || v.length === 0) throw new VmStepError(k, v === undefined ? 'is required' : `must be a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

function bytes(a: Args, k: string, dflt?: number): number {
  const v = a[k];
  if (v === undefined && dflt !== undefined) return dflt;
  if (v === undefined) throw new VmStepError(k, 'is required');
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new VmStepError(k, `must be a whole number of bytes, got ${JSON.stringify(v)}`);
  return v;
}

function bool(a: Args, k: string, dflt: boolean): boolean {
  const v = a[k];
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw new VmStepError(k, `must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

function prot_of(v: unknown, k: string): number {
  switch (v) {
    case 'r': return PROT_READ;
    case 'rw': return PROT_READ | PROT_WRITE;
    case 'none': return PROT_NONE;
    default: throw new VmStepError(k, `must be r, rw or none, got ${JSON.stringify(v)}`);
  }
}

const page_up = (n: number) => Math.ceil(n / PAGE_SIZE) * PAGE_SIZE;

/**
 * Map the contract's VM steps (plain argument objects, sizes in bytes) onto the vm. Every argument
 * is validated; a bad one throws VmStepError naming the field and the reason (the workloads runner
 * adds file:line:column). With debugVm, vm_check() runs after every step.
 */
export function vmSteps(vm: Vm): VmSteps {
  const region = (mm: Mm, a: Args, aligned: boolean): { r: Region; start: number; size: number } => {
    const name = str(a, 'region');
    const r = mm.regions.get(name);
    if (r === undefined) throw new VmStepError('region', `region "${name}" does not exist in process "${mm.name}"`);
    const offset = bytes(a, 'offset');
    const size = bytes(a, 'size');
    if (size === 0) throw new VmStepError('size', 'must be more than 0');
    if (aligned && offset % PAGE_SIZE !== 0) throw new VmStepError('offset', `${offset} is not a multiple of ${PAGE_SIZE}`);
    if (offset + size > r.size) throw new VmStepError('size', `offset ${offset} + size ${size} is outside region "${name}" of "${mm.name}" (${r.size} bytes)`);
    return { r, start: r.start + offset, size: aligned ? Math.min(page_up(size), r.size - offset) : size };
  };
  const pinsByName = new Map<string, import('./vm.js').Pin>();
  let pinSeq = 0;
  const handlers: Record<VmStepOp, (a: Args) => ObserveRecord | undefined> = {
    spawn(a) {
      vm.spawn(str(a, 'proc'));
      return undefined;
    },
    mmap(a) {
      const mm = vm.proc(str(a, 'proc'));
      const name = str(a, 'region');
      if (mm.regions.has(name)) throw new VmStepError('region', `region "${name}" already exists in process "${mm.name}"`);
      const size = bytes(a, 'size');
      if (size === 0) throw new VmStepError('size', 'must be more than 0');
      const align = bytes(a, 'align', PAGE_SIZE);
      if (align < PAGE_SIZE || (align & (align - 1)) !== 0 || align > 2 ** 40) throw new VmStepError('align', `${align} is not a power of two of at least ${PAGE_SIZE}`);
      const file = a.file === undefined ? null : str(a, 'file');
      const anon = bool(a, 'anon', file === null);
      if (anon && file !== null) throw new VmStepError('file', 'an anonymous mapping cannot name a file (set anon: false)');
      if (!anon && file === null) throw new VmStepError('file', 'is required when anon is false');
      const shared = bool(a, 'shared', false);
      let flags = shared ? VM_SHARED : 0;
      if (a.advice !== undefined) {
        if (a.advice === 'hugepage') flags |= VM_HUGEPAGE;
        else if (a.advice === 'nohugepage') flags |= VM_NOHUGEPAGE;
        else throw new VmStepError('advice', `must be hugepage or nohugepage, got ${JSON.stringify(a.advice)}`);
      }
      const prot = a.prot === undefined ? PROT_READ | PROT_WRITE : prot_of(a.prot, 'prot');
      const fileOffset = bytes(a, 'fileOffset', 0);
      if (fileOffset % PAGE_SIZE !== 0) throw new VmStepError('fileOffset', `${fileOffset} is not a multiple of ${PAGE_SIZE}`);
      const vma = vm.mmap(mm, page_up(size), { align, prot, flags, file, fileOffset });
      mm.regions.set(name, { start: vma.start, size: page_up(size) });
      return undefined;
    },
    touch(a) {
      const mm = vm.proc(str(a, 'proc'));
      const { start, size } = region(mm, a, false);
      vm.touch(mm, start, size, bool(a, 'write', false));
      return undefined;
    },
    fork(a) {
      const mm = vm.proc(str(a, 'proc'));
      const child = str(a, 'child');
      if (vm.mms.has(child)) throw new VmStepError('child', `process "${child}" already exists`);
      vm_fork(vm, mm, child);
      return undefined;
    },
    exit(a) {
      vm.exit(vm.proc(str(a, 'proc')));
      return undefined;
    },
    munmap(a) {
      const mm = vm.proc(str(a, 'proc'));
      const { start, size } = region(mm, a, true);
      vm.munmap(mm, start, size);
      return undefined;
    },
    mremap(a) {
      const mm = vm.proc(str(a, 'proc'));
      const { start, size } = region(mm, a, true);
      const to = str(a, 'to');
      if (mm.regions.has(to)) throw new VmStepError('to', `region "${to}" already exists in process "${mm.name}"`);
      const newSize = page_up(bytes(a, 'newSize', size));
      if (newSize === 0) throw new VmStepError('newSize', 'must be more than 0');
      const at = vm_mremap(vm, mm, start, size, newSize);
      mm.regions.set(to, { start: at, size: newSize });
      return undefined;
    },
    mprotect(a) {
      const mm = vm.proc(str(a, 'proc'));
      const { start, size } = region(mm, a, true);
      vm.mprotect(mm, start, size, prot_of(a.prot, 'prot'));
      return undefined;
    },
    madvise(a) {
      const mm = vm.proc(str(a, 'proc'));
      const { start, size } = region(mm, a, true);
      switch (a.advice) {
        case 'dontneed': vm.madvise_dontneed(mm, start, size); break;
        case 'dontfork': vm.madvise_flags(mm, start, size, VM_DONTCOPY, 0); break;
        case 'dofork': vm.madvise_flags(mm, start, size, 0, VM_DONTCOPY); break;
        case 'hugepage': vm.madvise_flags(mm, start, size, VM_HUGEPAGE, VM_NOHUGEPAGE); break;
        case 'nohugepage': vm.madvise_flags(mm, start, size, VM_NOHUGEPAGE, VM_HUGEPAGE); break;
        case 'collapse': madvise_collapse(vm, mm, start, size); break;
        default: throw new VmStepError('advice', `must be dontneed, dontfork, dofork, hugepage, nohugepage or collapse, got ${JSON.stringify(a.advice)}`);
      }
      return undefined;
    },
    pin(a) {
      const mm = vm.proc(str(a, 'proc'));
      const { start, size } = region(mm, a, false);
      const mode = pin_mode(a.mode as string);
      if (mode === undefined) throw new VmStepError('mode', `must be ro, rw, ro-longterm or rw-longterm, got ${JSON.stringify(a.mode)}`);
      const name = a.name === undefined ? `#${++pinSeq}` : str(a, 'name');
      if (pinsByName.has(name)) throw new VmStepError('name', `pin "${name}" already exists`);
      pinsByName.set(name, vm_pin(vm, mm, start, size, mode, name));
      return undefined;
    },
    unpin(a) {
      if (a.name !== undefined) {
        const name = str(a, 'name');
        const p = pinsByName.get(name);
        if (p === undefined) throw new VmStepError('name', `no pin named "${name}"`);
        pinsByName.delete(name);
        vm_unpin(vm, p);
        return undefined;
      }
      const mm = vm.proc(str(a, 'proc'));
      const { start, size } = region(mm, a, false);
      let found = 0;
      for (const [name, p] of [...pinsByName]) {
        if (p.mm === mm && p.start < start + size && p.start + p.pfns.length * PAGE_SIZE > start) {
          pinsByName.delete(name);
          vm_unpin(vm, p);
          found++;
        }
      }
      if (found === 0) throw new VmStepError('offset', `no pin of "${mm.name}" overlaps that range`);
      return undefined;
    },
    observe(a) {
      const label = str(a, 'label');
      if (!Array.isArray(a.procs) || a.procs.length === 0) throw new VmStepError('procs', 'must be a non-empty list of process names');
      // A process that has exited maps nothing: it is observed as null, as /proc/PID/pagemap of a
      // reaped process would give nothing (the kernel probe records it the same way).
      const names = a.procs.map((p, i) => {
        if (typeof p !== 'string') throw new VmStepError(`procs[${i}]`, `must be a process name, got ${JSON.stringify(p)}`);
        if (!vm.exited.has(p)) vm.proc(p, `procs[${i}]`);
        return p;
      });
      const procs = names.filter((p) => !vm.exited.has(p)).map((p) => vm.proc(p));
      const name = str(a, 'region');
      if (procs.length > 0 && !procs.some((mm) => mm.regions.has(name))) throw new VmStepError('region', `none of ${procs.map((p) => `"${p.name}"`).join(', ')} has a region "${name}"`);
      const offset = bytes(a, 'offset');
      const size = bytes(a, 'size');
      if (size === 0) throw new VmStepError('size', 'must be more than 0');
      for (const mm of procs) {
        const r = mm.regions.get(name);
        if (r && offset + size > r.size) throw new VmStepError('size', `offset ${offset} + size ${size} is outside region "${name}" of "${mm.name}" (${r.size} bytes)`);
      }
      const rec = vm_observe(vm, label, procs, name, offset, size);
      if (procs.length === names.length) return rec;
      for (const row of rec.pages) row.procs = Object.fromEntries(names.map((n) => [n, row.procs[n] ?? null]));
      return rec;
    },
    shrink() {
      vm.shrink();
      return undefined;
    },
  };
  return {
    ops: VM_STEP_OPS,
    run(op, args) {
      const h = (handlers as Record<string, ((a: Args) => ObserveRecord | undefined) | undefined>)[op];
      if (h === undefined) throw new VmStepError('op', `"${op}" is not a VM step (one of ${VM_STEP_OPS.join(', ')})`);
      if (args === null || typeof args !== 'object' || Array.isArray(args)) throw new VmStepError(op, 'arguments must be an object');
      const r = h(args);
      if (vm.debugVm) vm_check(vm);
      return r;
    },
  };
}
