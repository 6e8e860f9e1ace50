import type { Baseline, CompareResult, CompareRun, CompositionKey, RunKind } from './types.js';

/** The choice a kind is about; its label always names it even when nothing else varies. */
export const KIND_KEY: Record<RunKind, CompositionKey> = { memmap: 'layout', mapcount: 'mapcount', pagewait: 'pagewait', fs: 'fs', mixed: 'mapcount', control: 'layout' };

export const KIND_ORDER: readonly RunKind[] = ['memmap', 'control', 'mapcount', 'mixed', 'pagewait', 'fs'];

const KEY_ORDER: readonly CompositionKey[] = ['layout', 'mapcount', 'pagewait', 'fs'];

/**
 * Labels compositions of one kind: the kind's own choice, then "@ <other choice>" for every other key that
 * takes more than one value among that kind's runs (e.g. "per-page @ memdesc"). Labels are unique per
 * distinct composition because every varying key is in the label.
 */
export class CompositionLabels {
  private readonly varying: CompositionKey[];
  constructor(
    private readonly kind: RunKind,
    runs: readonly CompareRun[],
  ) {
    const seen = new Map<CompositionKey, Set<string>>();
    for (const r of runs) for (const k of KEY_ORDER) {
      if (!seen.has(k)) seen.set(k, new Set());
      seen.get(k)!.add(r.composition[k] ?? '');
    }
    this.varying = KEY_ORDER.filter((k) => k !== KIND_KEY[kind] && (seen.get(k)?.size ?? 0) > 1);
  }

  label(r: CompareRun): string {
    const rest = this.rest(r);
    return rest ? `${this.policy(r)} @ ${rest}` : this.policy(r);
  }

  /** The kind's own choice (the mapcount policy, the wait policy, the fs backend, the layout). */
  policy(r: CompareRun): string {
    return r.composition[KIND_KEY[this.kind]] ?? '(none)';
  }

  /** The other choices that vary, e.g. "memdesc"; '' when nothing else varies. */
  rest(r: CompareRun): string {
    return this.varying.map((k) => r.composition[k] ?? '(none)').join(' · ');
  }
}

/** True when every choice the run names is the baseline's choice. */
export function run_is_baseline(r: CompareRun, baseline: Baseline): boolean {
  return KEY_ORDER.every((k) => r.composition[k] === undefined || r.composition[k] === baseline[k]);
}

/** A kind's runs with one label each and the labels in display order: baseline first, then first appearance. */
export interface KindRuns {
  kind: RunKind;
  runs: CompareRun[];
  labels: string[];
  labelOf: Map<CompareRun, string>;
  baselineLabel: string | undefined;
  /** The kind's own choice per run, and those choices in display order (the baseline's first). */
  policyOf: Map<CompareRun, string>;
  policies: string[];
  baselinePolicy: string;
  /** Chart band per run: the workload, plus the other varying choices ("thp-fork-partial · memdesc"). */
  groupOf: Map<CompareRun, string>;
  groups: string[];
}

export function kind_runs(result: CompareResult, kind: RunKind | readonly RunKind[], keep: (r: CompareRun) => boolean = () => true): KindRuns {
  const kinds: readonly RunKind[] = typeof kind === 'string' ? [kind] : kind;
  const runs = result.runs.filter((r) => kinds.includes(r.kind) && keep(r));
  const main = kinds[0]!;
  const namer = new CompositionLabels(main, runs);
  const labelOf = new Map<CompareRun, string>();
  let baselineLabel: string | undefined;
  const order: string[] = [];
  for (const r of runs) {
    const l = namer.label(r);
    labelOf.set(r, l);
    if (!order.includes(l)) order.push(l);
    if (baselineLabel === undefined && run_is_baseline(r, result.baseline)) baselineLabel = l;
  }
  const labels = baselineLabel === undefined ? order : [baselineLabel, ...order.filter((l) => l !== baselineLabel)];
  const policyOf = new Map(runs.map((r) => [r, namer.policy(r)] as const));
  const groupOf = new Map(runs.map((r) => [r, namer.rest(r) ? `${r.workload} · ${namer.rest(r)}` : r.workload] as const));
  const baselinePolicy = result.baseline[KIND_KEY[main]];
  const seen = [...new Set(policyOf.values())];
  const policies = seen.includes(baselinePolicy) ? [baselinePolicy, ...seen.filter((p) => p !== baselinePolicy)] : seen;
  return { kind: main, runs, labels, labelOf, baselineLabel, policyOf, policies, baselinePolicy, groupOf, groups: [...new Set(groupOf.values())] };
}

/** Workload names in order of first appearance. */
export function workloads_of(runs: readonly CompareRun[]): string[] {
  return [...new Set(runs.map((r) => r.workload))];
}

/** cow.c matrix cells are workloads named cow.<case>.<backing> (@foliolab/workloads); the grid shows them. */
export function workload_is_cow_cell(name: string): boolean {
  return name.startsWith('cow.');
}
