import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MachineError } from './machine.js';
import { FS_BACKENDS, MAPCOUNT_POLICIES, PAGEWAIT_POLICIES, type ChoiceKind, type RegistryEntry } from './registry.js';

/** The methods each kind of policy must have (the interfaces of @foliolab/vm, pagewait and pagecache). */
export const REQUIRED_METHODS: Record<ChoiceKind, readonly string[]> = {
  mapcount: [
    'declare', 'attach', 'folio_add_new_anon_rmap', 'folio_add_rmap_ptes', 'folio_remove_rmap_ptes', 'folio_dup_rmap_ptes',
    'folio_add_rmap_pmd', 'folio_remove_rmap_pmd', 'folio_dup_rmap_pmd', 'folio_split_pmd', 'folio_move_ptes', 'folio_move_pmd',
    'folio_mapcount', 'page_mapcount', 'folio_mapped', 'folio_maybe_mapped_shared', 'folio_partially_mapped',
    'wp_can_reuse_large', 'pte_maybe_shared', 'smaps_page',
  ],
  pagewait: ['bind', 'enqueue', 'wake', 'mappingRead', 'mappingIdentity', 'mappingWrite', 'staticTableBytes', 'attachedBytes', 'peakAttachedBytes', 'queueLengths'],
  fs: [],
};

const OPTION: Record<ChoiceKind, string> = { mapcount: '--mapcount', pagewait: '--pagewait', fs: '--fs' };

function load_error(kind: ChoiceKind, spec: string, e: unknown): MachineError {
  return new MachineError(OPTION[kind], `${spec}: cannot be loaded (${((e as Error).message ?? String(e)).split('\n')[0]})`);
}

let tsxRegistered = false;

/** Register tsx's ESM and CommonJS loaders in this thread, once. */
async function typescript_register(): Promise<void> {
  if (tsxRegistered) return;
  tsxRegistered = true;
  const esm = (await import('tsx/esm/api')) as { register: () => unknown };
  const cjs = (await import('tsx/cjs/api')) as { register: () => unknown };
  esm.register();
  cjs.register();
}

/** A policy given as a path or a package name rather than a registered name. */
export function is_external_spec(spec: string): boolean {
  return spec.startsWith('.') || spec.startsWith('/') || spec.startsWith('@') || /\.[cm]?[jt]s$/.test(spec);
}

function list_of(kind: ChoiceKind): RegistryEntry<unknown>[] {
  return (kind === 'mapcount' ? MAPCOUNT_POLICIES : kind === 'pagewait' ? PAGEWAIT_POLICIES : FS_BACKENDS) as RegistryEntry<unknown>[];
}

/** Check an instance against its interface; the error names the first missing method. */
export function policy_check(kind: ChoiceKind, spec: string, obj: unknown): void {
  if (obj === null || typeof obj !== 'object') throw new MachineError(OPTION[kind], `${spec} did not produce a policy object`);
  const o = obj as Record<string, unknown>;
  if (typeof o.name !== 'string' || o.name.length === 0) throw new MachineError(OPTION[kind], `${spec}: the policy has no name property`);
  for (const m of REQUIRED_METHODS[kind]) {
    if (typeof o[m] !== 'function') throw new MachineError(OPTION[kind], `${spec}: the policy is missing method ${m}()`);
  }
}

/**
 * Load a policy from outside the repository: a file path (.ts files load through tsx's loader, which
 * the CLI registers) or a package name. The module exports `createPolicy(options)` (or a default
 * factory). The policy is checked against its interface, then registered under `spec` so that
 * createMachine({ mapcount: spec }) finds it, in this thread or in a worker that called this too.
 */
export async function register_external(kind: ChoiceKind, spec: string, baseDir = process.cwd()): Promise<string> {
  const list = list_of(kind);
  if (list.some((e) => e.name === spec)) return spec;
  let url: string;
  if (spec.startsWith('.') || spec.startsWith('/') || /\.[cm]?[jt]s$/.test(spec)) {
    const path = isAbsolute(spec) ? spec : resolve(baseDir, spec);
    if (!existsSync(path)) throw new MachineError(OPTION[kind], `${spec}: no such file`);
    url = pathToFileURL(path).href;
  } else url = spec;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw load_error(kind, spec, e);
    // A TypeScript policy under a plain `node` (the installed CLI, a worker thread): load tsx's hooks in
    // this thread, then try again.
    await typescript_register();
    try {
      mod = (await import(url)) as Record<string, unknown>;
    } catch (e2) {
      throw load_error(kind, spec, e2);
    }
  }
  const factory = (mod.createPolicy ?? mod.default) as unknown;
  if (typeof factory !== 'function') throw new MachineError(OPTION[kind], `${spec}: exports neither createPolicy() nor a default factory`);
  const make = () => {
    const f = factory as (o?: unknown) => unknown;
    let p: unknown;
    try {
      p = f({});
    } catch {
      p = new (factory as new (o?: unknown) => unknown)({});
    }
    policy_check(kind, spec, p);
    return p;
  };
  make();
  list.push({ name: spec, package: spec, summary: `loaded from ${spec}`, create: make });
  return spec;
}
