/**
 * Text → Workload. YAML and JSON go through the same YAML 1.2 parser (JSON is a subset) with a LineCounter,
 * so every node, key and value has a line and column; `.json` files are first held to strict JSON.
 * Every failure is a WorkloadError `file:line:column: field: reason`; the first problem wins.
 */
import { readFile } from 'node:fs/promises';
import { Document, LineCounter, isMap, isPair, isScalar, isSeq, parseDocument, type Node as YamlNode } from 'yaml';
import type { z } from 'zod';
import { WorkloadError, type SourcePos } from './errors.js';
import { MACHINE_SCHEMA, NO_ARG_OPS, OPS, STEP_SCHEMAS, WORKLOAD_SCHEMA, schema_keys } from './schema.js';
import { machine_rules, step_rules } from './step-rules.js';
import type { MachineSpec, Op, Step, Workload } from './types.js';

export type Path = (string | number)[];

export function path_format(path: Path): string {
  let s = '';
  for (const seg of path) s += typeof seg === 'number' ? `[${seg}]` : s === '' ? seg : `.${seg}`;
  return s;
}

/** Positions of nodes in one parsed document. */
class SourceIndex {
  constructor(
    readonly file: string,
    private readonly doc: Document | null,
    private readonly lc: LineCounter,
  ) {}

  pos_offset(offset: number): SourcePos {
    const { line, col } = this.lc.linePos(offset);
    return { file: this.file, line, column: col };
  }

  /**
   * Position of the node at `path`, or of its key (`at: 'key'`) when the last segment is a map key. A path
   * that goes past what exists resolves to the deepest node that does (a missing field → its mapping).
   */
  pos(path: Path, at: 'value' | 'key' = 'value'): SourcePos {
    if (!this.doc) return { file: this.file, line: 1, column: 1 };
    let node: unknown = this.doc.contents;
    let best: YamlNode | null = (node as YamlNode | null) ?? null;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i]!;
      const last = i === path.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) break;
        const key = pair.key as YamlNode;
        if (last && at === 'key') {
          best = key;
          break;
        }
        node = pair.value;
        best = (pair.value as YamlNode | null) ?? key;
        if (pair.value === null) break;
      } else if (isSeq(node) && typeof seg === 'number') {
        const item = node.items[seg];
        if (item === undefined) break;
        node = item;
        best = item as YamlNode;
      } else break;
    }
    const range = best?.range;
    return range ? this.pos_offset(range[0]) : { file: this.file, line: 1, column: 1 };
  }

  error(path: Path, reason: string, at: 'value' | 'key' = 'value'): WorkloadError {
    return new WorkloadError(this.pos(path, at), path_format(path), reason);
  }
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}

const EXPECTED: Record<string, string> = { string: 'a string', number: 'a number', boolean: 'true or false', array: 'a list', object: 'a mapping' };

/** The first zod issue as a WorkloadError at its node. `keysOf` names the known fields for unknown-key errors. */
function issue_error(src: SourceIndex, base: Path, issue: z.core.$ZodIssue, value: unknown, keysOf: (p: Path) => string[]): WorkloadError {
  const path = [...base, ...(issue.path as (string | number)[])];
  let input: unknown = value;
  for (const seg of issue.path) input = input != null && typeof input === 'object' ? (input as Record<PropertyKey, unknown>)[seg as PropertyKey] : undefined;
  switch (issue.code) {
    case 'unrecognized_keys': {
      const key = issue.keys[0]!;
      const known = keysOf(path);
      const hint = did_you_mean(key, known);
      return src.error([...path, key], `unknown field${hint}${known.length ? ` (fields: ${known.join(', ')})` : ''}`, 'key');
    }
    case 'invalid_type':
      if (input === undefined) return src.error(path, 'is required');
      if (issue.expected === 'int') return src.error(path, `must be a whole number, got ${describe(input)}`);
      return src.error(path, `must be ${EXPECTED[issue.expected] ?? issue.expected}, got ${describe(input)}`);
    case 'invalid_value':
      return src.error(path, `must be one of ${issue.values.map((v) => String(v)).join(', ')}, got ${describe(input)}`);
    case 'too_small':
      if (issue.origin === 'array') return src.error(path, `must have at least ${issue.minimum} item${issue.minimum === 1 ? '' : 's'}`);
      if (issue.origin === 'string') return src.error(path, 'must not be empty');
      return src.error(path, `must be at least ${issue.minimum}, got ${describe(input)}`);
    case 'too_big':
      if (issue.origin === 'string') return src.error(path, `is longer than ${issue.maximum} characters`);
      return src.error(path, `must be at most ${issue.maximum}, got ${describe(input)}`);
    case 'invalid_format':
      return src.error(path, `${issue.message ?? 'bad format'}, got ${describe(input)}`);
    default:
      return src.error(path, issue.message);
  }
}

function levenshtein(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length]!;
}

function did_you_mean(word: string, known: readonly string[]): string {
  let best = '';
  let dist = Infinity;
  for (const k of known) {
    const d = levenshtein(word.toLowerCase(), k.toLowerCase());
    if (d < dist) [best, dist] = [k, d];
  }
  return best && dist <= Math.max(1, Math.floor(word.length / 3)) ? ` (did you mean "${best}"?)` : '';
}

function is_plain_object(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function schema_parse<S extends z.ZodType>(src: SourceIndex, schema: S, value: unknown, base: Path, keysOf: (p: Path) => string[]): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw issue_error(src, base, r.error.issues[0]!, value, keysOf);
  return r.data;
}

function step_parse(src: SourceIndex, raw: unknown, path: Path): Step {
  if (!is_plain_object(raw)) throw src.error(path, `must be one operation like \`- spawn: { proc: p }\`, got ${describe(raw)}`);
  const keys = Object.keys(raw);
  if (keys.length === 0) throw src.error(path, 'is empty; a step is one operation like `- spawn: { proc: p }`');
  if (keys.length > 1) throw src.error([...path, keys[1]!], `has ${keys.length} operations (${keys.join(', ')}); give each its own "- " item`, 'key');
  const op = keys[0]!;
  if (!(OPS as string[]).includes(op)) throw src.error([...path, op], `unknown operation "${op}"${did_you_mean(op, OPS)} (operations: ${OPS.join(', ')})`, 'key');
  const argPath = [...path, op];
  let rawArgs = raw[op];
  if (rawArgs === null && NO_ARG_OPS.has(op)) rawArgs = {};
  if (!is_plain_object(rawArgs)) throw src.error(argPath, `must be a mapping of fields like { ${schema_keys(STEP_SCHEMAS[op as Op]).slice(0, 2).map((k) => `${k}: …`).join(', ')} }, got ${describe(rawArgs)}`);
  const schema = STEP_SCHEMAS[op as Op];
  const args = schema_parse(src, schema, rawArgs, argPath, () => schema_keys(schema)) as Step['args'];
  const violation = step_rules(op as Op, args as never);
  if (violation) {
    const fieldPath = [...argPath, ...violation.field.split('.').flatMap((s) => s.split(/\[(\d+)\]/).filter(Boolean).map((x) => (/^\d+$/.test(x) ? Number(x) : x)))];
    throw src.error(fieldPath, violation.reason);
  }
  const fields: Record<string, SourcePos> = {};
  for (const k of Object.keys(rawArgs)) fields[k] = src.pos([...argPath, k]);
  if (op === 'repeat') {
    const rawSteps = (rawArgs as { steps: unknown[] }).steps;
    const steps = rawSteps.map((s, i) => step_parse(src, s, [...argPath, 'steps', i]));
    return { op: 'repeat', args: { times: (args as { times: number }).times, steps }, pos: src.pos([...path, op], 'key'), path: path_format(argPath), fields };
  }
  return { op, args, pos: src.pos([...path, op], 'key'), path: path_format(argPath), fields } as Step;
}

/** `.json` input must be strict JSON; the YAML parser would accept more. Returns the error position, if any. */
function json_check(text: string, file: string): WorkloadError | null {
  try {
    JSON.parse(text);
    return null;
  } catch (e) {
    const msg = (e as Error).message;
    const m = /at position (\d+)/.exec(msg);
    const offset = m ? Number(m[1]) : text.length;
    const lc = new LineCounter();
    lc.addNewLine(0);
    for (let i = 0; i < text.length; i++) if (text[i] === '\n') lc.addNewLine(i + 1);
    const { line, col } = lc.linePos(offset);
    return new WorkloadError({ file, line, column: col }, '', `invalid JSON: ${msg.replace(/ in JSON at position \d+.*$/, '')}`);
  }
}

/** Parse a workload from YAML or JSON text. `fileName` names the source in errors (its extension picks strict JSON). */
export function parseWorkload(text: string, fileName: string): Workload {
  if (text.trim() === '') throw new WorkloadError({ file: fileName, line: 1, column: 1 }, '', 'is empty; a workload needs name, machine and steps');
  if (/\.json$/i.test(fileName)) {
    const err = json_check(text, fileName);
    if (err) throw err;
  }
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true, strict: true });
  const src = new SourceIndex(fileName, doc, lc);
  const yerr = doc.errors[0];
  if (yerr) {
    const reason = yerr.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new WorkloadError(src.pos_offset(yerr.pos[0]), '', `invalid YAML: ${reason}`);
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    throw new WorkloadError(src.pos([]), '', `invalid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!is_plain_object(value)) throw src.error([], `must be a mapping with name, machine and steps, got ${describe(value)}`);
  const top = schema_parse(src, WORKLOAD_SCHEMA, value, [], () => schema_keys(WORKLOAD_SCHEMA));
  if (!is_plain_object(top.machine)) throw src.error(['machine'], top.machine === undefined ? 'is required' : `must be a mapping like { memory: 1GiB, thp: madvise, seed: 1 }, got ${describe(top.machine)}`);
  const machine: MachineSpec = schema_parse(src, MACHINE_SCHEMA, top.machine, ['machine'], () => schema_keys(MACHINE_SCHEMA));
  const mv = machine_rules(machine);
  if (mv) throw src.error(['machine', ...mv.field.split(/[.[\]]/).filter(Boolean).map((x) => (/^\d+$/.test(x) ? Number(x) : x))], mv.reason);
  const steps = top.steps.map((s, i) => step_parse(src, s, ['steps', i]));
  const w: Workload = { name: top.name, machine, steps, file: fileName, pos: src.pos([]) };
  if (top.description !== undefined) w.description = top.description;
  if (top.source !== undefined) w.source = top.source;
  return w;
}

/** Read and parse a workload file; an unreadable file is a WorkloadError naming it. */
export async function loadWorkload(path: string): Promise<Workload> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : (code ?? (e as Error).message);
    throw new WorkloadError({ file: path }, '', `cannot read: ${why}`);
  }
  return parseWorkload(text, path);
}
