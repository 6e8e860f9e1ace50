/**
 * Validation of workloads given as JSON (--plan FILE): the same Step shape the built-ins expand to.
 * Every error names the file and the field, and exits 2.
 */
import { readFileSync } from 'node:fs';
import { ProbeError } from './host.js';
import { FILE_STEP_OPS, STEP_OPS, type Step, type WorkloadPlan } from './workloads.js';

const PATH_RE = /^[A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+)*$/;

function fail(where: string, why: string): never {
  throw new ProbeError(`${where}: ${why}`, 2);
}

function int_field(v: unknown, where: string, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) fail(where, `must be an integer in [0, ${max}]`);
  return v;
}

function path_field(v: unknown, where: string): string {
  if (typeof v !== 'string' || !PATH_RE.test(v) || v.split('/').some((p) => p === '..' || p === '.')) {
    fail(where, 'must be a relative path of [A-Za-z0-9._-] components without "." or ".."');
  }
  return v;
}

export function step_validate(raw: unknown, where: string): Step {
  if (typeof raw !== 'object' || raw === null) fail(where, 'must be an object');
  const s = raw as Record<string, unknown>;
  const op = s['op'];
  if (typeof op !== 'string' || !(STEP_OPS as readonly string[]).includes(op)) fail(`${where}.op`, `unknown operation ${JSON.stringify(op)} (known: ${STEP_OPS.join(', ')})`);
  switch (op) {
    case 'open': {
      const mode = s['mode'];
      if (mode !== 'create' && mode !== 'rw' && mode !== 'read') fail(`${where}.mode`, 'must be create, rw or read');
      return { op, slot: int_field(s['slot'], `${where}.slot`, 63), path: path_field(s['path'], `${where}.path`), mode };
    }
    case 'pwrite':
    case 'pread': {
      const length = int_field(s['length'], `${where}.length`, 1 << 30);
      if (length === 0) fail(`${where}.length`, 'must be > 0');
      return { op, slot: int_field(s['slot'], `${where}.slot`, 63), offset: int_field(s['offset'], `${where}.offset`), length };
    }
    case 'fsync':
    case 'close':
      return { op, slot: int_field(s['slot'], `${where}.slot`, 63) };
    case 'sync':
    case 'drop_caches':
      return { op };
    default:
      return { op: op as 'syncfs', path: path_field(s['path'], `${where}.path`) };
  }
}

/** Builds a WorkloadPlan from parsed JSON; `file` names the source in messages. */
export function plan_from_json(json: unknown, file: string): WorkloadPlan {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail(file, 'must be a JSON object');
  const o = json as Record<string, unknown>;
  const name = o['name'];
  if (typeof name !== 'string' || !/^[a-z0-9][a-z0-9-]*$/.test(name)) fail(`${file}: name`, 'must match [a-z0-9][a-z0-9-]*');
  const seed = o['seed'] === undefined ? 1 : int_field(o['seed'], `${file}: seed`, 0xffffffff);
  const list = (key: string, required: boolean): unknown[] => {
    const v = o[key];
    if (v === undefined && !required) return [];
    if (!Array.isArray(v)) fail(`${file}: ${key}`, 'must be an array of steps');
    return v;
  };
  const prepare = list('prepare', false).map((s, i) => step_validate(s, `${file}: prepare[${i}]`));
  const traced = list('traced', true).map((s, i) => step_validate(s, `${file}: traced[${i}]`));
  if (!traced.some((s) => FILE_STEP_OPS.has(s.op))) {
    fail(`${file}: traced`, `has no file steps (needs at least one of ${[...FILE_STEP_OPS].join(', ')})`);
  }
  const opened = [...new Set(traced.filter((s): s is Extract<Step, { op: 'open' }> => s.op === 'open').map((s) => s.path))];
  const files = o['files'] === undefined ? opened : list('files', true).map((p, i) => path_field(p, `${file}: files[${i}]`));
  if (files.length === 0) fail(`${file}: files`, 'no data files: open a file in traced or list files');
  let write_bytes = 0;
  let read_bytes = 0;
  for (const s of traced) {
    if (s.op === 'pwrite') write_bytes += s.length;
    if (s.op === 'pread') read_bytes += s.length;
  }
  return { name, seed, prepare, traced, files, cold_files: [], expect: { write_bytes, read_bytes } };
}

export function plan_load(file: string): WorkloadPlan {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    fail(file, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    fail(file, `invalid JSON: ${(e as Error).message}`);
  }
  return plan_from_json(json, file);
}
