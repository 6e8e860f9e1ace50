/**
 * Rules inside one step or the machine that relate fields to each other or to the page size. They need no
 * history; validate.ts checks what depends on earlier steps.
 */
import { PAGE_SIZE } from './schema.js';
import type { MachineSpec, OffsetSpec, OpSpecs } from './types.js';
import { size_format } from './units.js';

export interface RuleViolation {
  /** Field path below the step's args (or the machine), e.g. `size` or `offset.align`. */
  field: string;
  reason: string;
}

const is_pow2 = (n: number): boolean => n > 0 && Number.isInteger(Math.log2(n)) && 2 ** Math.log2(n) === n;

function page_aligned(field: string, v: number): RuleViolation | null {
  return v % PAGE_SIZE === 0 ? null : { field, reason: `${size_format(v)} is not a multiple of the 4KiB page size` };
}
function positive_pages(field: string, v: number): RuleViolation | null {
  if (v === 0) return { field, reason: 'must be greater than 0' };
  return page_aligned(field, v);
}
function positive(field: string, v: number): RuleViolation | null {
  return v === 0 ? { field, reason: 'must be greater than 0' } : null;
}
function offset_rules(field: string, o: OffsetSpec, page: boolean): RuleViolation | null {
  if (typeof o === 'number') return page ? page_aligned(field, o) : null;
  if (!is_pow2(o.align)) return { field: `${field}.align`, reason: `${size_format(o.align)} is not a power of two` };
  if (page && o.align % PAGE_SIZE !== 0) return { field: `${field}.align`, reason: 'must be a multiple of the 4KiB page size here' };
  if (o.random < o.align) return { field: `${field}.random`, reason: `bound ${size_format(o.random)} is smaller than align ${size_format(o.align)}` };
  if (Math.floor(o.random / o.align) > 2 ** 32) return { field: `${field}.random`, reason: 'more than 2^32 aligned slots' };
  return null;
}

function first(...vs: (RuleViolation | null)[]): RuleViolation | null {
  return vs.find((v) => v !== null) ?? null;
}

type RuleMap = { [O in keyof OpSpecs]?: (a: OpSpecs[O]) => RuleViolation | null };

const RULES: RuleMap = {
  mmap: (a) =>
    first(
      positive_pages('size', a.size),
      a.align !== undefined && !(is_pow2(a.align) && a.align >= PAGE_SIZE) ? { field: 'align', reason: `${size_format(a.align)} is not a power of two of at least 4KiB` } : null,
      a.file !== undefined && a.anon ? { field: 'anon', reason: 'a mapping of `file` cannot be anon: true' } : null,
      a.file === undefined && !a.anon ? { field: 'file', reason: 'is required when anon is false' } : null,
      a.file === undefined && a.fileOffset !== 0 ? { field: 'fileOffset', reason: 'only applies to a file mapping (give `file`)' } : null,
      page_aligned('fileOffset', a.fileOffset),
    ),
  touch: (a) => first(offset_rules('offset', a.offset, false), positive('size', a.size)),
  munmap: (a) => first(page_aligned('offset', a.offset), positive_pages('size', a.size)),
  mremap: (a) => first(page_aligned('offset', a.offset), positive_pages('size', a.size), a.newSize !== undefined ? positive_pages('newSize', a.newSize) : null),
  mprotect: (a) => first(page_aligned('offset', a.offset), positive_pages('size', a.size)),
  madvise: (a) => first(page_aligned('offset', a.offset), positive_pages('size', a.size)),
  pin: (a) => positive('size', a.size),
  unpin: (a) => {
    const r = a as Record<string, unknown>;
    const rangeKeys = ['proc', 'region', 'offset', 'size'];
    if (r['name'] !== undefined) {
      const extra = rangeKeys.find((k) => r[k] !== undefined);
      return extra ? { field: extra, reason: 'give either { name } or { proc, region, offset, size }, not both' } : null;
    }
    const missing = rangeKeys.find((k) => r[k] === undefined);
    if (missing) return { field: missing, reason: 'is required (or give the pin\'s `name` instead)' };
    return positive('size', r['size'] as number);
  },
  observe: (a) => first(page_aligned('offset', a.offset), positive_pages('size', a.size)),
  read: (a) => first(offset_rules('offset', a.offset, false), positive('size', a.size), a.chunk !== undefined ? positive('chunk', a.chunk) : null),
  write: (a) => first(offset_rules('offset', a.offset, false), positive('size', a.size), a.chunk !== undefined ? positive('chunk', a.chunk) : null),
  contend: (a) =>
    first(
      a.hotFolios + a.coldFolios === 0 ? { field: 'hotFolios', reason: 'hotFolios + coldFolios must be at least 1' } : null,
      positive('duration', a.duration),
      a.pattern === 'migrate' && a.hotFolios === 0 ? { field: 'hotFolios', reason: 'the migrate pattern needs at least one hot folio' } : null,
      a.pattern === 'read' && a.hotFolios === 0 ? { field: 'hotFolios', reason: 'the read pattern needs at least one hot folio' } : null,
    ),
};

export function step_rules<O extends keyof OpSpecs>(op: O, args: OpSpecs[O]): RuleViolation | null {
  const rule = RULES[op] as ((a: OpSpecs[O]) => RuleViolation | null) | undefined;
  return rule ? rule(args) : null;
}

/** The largest machine the simulator supports (DESIGN §6): 1 TiB. */
export const MAX_MEMORY = 2 ** 40;

export function machine_rules(m: MachineSpec): RuleViolation | null {
  if (m.memory === 0) return { field: 'memory', reason: 'must be greater than 0' };
  if (m.memory % PAGE_SIZE !== 0) return { field: 'memory', reason: `${size_format(m.memory)} is not a multiple of the 4KiB page size` };
  if (m.memory > MAX_MEMORY) return { field: 'memory', reason: `${size_format(m.memory)} is more than the 1TiB the simulator supports` };
  for (let i = 0; i < m.mthp.length; i++) {
    const s = m.mthp[i]!;
    if (!is_pow2(s) || s < 16 * 1024 || s > 2 * 1024 * 1024)
      return { field: `mthp[${i}]`, reason: `${size_format(s)} is not an anon mTHP size (a power of two from 16KiB to 2MiB)` };
  }
  if (m.blockSize !== undefined && !(is_pow2(m.blockSize) && m.blockSize >= 512 && m.blockSize <= 65536))
    return { field: 'blockSize', reason: `${size_format(m.blockSize)} is not a power of two from 512B to 64KiB` };
  if (m.folioMax !== undefined && !(is_pow2(m.folioMax) && m.folioMax >= PAGE_SIZE && m.folioMax <= 2 * 1024 * 1024))
    return { field: 'folioMax', reason: `${size_format(m.folioMax)} is not a power of two from 4KiB to 2MiB` };
  return null;
}
