/**
 * The static pass: walks the workload as the runner would (repeat expanded, `{i}` names resolved) and
 * tracks processes, regions (with their mapped ranges and MADV_DONTFORK ranges), named pins and files, so
 * that a step naming something that does not exist, or a range past the end of its region, is an error
 * at that step's file:line:column before anything runs.
 */
import { WorkloadError, type SourcePos } from './errors.js';
import { MAX_EXPANDED_STEPS, chunk_count, name_resolve, offset_max } from './expand.js';
import { CONTROL_OPS, FILE_OPS, PAGE_SIZE, VM_OPS, WAIT_OPS } from './schema.js';
import type { Op, Step, Workload, WorkloadKind } from './types.js';
import { size_format } from './units.js';

/** One mapped piece of a region, [start, end) relative to the region start. */
interface Piece {
  start: number;
  end: number;
  dontfork: boolean;
}

interface Region {
  size: number;
  /** Sorted, disjoint. */
  pieces: Piece[];
}

interface Proc {
  alive: boolean;
  regions: Map<string, Region>;
}

export interface ValidateResult {
  /** Handler calls the runner will make (repeat and chunk expanded; control steps not counted). */
  steps: number;
  /** Steps as written, repeat bodies included once. */
  sourceSteps: number;
  /** Handler calls per op. */
  ops: Partial<Record<Op, number>>;
  kind: WorkloadKind;
}

/** Which subsystem a workload drives, from the ops it uses. */
export function workload_kind(ops: Iterable<string>): WorkloadKind {
  const kinds = new Set<WorkloadKind>();
  for (const op of ops) {
    if ((VM_OPS as readonly string[]).includes(op)) kinds.add('mapcount');
    else if ((FILE_OPS as readonly string[]).includes(op)) kinds.add('fs');
    else if ((WAIT_OPS as readonly string[]).includes(op)) kinds.add('pagewait');
  }
  if (kinds.size === 0) return 'control';
  return kinds.size === 1 ? [...kinds][0]! : 'mixed';
}

function pieces_remove(r: Region, start: number, end: number): void {
  const out: Piece[] = [];
  for (const p of r.pieces) {
    if (p.end <= start || p.start >= end) out.push(p);
    else {
      if (p.start < start) out.push({ start: p.start, end: start, dontfork: p.dontfork });
      if (p.end > end) out.push({ start: end, end: p.end, dontfork: p.dontfork });
    }
  }
  r.pieces = out;
}

/** The first byte of [start, end) that no piece maps, or -1 when the whole range is mapped. */
function pieces_first_hole(r: Region, start: number, end: number): number {
  let at = start;
  for (const p of r.pieces) {
    if (p.end <= at) continue;
    if (p.start > at) return at;
    at = p.end;
    if (at >= end) return -1;
  }
  return at >= end ? -1 : at;
}

function pieces_set_dontfork(r: Region, start: number, end: number, value: boolean): void {
  const out: Piece[] = [];
  for (const p of r.pieces) {
    if (p.end <= start || p.start >= end) {
      out.push(p);
      continue;
    }
    if (p.start < start) out.push({ start: p.start, end: start, dontfork: p.dontfork });
    out.push({ start: Math.max(p.start, start), end: Math.min(p.end, end), dontfork: value });
    if (p.end > end) out.push({ start: end, end: p.end, dontfork: p.dontfork });
  }
  r.pieces = out;
}

function range_text(offset: number, size: number): string {
  return `[${size_format(offset)}, ${size_format(offset + size)})`;
}

class Validator {
  private readonly procs = new Map<string, Proc>();
  private readonly pins = new Set<string>();
  /** File name → open count; present once created. */
  private readonly files = new Map<string, number>();
  private calls = 0;
  private readonly ops: Partial<Record<Op, number>> = {};
  private sourceSteps = 0;

  constructor(private readonly w: Workload) {}

  run(): ValidateResult {
    this.walk(this.w.steps, undefined, '', true);
    return { steps: this.calls, sourceSteps: this.sourceSteps, ops: this.ops, kind: workload_kind(Object.keys(this.ops)) };
  }

  private fail(step: Step, field: string | null, reason: string, where: string): never {
    const pos: SourcePos = (field && step.fields[field]) || step.pos;
    throw new WorkloadError(pos, field ? `${step.path}.${field}` : step.path, reason + where);
  }

  private walk(steps: readonly Step[], iteration: number | undefined, where: string, countSource: boolean): void {
    for (const step of steps) {
      if (countSource) this.sourceSteps++;
      if (step.op === 'repeat') {
        const { times, steps: body } = step.args;
        // Budget check before walking: the body's calls per iteration times the iterations.
        const before = this.calls;
        for (let i = 0; i < times; i++) {
          this.walk(body, i, ` (repeat iteration ${i + 1} of ${times})`, countSource && i === 0);
          const per = this.calls - before;
          if (i === 0 && before + per * times > MAX_EXPANDED_STEPS)
            this.fail(step, 'times', `expands to ${per * times} steps, more than the ${MAX_EXPANDED_STEPS} a workload may run`, '');
        }
        continue;
      }
      if ((CONTROL_OPS as readonly string[]).includes(step.op)) continue;
      const n = step.op === 'read' || step.op === 'write' ? chunk_count(step.args.size, step.args.chunk) : 1;
      this.calls += n;
      this.ops[step.op] = (this.ops[step.op] ?? 0) + n;
      if (this.calls > MAX_EXPANDED_STEPS) this.fail(step, null, `the workload runs more than ${MAX_EXPANDED_STEPS} steps`, where);
      this.check(step, iteration, where);
    }
  }

  private proc_alive(step: Step, field: string, name: string, where: string): Proc {
    const p = this.procs.get(name);
    if (!p) this.fail(step, field, `process "${name}" does not exist${this.known_procs()}`, where);
    if (!p.alive) this.fail(step, field, `process "${name}" has exited`, where);
    return p;
  }

  private known_procs(): string {
    const live = [...this.procs].filter(([, p]) => p.alive).map(([n]) => n);
    return live.length ? ` (processes: ${live.join(', ')})` : ' (spawn it first)';
  }

  private region_of(step: Step, proc: Proc, procName: string, name: string, where: string): Region {
    const r = proc.regions.get(name);
    if (!r) {
      const known = [...proc.regions.keys()];
      this.fail(step, 'region', `region "${name}" does not exist in process "${procName}"${known.length ? ` (its regions: ${known.join(', ')})` : ' (it has no regions; mmap one first)'}`, where);
    }
    return r;
  }

  /** offset + size must lie inside the region; `mapped` additionally requires no hole. */
  private range_check(step: Step, r: Region, regionName: string, offset: number, size: number, mapped: boolean, where: string): void {
    if (offset + size > r.size) {
      const field = step.fields['size'] ? 'size' : 'offset';
      this.fail(step, field, `range ${range_text(offset, size)} ends past the end of region "${regionName}" (${size_format(r.size)})`, where);
    }
    if (mapped) {
      const hole = pieces_first_hole(r, offset, offset + size);
      if (hole >= 0) this.fail(step, 'offset', `range ${range_text(offset, size)} of region "${regionName}" is not mapped at ${size_format(hole)} (unmapped or moved earlier)`, where);
    }
  }

  private check(step: Step, it: number | undefined, where: string): void {
    const N = (s: string): string => name_resolve(s, it);
    switch (step.op) {
      case 'spawn': {
        const name = N(step.args.proc);
        if (this.procs.has(name)) this.fail(step, 'proc', `process "${name}" already exists`, where);
        this.procs.set(name, { alive: true, regions: new Map() });
        return;
      }
      case 'fork': {
        const parent = this.proc_alive(step, 'proc', N(step.args.proc), where);
        const child = N(step.args.child);
        if (this.procs.has(child)) this.fail(step, 'child', `process "${child}" already exists`, where);
        const regions = new Map<string, Region>();
        for (const [name, r] of parent.regions) {
          // MADV_DONTFORK (VM_DONTCOPY) ranges are not copied into the child.
          const pieces = r.pieces.filter((p) => !p.dontfork).map((p) => ({ ...p }));
          if (pieces.length) regions.set(name, { size: r.size, pieces });
        }
        this.procs.set(child, { alive: true, regions });
        return;
      }
      case 'exit': {
        const p = this.proc_alive(step, 'proc', N(step.args.proc), where);
        p.alive = false;
        p.regions.clear();
        return;
      }
      case 'mmap': {
        const a = step.args;
        const p = this.proc_alive(step, 'proc', N(a.proc), where);
        const name = N(a.region);
        const old = p.regions.get(name);
        if (old && old.pieces.length) this.fail(step, 'region', `region "${name}" already exists in process "${N(a.proc)}"`, where);
        if (a.file !== undefined && !this.files.has(N(a.file))) this.fail(step, 'file', `file "${N(a.file)}" does not exist (open it with create: true first)`, where);
        p.regions.set(name, { size: a.size, pieces: [{ start: 0, end: a.size, dontfork: false }] });
        return;
      }
      case 'touch':
      case 'mprotect':
      case 'madvise':
      case 'pin':
      case 'munmap':
      case 'mremap': {
        const a = step.args;
        const procName = N(a.proc);
        const p = this.proc_alive(step, 'proc', procName, where);
        const regionName = N(a.region);
        const r = this.region_of(step, p, procName, regionName, where);
        const offset = offset_max(a.offset);
        this.range_check(step, r, regionName, offset, a.size, step.op !== 'munmap', where);
        if (step.op === 'munmap') pieces_remove(r, a.offset as number, (a.offset as number) + a.size);
        else if (step.op === 'madvise' && (step.args.advice === 'dontfork' || step.args.advice === 'dofork'))
          pieces_set_dontfork(r, offset, offset + a.size, step.args.advice === 'dontfork');
        else if (step.op === 'pin' && step.args.name !== undefined) {
          const pin = N(step.args.name);
          if (this.pins.has(pin)) this.fail(step, 'name', `pin "${pin}" already exists`, where);
          this.pins.add(pin);
        } else if (step.op === 'mremap') {
          const to = N(step.args.to);
          const old = p.regions.get(to);
          if (old && old.pieces.length) this.fail(step, 'to', `region "${to}" already exists in process "${procName}"`, where);
          const newSize = step.args.newSize ?? a.size;
          const moved = r.pieces
            .filter((q) => q.end > offset && q.start < offset + a.size)
            .map((q) => ({ start: Math.max(q.start, offset) - offset, end: Math.min(q.end, offset + a.size) - offset, dontfork: q.dontfork }))
            .filter((q) => q.start < newSize)
            .map((q) => ({ ...q, end: Math.min(q.end, newSize) }));
          if (newSize > a.size) moved.push({ start: a.size, end: newSize, dontfork: false });
          pieces_remove(r, offset, offset + a.size);
          p.regions.set(to, { size: newSize, pieces: moved });
        }
        return;
      }
      case 'unpin': {
        const a = step.args;
        if ('name' in a && a.name !== undefined) {
          const pin = N(a.name);
          if (!this.pins.has(pin)) this.fail(step, 'name', `pin "${pin}" does not exist`, where);
          this.pins.delete(pin);
          return;
        }
        const ra = a as { proc: string; region: string; offset: number; size: number };
        const procName = N(ra.proc);
        const proc = this.procs.get(procName);
        if (!proc) this.fail(step, 'proc', `process "${procName}" does not exist${this.known_procs()}`, where);
        // An exited process's pins stay until unpinned; a live one's region must exist.
        if (proc.alive) {
          const r = this.region_of(step, proc, procName, N(ra.region), where);
          this.range_check(step, r, N(ra.region), ra.offset, ra.size, false, where);
        }
        return;
      }
      case 'observe': {
        const a = step.args;
        const regionName = N(a.region);
        let found = false;
        for (const raw of a.procs) {
          const procName = N(raw);
          const proc = this.procs.get(procName);
          if (!proc) this.fail(step, 'procs', `process "${procName}" does not exist${this.known_procs()}`, where);
          const r = proc.regions.get(regionName);
          if (!r) continue;
          found = true;
          this.range_check(step, r, regionName, a.offset, a.size, false, where);
        }
        if (!found) this.fail(step, 'region', `region "${regionName}" does not exist in any of ${a.procs.map(N).join(', ')}`, where);
        return;
      }
      case 'open': {
        const f = N(step.args.file);
        if (!step.args.create && !this.files.has(f)) this.fail(step, 'create', `file "${f}" does not exist and create is false`, where);
        this.files.set(f, (this.files.get(f) ?? 0) + 1);
        return;
      }
      case 'read':
      case 'write':
      case 'fsync':
      case 'truncate':
      case 'close': {
        const f = N(step.args.file);
        const opens = this.files.get(f);
        if (!opens) this.fail(step, 'file', opens === undefined ? `file "${f}" was never opened` : `file "${f}" is not open (it was closed)`, where);
        if (step.op === 'close') this.files.set(f, opens - 1);
        return;
      }
      case 'contend': {
        const a = step.args;
        const pages = (a.hotFolios + a.coldFolios) * 2 ** (a.folioOrder ?? 0);
        const memPages = this.w.machine.memory / PAGE_SIZE;
        if (pages > memPages)
          this.fail(step, 'hotFolios', `${a.hotFolios} hot + ${a.coldFolios} cold folios need ${size_format(pages * PAGE_SIZE)}, more than the machine's ${size_format(this.w.machine.memory)}`, where);
        return;
      }
      case 'sync':
      case 'drop_caches':
      case 'crash':
        return;
    }
  }
}

/** Check everything that depends on the order of steps; throws the first problem as a WorkloadError. */
export function validateWorkload(w: Workload): ValidateResult {
  return new Validator(w).run();
}
