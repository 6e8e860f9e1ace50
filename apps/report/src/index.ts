export { renderReport } from './render.js';
export { writeReport } from './write.js';
export { validateCompareResult } from './validate.js';
export { ReportError } from './errors.js';
export { COMPARE_SCHEMA, RUN_KINDS, RUN_STATUSES } from './types.js';
export type {
  Baseline,
  CompareMemmap,
  CompareResult,
  CompareRun,
  Composition,
  CompositionKey,
  CowMatrixRow,
  CowResult,
  Distribution,
  MemmapLayoutBytes,
  RunKind,
  RunStatus,
} from './types.js';
