/**
 * The zod (v4) schema of every step's arguments and of the machine. Shapes only: sizes and times are
 * converted here, defaults filled; rules that relate two fields (alignment, anon vs file) are in
 * step-rules.ts, and rules that need the history of the workload (does the region exist?) in validate.ts.
 */
import { z } from 'zod';
import { size_parse, time_parse } from './units.js';
import type { Op } from './types.js';

export const PAGE_SIZE = 4096;

/** Names of processes, regions, files, pins; `{i}` inside a `repeat` becomes the iteration index. */
const NAME_RE = /^(?:[A-Za-z0-9_.\-/]|\{i\})+$/;
const name = () =>
  z.string().min(1).max(200).regex(NAME_RE, { message: 'must be letters, digits, "_", ".", "-", "/" (and "{i}" inside repeat)' });
const label = () => z.string().min(1).max(200);

function unit_field(parse: typeof size_parse) {
  return z.any().transform((v: unknown, ctx): number => {
    if (v === undefined) {
      ctx.addIssue({ code: 'custom', message: 'is required' });
      return z.NEVER;
    }
    const r = parse(v);
    if (!r.ok) {
      ctx.addIssue({ code: 'custom', message: r.reason });
      return z.NEVER;
    }
    return r.value;
  });
}
/** A size: bytes or "4KiB"/"2MiB"/"1GiB"/"512B". */
export const size = () => unit_field(size_parse);
/** A time: ns or "100ns"/"10us"/"1ms"/"2s". */
export const time = () => unit_field(time_parse);

const randomOffset = z.strictObject({ random: size(), align: size().optional() }).transform((o) => ({ random: o.random, align: o.align ?? PAGE_SIZE }));
/** A number/size, or `{ random: BOUND, align?: SIZE }`. */
const offsetSpec = () =>
  z.any().transform((v: unknown, ctx) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const r = randomOffset.safeParse(v);
      if (r.success) return r.data;
      for (const issue of r.error.issues) ctx.addIssue({ ...issue, path: issue.path } as never);
      return z.NEVER;
    }
    if (v === undefined) {
      ctx.addIssue({ code: 'custom', message: 'is required' });
      return z.NEVER;
    }
    const r = size_parse(v);
    if (!r.ok) {
      ctx.addIssue({ code: 'custom', message: `${r.reason}, or { random: SIZE, align?: SIZE }` });
      return z.NEVER;
    }
    return r.value;
  });

const prot = z.enum(['r', 'rw', 'none']);
const count = (min: number) => z.number().int().min(min);
const range = { proc: name(), region: name(), offset: size(), size: size() };

/** One strict object per op: an unknown field is an error naming the known ones. */
export const STEP_SCHEMAS = {
  spawn: z.strictObject({ proc: name() }),
  mmap: z
    .strictObject({
      proc: name(),
      region: name(),
      size: size(),
      align: size().optional(),
      anon: z.boolean().optional(),
      file: name().optional(),
      fileOffset: size().optional(),
      shared: z.boolean().default(false),
      advice: z.enum(['hugepage', 'nohugepage']).optional(),
      prot: prot.default('rw'),
    })
    .transform(({ anon, fileOffset, ...rest }) => ({ ...rest, anon: anon ?? rest.file === undefined, fileOffset: fileOffset ?? 0 })),
  touch: z.strictObject({ proc: name(), region: name(), offset: offsetSpec(), size: size(), write: z.boolean() }),
  fork: z.strictObject({ proc: name(), child: name() }),
  exit: z.strictObject({ proc: name() }),
  munmap: z.strictObject(range),
  mremap: z.strictObject({ ...range, to: name(), newSize: size().optional() }),
  mprotect: z.strictObject({ ...range, prot }),
  madvise: z.strictObject({ ...range, advice: z.enum(['dontneed', 'dontfork', 'dofork', 'hugepage', 'nohugepage', 'collapse']) }),
  pin: z.strictObject({ ...range, mode: z.enum(['ro', 'rw', 'ro-longterm', 'rw-longterm']), name: name().optional() }),
  // unpin has two forms; handled by a custom check in parse.ts (strictObject union messages are unreadable).
  unpin: z.strictObject({ name: name().optional(), proc: name().optional(), region: name().optional(), offset: size().optional(), size: size().optional() }),
  observe: z.strictObject({ label: label(), procs: z.array(name()).min(1), region: name(), offset: size(), size: size() }),
  open: z.strictObject({ file: name(), create: z.boolean().default(true) }),
  read: z.strictObject({ file: name(), offset: offsetSpec(), size: size(), chunk: size().optional() }),
  write: z.strictObject({ file: name(), offset: offsetSpec(), size: size(), chunk: size().optional() }),
  fsync: z.strictObject({ file: name() }),
  truncate: z.strictObject({ file: name(), size: size() }),
  close: z.strictObject({ file: name() }),
  sync: z.strictObject({}),
  drop_caches: z.strictObject({}),
  crash: z.strictObject({}),
  contend: z.strictObject({
    tasks: count(1),
    hotFolios: count(0),
    coldFolios: count(0).default(0),
    holdTime: time(),
    ioLatency: time().optional().transform((v) => v ?? 0),
    duration: time(),
    pattern: z.enum(['lock', 'writeback', 'mixed', 'migrate', 'read']),
    hotFraction: z.number().min(0).max(1).optional(),
    thinkTime: time().optional(),
    walkCost: time().optional(),
    wakeLatency: time().optional(),
    mixRatio: z.number().min(0).max(1).optional(),
    truncateRate: z.number().min(0).max(1).optional(),
    migrateInterval: time().optional(),
    evictInterval: time().optional(),
    maxOpsPerTask: count(1).optional(),
    folioOrder: count(0).max(18).optional(),
    pageLockUnfairness: count(0).optional(),
    seed: count(0).max(0xffffffff).optional(),
  }),
  // `steps` is walked by the parser itself so nested steps get their own paths and positions.
  repeat: z.strictObject({ times: count(1), steps: z.array(z.unknown()).min(1) }),
  mark: z.strictObject({ label: label() }),
} as const satisfies Record<Op, z.ZodType>;

export const OPS = Object.keys(STEP_SCHEMAS) as Op[];
export const VM_OPS = ['spawn', 'mmap', 'touch', 'fork', 'exit', 'munmap', 'mremap', 'mprotect', 'madvise', 'pin', 'unpin', 'observe'] as const;
export const FILE_OPS = ['open', 'read', 'write', 'fsync', 'truncate', 'close', 'sync', 'drop_caches', 'crash'] as const;
export const WAIT_OPS = ['contend'] as const;
export const CONTROL_OPS = ['repeat', 'mark'] as const;
/** Ops whose args are empty: `- sync:` (null) is accepted as `- sync: {}`. */
export const NO_ARG_OPS: ReadonlySet<string> = new Set(['sync', 'drop_caches', 'crash']);

export const MACHINE_SCHEMA = z.strictObject({
  memory: size(),
  // The kernel's default (and this machine's): THP only where madvise(MADV_HUGEPAGE) asks for it.
  thp: z.enum(['always', 'madvise', 'never']).default('madvise'),
  mthp: z.array(size()).default([]),
  seed: count(0).max(0xffffffff),
  blockSize: size().optional(),
  folioMax: size().optional(),
  readAheadKb: count(0).optional(),
  waitTableBits: count(1).max(24).optional(),
  debugVm: z.boolean().optional(),
});

export const WORKLOAD_SCHEMA = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, { message: 'must be lower-case letters, digits, ".", "_", "-" (starting with a letter or digit)' }),
  description: z.string().optional(),
  source: z.string().optional(),
  machine: z.unknown(),
  steps: z.array(z.unknown()).min(1),
});

/** Known keys of a strict object schema, for "unknown field" messages. */
export function schema_keys(schema: z.ZodType): string[] {
  let s: unknown = schema;
  // Unwrap pipes/transforms down to the object.
  for (let i = 0; i < 4 && s; i++) {
    const def = (s as { _zod?: { def?: { type?: string; in?: unknown; shape?: Record<string, unknown> } } })._zod?.def;
    if (def?.shape) return Object.keys(def.shape);
    s = def?.in;
  }
  return [];
}
