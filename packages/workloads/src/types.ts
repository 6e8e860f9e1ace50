/**
 * The workload model after parsing: sizes are bytes, times are ns, defaults are filled in.
 * `*Args` are what a target's handlers receive; `*Spec` is what the parser produces where the two differ
 * (a touch/read/write offset may be `{ random }`, a read/write may be `chunk`ed; the runner resolves both).
 */
import type { SourcePos } from './errors.js';

export type Prot = 'r' | 'rw' | 'none';
export type ThpMode = 'always' | 'madvise' | 'never';
export type MmapAdvice = 'hugepage' | 'nohugepage';
export type MadviseAdvice = 'dontneed' | 'dontfork' | 'dofork' | 'hugepage' | 'nohugepage' | 'collapse';
export type PinMode = 'ro' | 'rw' | 'ro-longterm' | 'rw-longterm';
export type ContendPattern = 'lock' | 'writeback' | 'mixed' | 'migrate' | 'read';

export interface MachineSpec {
  /** Simulated RAM in bytes (a multiple of 4 KiB). */
  memory: number;
  thp: ThpMode;
  /** Enabled anon mTHP sizes in bytes (powers of two, 16 KiB … 2 MiB); [] when not given. */
  mthp: number[];
  seed: number;
  blockSize?: number;
  folioMax?: number;
  readAheadKb?: number;
  waitTableBits?: number;
  debugVm?: boolean;
}

// ---- VM steps (@foliolab/vm) -------------------------------------------------------------------------
export interface SpawnArgs { proc: string }
export interface MmapArgs {
  proc: string;
  region: string;
  size: number;
  align?: number;
  /** Resolved: true unless `file` is given (or `anon: false`). */
  anon: boolean;
  file?: string;
  fileOffset: number;
  shared: boolean;
  advice?: MmapAdvice;
  prot: Prot;
}
export interface TouchArgs { proc: string; region: string; offset: number; size: number; write: boolean }
export interface ForkArgs { proc: string; child: string }
export interface ExitArgs { proc: string }
export interface MunmapArgs { proc: string; region: string; offset: number; size: number }
export interface MremapArgs { proc: string; region: string; offset: number; size: number; to: string; newSize?: number }
export interface MprotectArgs { proc: string; region: string; offset: number; size: number; prot: Prot }
export interface MadviseArgs { proc: string; region: string; offset: number; size: number; advice: MadviseAdvice }
export interface PinArgs { proc: string; region: string; offset: number; size: number; mode: PinMode; name?: string }
export type UnpinArgs = { name: string } | { proc: string; region: string; offset: number; size: number };
export interface ObserveArgs { label: string; procs: string[]; region: string; offset: number; size: number }

// ---- File steps (@foliolab/pagecache) -----------------------------------------------------------------
export interface OpenArgs { file: string; create: boolean }
export interface ReadArgs { file: string; offset: number; size: number }
export interface WriteArgs { file: string; offset: number; size: number }
export interface FsyncArgs { file: string }
export interface TruncateArgs { file: string; size: number }
export interface CloseArgs { file: string }
export type SyncArgs = Record<string, never>;
export type DropCachesArgs = Record<string, never>;
export type CrashArgs = Record<string, never>;

// ---- Wait steps (@foliolab/pagewait) ------------------------------------------------------------------
/** Times in ns. Fields beyond the contract's are @foliolab/pagewait's ContendParams, passed through when given. */
export interface ContendArgs {
  tasks: number;
  hotFolios: number;
  coldFolios: number;
  holdTime: number;
  ioLatency: number;
  duration: number;
  pattern: ContendPattern;
  hotFraction?: number;
  thinkTime?: number;
  walkCost?: number;
  wakeLatency?: number;
  mixRatio?: number;
  truncateRate?: number;
  migrateInterval?: number;
  evictInterval?: number;
  maxOpsPerTask?: number;
  folioOrder?: number;
  pageLockUnfairness?: number;
  seed?: number;
}

/** What each op's handler receives. */
export interface OpArgs {
  spawn: SpawnArgs;
  mmap: MmapArgs;
  touch: TouchArgs;
  fork: ForkArgs;
  exit: ExitArgs;
  munmap: MunmapArgs;
  mremap: MremapArgs;
  mprotect: MprotectArgs;
  madvise: MadviseArgs;
  pin: PinArgs;
  unpin: UnpinArgs;
  observe: ObserveArgs;
  open: OpenArgs;
  read: ReadArgs;
  write: WriteArgs;
  fsync: FsyncArgs;
  truncate: TruncateArgs;
  close: CloseArgs;
  sync: SyncArgs;
  drop_caches: DropCachesArgs;
  crash: CrashArgs;
  contend: ContendArgs;
}

/** An op a target handles (everything but the runner's control steps). */
export type TargetOp = keyof OpArgs;

// ---- What the parser produces where it differs from the handler's args --------------------------------
/** `offset: { random: BOUND, align?: SIZE }`: `(next() % floor(BOUND / align)) * align` from the workload's offset stream. */
export interface RandomOffset { random: number; align: number }
export type OffsetSpec = number | RandomOffset;

export type TouchSpec = Omit<TouchArgs, 'offset'> & { offset: OffsetSpec };
/** `chunk`: the runner issues the range as consecutive calls of at most `chunk` bytes (one syscall each). */
export type ReadSpec = Omit<ReadArgs, 'offset'> & { offset: OffsetSpec; chunk?: number };
export type WriteSpec = Omit<WriteArgs, 'offset'> & { offset: OffsetSpec; chunk?: number };
export interface RepeatSpec { times: number; steps: Step[] }
/** A runner control step: records where the measured window starts (or any labelled point); reaches no target. */
export interface MarkSpec { label: string }

export interface OpSpecs extends Omit<OpArgs, 'touch' | 'read' | 'write'> {
  touch: TouchSpec;
  read: ReadSpec;
  write: WriteSpec;
  repeat: RepeatSpec;
  mark: MarkSpec;
}
export type Op = keyof OpSpecs;
export type ControlOp = 'repeat' | 'mark';

export interface StepOf<O extends Op> {
  op: O;
  args: OpSpecs[O];
  /** Position of the step's op key. */
  pos: SourcePos;
  /** Field path of the step's args, e.g. `steps[2].repeat.steps[0].touch`. */
  path: string;
  /** Position of each field given in the source (missing for defaults). */
  fields: Readonly<Record<string, SourcePos>>;
}
export type Step = { [O in Op]: StepOf<O> }[Op];

export type WorkloadKind = 'mapcount' | 'fs' | 'pagewait' | 'mixed' | 'control';

export interface Workload {
  name: string;
  description?: string;
  source?: string;
  machine: MachineSpec;
  steps: Step[];
  /** The file name errors are reported against. */
  file: string;
  /** Position of the document root (for errors about the workload as a whole). */
  pos: SourcePos;
}
