/** foliolab/compare@1: the result file of `foliolab compare` (see the package README). */

export type RunKind = 'mapcount' | 'fs' | 'pagewait' | 'memmap' | 'mixed' | 'control';
export type RunStatus = 'ok' | 'refused' | 'failed' | 'oom';

export interface Composition {
  layout: string;
  mapcount?: string;
  pagewait?: string;
  fs?: string;
}

/** Observe records are the vm's (`foliolab/run@1` shape). */
import type { ObservedPage, ObserveRecord } from '@foliolab/vm';
export type { ObservedPage, ObserveRecord };

export interface RunRecord {
  workload: string;
  kind: RunKind;
  composition: Composition;
  status: RunStatus;
  reason?: string;
  seed: number;
  durationMs: number;
  metrics: Record<string, number>;
  distributions?: Record<string, Array<[number, number]>>;
  observe?: ObserveRecord[];
  /** For cow.c cells: the verdict for this composition. */
  cow?: CowVerdict;
}

export interface CowVerdict {
  case: string;
  backing: string;
  leak: boolean;
  stalePin: boolean;
  reason?: string;
}

export interface MemmapSection {
  source: string;
  pfns: number;
  layouts: Array<{ name: string; bytes: number; percent: number; byType: Record<string, number> }>;
}

export interface CowMatrixRow {
  case: string;
  backing: string;
  results: Record<string, { leak: boolean; stalePin: boolean; status?: RunStatus; reason?: string }>;
}

export interface CompareResult {
  schema: 'foliolab/compare@1';
  generatedAt: string;
  seed: number;
  /** Simulated RAM per machine when --memory overrode it; 0 when each workload used its own machine.memory. */
  memory: number;
  versions: Record<string, string>;
  host: { node: string; kernel: string };
  /** The first name of every choice: what deltas are computed against. */
  baseline: Required<Composition>;
  runs: RunRecord[];
  memmap?: MemmapSection;
  cowMatrix?: CowMatrixRow[];
}

export const COMPARE_SCHEMA = 'foliolab/compare@1' as const;
