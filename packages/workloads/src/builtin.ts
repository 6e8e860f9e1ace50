/**
 * The built-in workloads: the YAML files shipped in the package's workloads/ directory, plus the cow.c
 * matrix cells from cowMatrix(). Each has a description paragraph and the source it models.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cowCell, cowCellDrafts, cowCellYaml, type CowCell, type CowCellTag } from './cow-matrix.js';
import { WorkloadError } from './errors.js';
import { parseWorkload } from './parse.js';
import type { Workload, WorkloadKind } from './types.js';
import { validateWorkload } from './validate.js';

/** packages/workloads/workloads/, from src/ and from dist/ alike. */
const WORKLOADS_DIR = fileURLToPath(new URL('../workloads/', import.meta.url));

export interface BuiltinInfo {
  name: string;
  kind: WorkloadKind;
  description: string;
  source: string;
  /** Handler calls a run makes. */
  steps: number;
  /** Present for cow.c matrix cells. */
  cell?: CowCellTag;
}

let files: Map<string, Workload> | null = null;

function builtin_files(): Map<string, Workload> {
  if (!files) {
    files = new Map();
    for (const entry of readdirSync(WORKLOADS_DIR).sort()) {
      if (!entry.endsWith('.yaml')) continue;
      const w = parseWorkload(readFileSync(WORKLOADS_DIR + entry, 'utf8'), `workloads/${entry}`);
      if (`${w.name}.yaml` !== entry) throw new WorkloadError(w.pos, 'name', `built-in "${entry}" must be named "${entry.slice(0, -5)}"`);
      files.set(w.name, w);
    }
  }
  return files;
}

function info(w: Workload, cell?: CowCellTag): BuiltinInfo {
  const v = validateWorkload(w);
  const out: BuiltinInfo = { name: w.name, kind: v.kind, description: w.description ?? '', source: w.source ?? '', steps: v.steps };
  if (cell) out.cell = cell;
  return out;
}

/** Every built-in, files first (sorted by name), then the cow.c matrix cells. */
export function builtinWorkloads(): BuiltinInfo[] {
  const cells = cowCellDrafts().map(
    (d): BuiltinInfo => ({ name: d.name, kind: 'mapcount', description: d.description, source: d.source, steps: d.raw.steps.length, cell: d.cell }),
  );
  return [...[...builtin_files().values()].map((w) => info(w)), ...cells];
}

export function builtinNames(): string[] {
  return [...builtin_files().keys(), ...cowCellDrafts().map((c) => c.name)];
}

export function isBuiltin(name: string): boolean {
  return builtin_files().has(name) || cowCellDrafts().some((c) => c.name === name);
}

/** A built-in by name (a cow.c cell comes back as a CowCell with its `cell` tag). */
export function loadBuiltin(name: string): Workload | CowCell {
  const w = builtin_files().get(name) ?? cowCell(name);
  if (!w) throw new WorkloadError({ file: name }, '', `is not a built-in workload (see \`foliolab workloads\`; e.g. ${DEFAULT_SUITE.slice(0, 3).join(', ')})`);
  return w;
}

/**
 * What `foliolab` with no arguments runs: one or two workloads per situation the design argues about, plus
 * the whole cow.c matrix (its cells are 4 KiB to 2 MiB and run in milliseconds). Kept to the small
 * calibration sizes so the full suite under every policy fits the 60 s budget on 2 cores.
 */
export const DEFAULT_SUITE: readonly string[] = [
  'thp-fork-partial',
  'postgres-fork-cow',
  'thp-partial-dontneed',
  'mremap-realloc',
  'seed004-aligned-pmd',
  'seed004-pt-boundary',
  'mmid-615-exclusive',
  'mmid-615-maybe-shared',
  'cow.*',
  'seq-write-64m',
  'cold-read-1m',
  'cold-seq-read-64m',
  'rand-overwrite-cached',
  'small-files',
  'fs-large-folio-overwrite',
  'pagewait-numa-storm-2017',
  'pagewait-bdev-readers-2024',
  'pagewait-file-server',
];

/** DEFAULT_SUITE with `cow.*` expanded to every cell's name. */
export function defaultSuite(): string[] {
  return DEFAULT_SUITE.flatMap((n) => (n === 'cow.*' ? cowCellDrafts().map((c) => c.name) : [n]));
}

/** The text of a built-in as its positions refer to it: the shipped YAML file, or a cow.c cell's generated YAML. */
export function builtinText(name: string): { file: string; text: string } {
  if (builtin_files().has(name)) return { file: `workloads/${name}.yaml`, text: readFileSync(`${WORKLOADS_DIR}${name}.yaml`, 'utf8') };
  const text = cowCellYaml(name);
  if (text === undefined) return loadBuiltin(name) as never; // throws the "is not a built-in" error
  return { file: `cow-matrix/${name}.yaml`, text };
}
