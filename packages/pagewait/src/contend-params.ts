/**
 * Parameters of a `contend` run: N tasks on K hot and M cold folios. Validation names the field and the
 * reason; {@link ContendParamError} is what the workload parser turns into "file:line: field: reason".
 */
export const CONTEND_PATTERNS = ['lock', 'writeback', 'mixed', 'migrate', 'read'] as const;
export type ContendPattern = (typeof CONTEND_PATTERNS)[number];

export interface ContendParams {
  /** Simulated tasks (threads). */
  tasks: number;
  /** Folios most operations go to (folio ids 0..hotFolios-1). */
  hotFolios: number;
  /** Folios the remaining operations spread over uniformly (ids hotFolios..hotFolios+coldFolios-1). */
  coldFolios: number;
  /** Probability that an operation targets a hot folio (forced to 0 without hot folios, 1 without cold). */
  hotFraction: number;
  /** Simulated ns a task holds a folio lock (or touches a folio) per operation. */
  holdTime: number;
  /** Simulated ns between a task's operations (drawn uniformly from [0, 2 * thinkTime)). */
  thinkTime: number;
  /** Simulated ns of one I/O: writeback, read, or a migration copy. */
  ioLatency: number;
  /** Simulated ns the waker spends per wait-queue entry it walks. */
  walkCost: number;
  /** Simulated ns from a wake-up to the woken task running. */
  wakeLatency: number;
  /** Simulated ns after which tasks start no new operation (the run drains after). */
  duration: number;
  /**
   * lock: folio_lock, hold, folio_unlock. writeback: folio_lock, folio_wait_writeback, folio_start_writeback,
   * folio_unlock, folio_end_writeback after ioLatency. mixed: lock with probability mixRatio, else writeback.
   * migrate: hot folios are locked by migration for ioLatency every migrateInterval; tasks touching them
   * wait shared (migration_entry_wait_on_locked); cold operations are lock operations.
   * read: buffered reads; a folio that is not uptodate is locked for read I/O (ioLatency) by the first
   * reader, the others folio_put_wait_locked and retry; reclaim evicts a hot folio every evictInterval.
   */
  pattern: ContendPattern;
  /** mixed: probability that an operation is a lock operation rather than a writeback one. */
  mixRatio: number;
  /** Probability that a lock operation truncates the folio (page_cache_delete); the next locker re-adds it. */
  truncateRate: number;
  /** migrate: simulated ns between migrations of each hot folio. */
  migrateInterval: number;
  /** read: simulated ns between evictions of a random hot folio. */
  evictInterval: number;
  /** Cap on operations per task (null: until duration). */
  maxOpsPerTask: number | null;
  /** Folio order for the standalone host (2^order pages per folio). */
  folioOrder: number;
  /** sysctl_page_lock_unfairness. */
  pageLockUnfairness: number;
  seed: number;
}

export type ContendParamsInput = Partial<ContendParams> & { tasks: number };

export class ContendParamError extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`contend.${field}: ${reason}`);
    this.name = 'ContendParamError';
  }
}

export const CONTEND_DEFAULTS: Omit<ContendParams, 'tasks'> = {
  hotFolios: 1,
  coldFolios: 0,
  hotFraction: 0.9,
  holdTime: 10_000,
  thinkTime: 10_000,
  ioLatency: 100_000,
  walkCost: 50,
  wakeLatency: 2_000,
  duration: 10_000_000,
  pattern: 'lock',
  mixRatio: 0.5,
  truncateRate: 0,
  migrateInterval: 200_000,
  evictInterval: 100_000,
  maxOpsPerTask: null,
  folioOrder: 0,
  pageLockUnfairness: 5,
  seed: 1,
};

const FIELDS = new Set<string>(['tasks', ...Object.keys(CONTEND_DEFAULTS)]);

/** Upper bound on tasks: the engine keeps per-task typed arrays, this keeps a typo from allocating GiBs. */
export const CONTEND_MAX_TASKS = 1 << 20;

/**
 * Validate and fill defaults. `nrFolios` is the host's folio count when the run is bound to a host
 * (more hot + cold folios than that is an error naming the field).
 */
export function validateContendParams(input: unknown, nrFolios?: number): ContendParams {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new ContendParamError('(params)', 'must be an object');
  const raw = input as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (!FIELDS.has(key)) throw new ContendParamError(key, `unknown field (known: ${[...FIELDS].join(', ')})`);
  }
  if (raw.tasks === undefined) throw new ContendParamError('tasks', 'is required');
  const p = { ...CONTEND_DEFAULTS, ...raw } as Record<string, unknown>;

  const int = (field: string, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const v = p[field];
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new ContendParamError(field, `must be an integer, got ${JSON.stringify(v)}`);
    if (v < min) throw new ContendParamError(field, min === 1 ? `must be at least 1, got ${v}` : `must be >= ${min}, got ${v}`);
    if (v > max) throw new ContendParamError(field, `must be <= ${max}, got ${v}`);
    return v;
  };
  const ns = (field: string, positive = false): number => {
    const v = p[field];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new ContendParamError(field, `must be a finite number of simulated ns, got ${JSON.stringify(v)}`);
    if (v < 0) throw new ContendParamError(field, `must not be negative, got ${v}`);
    if (positive && v === 0) throw new ContendParamError(field, 'must be greater than 0');
    return v;
  };
  const fraction = (field: string): number => {
    const v = p[field];
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new ContendParamError(field, `must be a probability in [0, 1], got ${JSON.stringify(v)}`);
    return v;
  };

  const tasks = int('tasks', 1, CONTEND_MAX_TASKS);
  const hotFolios = int('hotFolios', 0);
  const coldFolios = int('coldFolios', 0);
  if (hotFolios + coldFolios === 0) throw new ContendParamError('hotFolios', 'hotFolios + coldFolios must be at least 1');
  if (nrFolios !== undefined) {
    if (hotFolios > nrFolios) throw new ContendParamError('hotFolios', `${hotFolios} hot folios but the host has only ${nrFolios} folios`);
    if (hotFolios + coldFolios > nrFolios)
      throw new ContendParamError('coldFolios', `${hotFolios} hot + ${coldFolios} cold folios but the host has only ${nrFolios} folios`);
  }
  const pattern = p.pattern;
  if (typeof pattern !== 'string' || !(CONTEND_PATTERNS as readonly string[]).includes(pattern))
    throw new ContendParamError('pattern', `must be one of ${CONTEND_PATTERNS.join(', ')}, got ${JSON.stringify(pattern)}`);
  const maxOps = p.maxOpsPerTask;
  if (maxOps !== null && (typeof maxOps !== 'number' || !Number.isInteger(maxOps) || maxOps < 1))
    throw new ContendParamError('maxOpsPerTask', `must be an integer >= 1 or null, got ${JSON.stringify(maxOps)}`);
  let hotFraction = fraction('hotFraction');
  if (hotFolios === 0) hotFraction = 0;
  else if (coldFolios === 0) hotFraction = 1;

  const out: ContendParams = {
    tasks,
    hotFolios,
    coldFolios,
    hotFraction,
    holdTime: ns('holdTime'),
    thinkTime: ns('thinkTime'),
    ioLatency: ns('ioLatency'),
    walkCost: ns('walkCost'),
    wakeLatency: ns('wakeLatency'),
    duration: ns('duration', true),
    pattern: pattern as ContendPattern,
    mixRatio: fraction('mixRatio'),
    truncateRate: fraction('truncateRate'),
    migrateInterval: ns('migrateInterval', true),
    evictInterval: ns('evictInterval', true),
    maxOpsPerTask: maxOps as number | null,
    folioOrder: int('folioOrder', 0, 18),
    pageLockUnfairness: int('pageLockUnfairness', 0, 1000),
    seed: int('seed', 0, 0xffffffff),
  };
  // With neither a hold time nor a think time an operation takes no simulated time: the clock would
  // never reach `duration` and the run would not end.
  if (out.holdTime === 0 && out.thinkTime === 0 && out.maxOpsPerTask === null)
    throw new ContendParamError('holdTime', 'holdTime and thinkTime are both 0, so no operation takes simulated time and the run never reaches its duration: give one of them a time, or set maxOpsPerTask');
  if (out.pattern === 'migrate' && out.hotFolios === 0) throw new ContendParamError('hotFolios', 'the migrate pattern needs at least one hot folio to migrate');
  if (out.pattern === 'read' && out.hotFolios === 0) throw new ContendParamError('hotFolios', 'the read pattern needs at least one hot folio to evict');
  return out;
}
