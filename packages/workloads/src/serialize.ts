/**
 * Workload → YAML (or a plain object for JSON) in the file format, sizes and times spelled with units.
 * parseWorkload(stringifyWorkload(w)) gives back w (positions aside): the property test holds it to that.
 */
import { Document, isMap, isSeq, YAMLMap } from 'yaml';
import type { MachineSpec, Step, Workload } from './types.js';
import { size_format, time_format } from './units.js';

const SIZE_FIELDS = new Set(['offset', 'size', 'align', 'fileOffset', 'newSize', 'chunk', 'random', 'memory', 'blockSize', 'folioMax']);
const TIME_FIELDS = new Set(['holdTime', 'ioLatency', 'duration', 'thinkTime', 'walkCost', 'wakeLatency', 'migrateInterval', 'evictInterval']);

function value_out(key: string, v: unknown): unknown {
  if (typeof v === 'number' && SIZE_FIELDS.has(key)) return v === 0 ? 0 : size_format(v);
  if (typeof v === 'number' && TIME_FIELDS.has(key)) return time_format(v);
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) return fields_out(v as Record<string, unknown>);
  return v;
}

function fields_out(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = value_out(k, v);
  return out;
}

export function step_to_object(step: Step): Record<string, unknown> {
  if (step.op === 'repeat') return { repeat: { times: step.args.times, steps: step.args.steps.map(step_to_object) } };
  return { [step.op]: fields_out(step.args as unknown as Record<string, unknown>) };
}

function machine_to_object(m: MachineSpec): Record<string, unknown> {
  const out = fields_out(m as unknown as Record<string, unknown>);
  out['mthp'] = m.mthp.map(size_format);
  return out;
}

/** The workload as the plain object a JSON or YAML file holds. */
export function workload_to_object(w: Pick<Workload, 'name' | 'description' | 'source' | 'machine' | 'steps'>): Record<string, unknown> {
  const out: Record<string, unknown> = { name: w.name };
  if (w.description !== undefined) out['description'] = w.description;
  if (w.source !== undefined) out['source'] = w.source;
  out['machine'] = machine_to_object(w.machine);
  out['steps'] = w.steps.map(step_to_object);
  return out;
}

/** YAML with one line per step: `- touch: { proc: p, region: A, offset: 0B, size: 2MiB, write: true }`. */
export function stringifyWorkload(w: Pick<Workload, 'name' | 'description' | 'source' | 'machine' | 'steps'>): string {
  return object_to_yaml(workload_to_object(w));
}

/** A workload in file form (plain object) as YAML, each step's fields on one line. */
export function object_to_yaml(o: Record<string, unknown>): string {
  const doc = new Document(o);
  const flowSteps = (seq: unknown): void => {
    if (!isSeq(seq)) return;
    for (const item of seq.items) {
      if (!isMap(item)) continue;
      const pair = item.items[0];
      const args = pair?.value;
      if (!(args instanceof YAMLMap)) continue;
      const nested = args.get('steps', true);
      if (isSeq(nested)) flowSteps(nested);
      else args.flow = true;
    }
  };
  flowSteps(doc.get('steps', true));
  const machine = doc.get('machine', true);
  if (isMap(machine)) machine.flow = true;
  return doc.toString({ lineWidth: 0 });
}
