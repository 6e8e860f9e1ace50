/**
 * The runner: drives a target (a map from op name to handler) through a workload's steps in order,
 * expanding `repeat`, resolving `{i}` names, `{ random }` offsets and `chunk`ed reads/writes, so handlers
 * only ever see plain arguments in bytes and ns. It knows nothing of vm, pagecache or pagewait.
 *
 * Determinism: two streams per run, both from the seed (opts.seed ?? machine.seed):
 *  - the offset stream, mulberry32(seed) as-is, drawn once per `{ random }` offset in step order (so the
 *    calibration workloads draw exactly tools/fs-probe's offsets_random(seed, …));
 *  - ctx.prng, prng_derive(seed, 'target'), for handlers that need randomness of their own.
 * Neither depends on wall time or on anything outside the workload and the seed.
 */
import { WorkloadError, type SourcePos } from './errors.js';
import { MAX_EXPANDED_STEPS, name_resolve, offset_resolve } from './expand.js';
import { Prng, mulberry32, prng_derive } from './prng.js';
import type { OpArgs, Step, TargetOp, Workload } from './types.js';
import { validateWorkload } from './validate.js';

export interface ObserveRecord {
  label: string;
  /** Index of the handler call that produced it (0-based over the expanded run). */
  index: number;
  pos: SourcePos;
  data: unknown;
}

export interface MarkRecord {
  label: string;
  /** Handler calls made before the mark. */
  index: number;
  pos: SourcePos;
}

export interface Recorder {
  /** Add an observe record at the current step. */
  record(label: string, data: unknown): void;
}

export interface StepContext {
  /** Index of this handler call over the expanded run (0-based). */
  index: number;
  step: Step;
  pos: SourcePos;
  /** Field path of the step's args, e.g. `steps[2].repeat.steps[0].touch`. */
  path: string;
  /** Iteration index of each enclosing repeat, outermost first ([] outside any repeat). */
  iterations: readonly number[];
  seed: number;
  /** The handlers' own seeded stream (prng_derive(seed, 'target')). */
  prng: Prng;
  recorder: Recorder;
  workload: Workload;
}

export type Handler<O extends TargetOp> = (args: OpArgs[O], ctx: StepContext) => unknown;
/** A target: one handler per op it supports. `observe`'s return value (when not undefined) is recorded. */
export type Target = { [O in TargetOp]?: Handler<O> };

export interface AfterStepInfo<O extends TargetOp = TargetOp> {
  op: O;
  args: OpArgs[O];
  result: unknown;
  ctx: StepContext;
}

export interface RunOptions {
  /** Overrides machine.seed. */
  seed?: number;
  /** Names the target in errors ("target vm has no handler for read"). */
  targetName?: string;
  /** Called after every handler call (debug-vm invariant checks); a throw is reported at that step. */
  afterStep?: (info: AfterStepInfo) => void;
  /** Called at each `mark` step (e.g. to snapshot metrics at the start of a measured window). */
  onMark?: (mark: MarkRecord) => void;
  /** Skip validateWorkload (the caller already ran it). */
  skipValidate?: boolean;
}

export interface RunResult {
  workload: string;
  seed: number;
  /** Handler calls made. */
  steps: number;
  observe: ObserveRecord[];
  marks: MarkRecord[];
  /** Every `{ random }` offset drawn, in order. */
  randomOffsets: number[];
}

function ops_used(steps: readonly Step[], out: Map<string, Step>): Map<string, Step> {
  for (const s of steps) {
    if (s.op === 'repeat') ops_used(s.args.steps, out);
    else if (s.op !== 'mark' && !out.has(s.op)) out.set(s.op, s);
  }
  return out;
}

function error_wrap(e: unknown, step: Step, what: string): WorkloadError {
  if (e instanceof WorkloadError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  const name = e instanceof Error && e.name !== 'Error' ? `${e.name}: ` : '';
  return new WorkloadError(step.pos, step.path, `${what}${name}${msg.split('\n')[0]}`, { cause: e });
}

/** Resolve `{i}` names inside a handler's args (proc, region, child, to, file, name, label, procs). */
function args_resolve(step: Step, it: number | undefined, offsets: Prng, randomOffsets: number[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(step.args as unknown as Record<string, unknown>)) {
    if (typeof v === 'string') out[k] = name_resolve(v, it);
    else if (Array.isArray(v)) out[k] = v.map((x) => (typeof x === 'string' ? name_resolve(x, it) : x));
    else if (k === 'offset' && v !== null && typeof v === 'object') {
      const o = offset_resolve(v as never, offsets);
      randomOffsets.push(o);
      out[k] = o;
    } else out[k] = v;
  }
  return out;
}

/**
 * Run `workload` against `target`. Validates first (unless told not to), then checks that the target
 * handles every op the workload uses, so a run never stops half-way for a missing handler.
 */
export function runWorkload(workload: Workload, target: Target, opts: RunOptions = {}): RunResult {
  if (!opts.skipValidate) validateWorkload(workload);
  const targetName = opts.targetName ?? 'target';
  for (const [op, step] of ops_used(workload.steps, new Map())) {
    if (typeof target[op as TargetOp] !== 'function') {
      const handled = Object.keys(target).filter((k) => typeof target[k as TargetOp] === 'function');
      throw new WorkloadError(step.pos, step.path, `${targetName} has no handler for op "${op}" (it handles: ${handled.join(', ') || 'nothing'})`);
    }
  }
  const seed = (opts.seed ?? workload.machine.seed) >>> 0;
  const offsets = mulberry32(seed);
  const prng = prng_derive(seed, 'target');
  const result: RunResult = { workload: workload.name, seed, steps: 0, observe: [], marks: [], randomOffsets: [] };
  const iterations: number[] = [];
  let current: Step = workload.steps[0]!;

  const recorder: Recorder = {
    record(label, data) {
      result.observe.push({ label, index: result.steps, pos: current.pos, data });
    },
  };

  const call = (step: Step, op: TargetOp, args: Record<string, unknown>): void => {
    if (result.steps >= MAX_EXPANDED_STEPS) throw new WorkloadError(step.pos, step.path, `the workload runs more than ${MAX_EXPANDED_STEPS} steps`);
    current = step;
    const ctx: StepContext = { index: result.steps, step, pos: step.pos, path: step.path, iterations: [...iterations], seed, prng, recorder, workload };
    const handler = target[op] as (a: unknown, c: StepContext) => unknown;
    let value: unknown;
    try {
      value = handler(args, ctx);
    } catch (e) {
      throw error_wrap(e, step, '');
    }
    if (op === 'observe' && value !== undefined) result.observe.push({ label: args['label'] as string, index: ctx.index, pos: step.pos, data: value });
    if (opts.afterStep) {
      try {
        opts.afterStep({ op, args: args as never, result: value, ctx });
      } catch (e) {
        throw error_wrap(e, step, 'after this step: ');
      }
    }
    result.steps++;
  };

  const walk = (steps: readonly Step[]): void => {
    for (const step of steps) {
      const it = iterations.length ? iterations[iterations.length - 1] : undefined;
      switch (step.op) {
        case 'repeat':
          iterations.push(0);
          for (let i = 0; i < step.args.times; i++) {
            iterations[iterations.length - 1] = i;
            walk(step.args.steps);
          }
          iterations.pop();
          break;
        case 'mark': {
          const mark: MarkRecord = { label: name_resolve(step.args.label, it), index: result.steps, pos: step.pos };
          result.marks.push(mark);
          opts.onMark?.(mark);
          break;
        }
        case 'read':
        case 'write': {
          const { chunk, ...rest } = args_resolve(step, it, offsets, result.randomOffsets) as { chunk?: number; offset: number; size: number; file: string };
          if (chunk === undefined) call(step, step.op, rest);
          else for (let done = 0; done < rest.size; done += chunk) call(step, step.op, { file: rest.file, offset: rest.offset + done, size: Math.min(chunk, rest.size - done) });
          break;
        }
        default:
          call(step, step.op, args_resolve(step, it, offsets, result.randomOffsets));
      }
    }
  };
  walk(workload.steps);
  return result;
}
