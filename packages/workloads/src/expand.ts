/**
 * What the runner and the validator share about expansion: `{i}` names, offsets drawn from the workload's
 * offset stream, `chunk`ed reads and writes, and the step budget.
 */
import type { Prng } from './prng.js';
import type { OffsetSpec, RandomOffset } from './types.js';

/** Expanded steps (handler calls) one workload may make; a typo like `times: 100000000` is an error, not a hang. */
export const MAX_EXPANDED_STEPS = 20_000_000;

/** Replaces `{i}` with the innermost repeat's iteration index (0-based); names outside a repeat keep `{i}` as-is. */
export function name_resolve(name: string, iteration: number | undefined): string {
  return iteration === undefined || !name.includes('{i}') ? name : name.replaceAll('{i}', String(iteration));
}

export function offset_resolve(o: OffsetSpec, offsets: Prng): number {
  return typeof o === 'number' ? o : offsets.nextBelow(Math.floor(o.random / o.align)) * o.align;
}

/** Largest offset a `{ random }` can draw. */
export function offset_max(o: OffsetSpec): number {
  return typeof o === 'number' ? o : (Math.floor(o.random / o.align) - 1) * o.align;
}

export function is_random(o: OffsetSpec): o is RandomOffset {
  return typeof o !== 'number';
}

/** Number of handler calls a read/write makes: one per `chunk` (the last may be short). */
export function chunk_count(size: number, chunk: number | undefined): number {
  return chunk === undefined ? 1 : Math.ceil(size / chunk);
}
