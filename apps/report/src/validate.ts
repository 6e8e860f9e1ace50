import { ReportError } from './errors.js';
import { COMPARE_SCHEMA, RUN_KINDS, RUN_STATUSES } from './types.js';
import type { CompareResult } from './types.js';

type Obj = Record<string, unknown>;

const is_obj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks the shape the renderer relies on (not every field of every observe record) and returns the
 * value typed. Throws ReportError with one line: `<source>: <field path>: <reason>`.
 */
export function validateCompareResult(value: unknown, source = 'result'): CompareResult {
  const fail = (path: string, why: string): never => {
    throw new ReportError(`${source}: ${path}: ${why}`);
  };
  const obj = (v: unknown, path: string): Obj => (is_obj(v) ? v : fail(path, `expected an object, got ${describe(v)}`));
  const str = (v: unknown, path: string): string => (typeof v === 'string' ? v : fail(path, `expected a string, got ${describe(v)}`));
  const num = (v: unknown, path: string): number => (typeof v === 'number' && Number.isFinite(v) ? v : fail(path, `expected a finite number, got ${describe(v)}`));
  const bool = (v: unknown, path: string): boolean => (typeof v === 'boolean' ? v : fail(path, `expected true or false, got ${describe(v)}`));
  const arr = (v: unknown, path: string): unknown[] => (Array.isArray(v) ? v : fail(path, `expected an array, got ${describe(v)}`));
  const one_of = <T extends string>(v: unknown, allowed: readonly T[], path: string): T =>
    (allowed as readonly unknown[]).includes(v) ? (v as T) : fail(path, `${JSON.stringify(v)} is not one of ${allowed.join(', ')}`);
  const strings = (v: unknown, path: string): void => {
    for (const [k, x] of Object.entries(obj(v, path))) str(x, `${path}.${k}`);
  };

  const r = obj(value, '(top level)');
  if (r.schema !== COMPARE_SCHEMA) fail('schema', `expected "${COMPARE_SCHEMA}", got ${describe(r.schema)} (not a foliolab compare result, or a version this report does not read)`);
  str(r.generatedAt, 'generatedAt');
  num(r.seed, 'seed');
  num(r.memory, 'memory');
  strings(r.versions, 'versions');
  const host = obj(r.host, 'host');
  str(host.node, 'host.node');
  str(host.kernel, 'host.kernel');
  const baseline = obj(r.baseline, 'baseline');
  for (const k of ['layout', 'mapcount', 'pagewait', 'fs']) str(baseline[k], `baseline.${k}`);

  arr(r.runs, 'runs').forEach((x, i) => {
    const p = `runs[${i}]`;
    const run = obj(x, p);
    if (str(run.workload, `${p}.workload`) === '') fail(`${p}.workload`, 'is empty');
    one_of(run.kind, RUN_KINDS, `${p}.kind`);
    one_of(run.status, RUN_STATUSES, `${p}.status`);
    strings(run.composition, `${p}.composition`);
    for (const k of Object.keys(run.composition as Obj)) one_of(k, ['layout', 'mapcount', 'pagewait', 'fs'], `${p}.composition key`);
    if (run.reason !== undefined) str(run.reason, `${p}.reason`);
    num(run.durationMs, `${p}.durationMs`);
    if (run.seed !== undefined) num(run.seed, `${p}.seed`);
    for (const [k, v] of Object.entries(obj(run.metrics, `${p}.metrics`))) num(v, `${p}.metrics["${k}"]`);
    if (run.distributions !== undefined) {
      for (const [k, d] of Object.entries(obj(run.distributions, `${p}.distributions`))) {
        arr(d, `${p}.distributions["${k}"]`).forEach((pair, j) => {
          const q = `${p}.distributions["${k}"][${j}]`;
          const a = arr(pair, q);
          if (a.length !== 2) fail(q, `expected a [value, count] pair, got ${a.length} elements`);
          num(a[0], `${q}[0]`);
          if (num(a[1], `${q}[1]`) < 0) fail(`${q}[1]`, 'a count cannot be negative');
        });
      }
    }
    if (run.observe !== undefined) arr(run.observe, `${p}.observe`);
  });

  if (r.memmap !== undefined) {
    const m = obj(r.memmap, 'memmap');
    str(m.source, 'memmap.source');
    num(m.pfns, 'memmap.pfns');
    arr(m.layouts, 'memmap.layouts').forEach((x, i) => {
      const p = `memmap.layouts[${i}]`;
      const l = obj(x, p);
      str(l.name, `${p}.name`);
      num(l.bytes, `${p}.bytes`);
      num(l.percent, `${p}.percent`);
      for (const [k, v] of Object.entries(obj(l.byType, `${p}.byType`))) num(v, `${p}.byType.${k}`);
    });
  }
  if (r.cowMatrix !== undefined) {
    arr(r.cowMatrix, 'cowMatrix').forEach((x, i) => {
      const p = `cowMatrix[${i}]`;
      const row = obj(x, p);
      str(row.case, `${p}.case`);
      str(row.backing, `${p}.backing`);
      for (const [pol, res] of Object.entries(obj(row.results, `${p}.results`))) {
        const q = `${p}.results["${pol}"]`;
        const o = obj(res, q);
        bool(o.leak, `${q}.leak`);
        bool(o.stalePin, `${q}.stalePin`);
        if (o.status !== undefined) one_of(o.status, RUN_STATUSES, `${q}.status`);
        if (o.reason !== undefined) str(o.reason, `${q}.reason`);
      }
    });
  }
  return value as CompareResult;
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing (missing)';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}
