export { WorkloadError, isWorkloadError, type SourcePos } from './errors.js';
export { SIZE_UNITS, TIME_UNITS, size_parse, time_parse, size_format, time_format, type UnitResult } from './units.js';
export { Prng, mulberry32, prng_derive, offsets_random } from './prng.js';
export { STEP_SCHEMAS, MACHINE_SCHEMA, OPS, VM_OPS, FILE_OPS, WAIT_OPS, CONTROL_OPS, PAGE_SIZE } from './schema.js';
export { parseWorkload, loadWorkload, path_format } from './parse.js';
export { validateWorkload, workload_kind, type ValidateResult } from './validate.js';
export { MAX_EXPANDED_STEPS, name_resolve } from './expand.js';
export {
  runWorkload,
  type Target,
  type Handler,
  type StepContext,
  type Recorder,
  type RunOptions,
  type RunResult,
  type ObserveRecord,
  type MarkRecord,
  type AfterStepInfo,
} from './runner.js';
export { stringifyWorkload, workload_to_object, step_to_object } from './serialize.js';
export type * from './types.js';
export { cowMatrix, cowCell, cowCellDrafts, cowCellYaml, COW_CASES, COW_BACKINGS, type CowCell, type CowCellTag, type CowCheck, type CowCellDraft } from './cow-matrix.js';
export { builtinWorkloads, builtinText, builtinNames, isBuiltin, loadBuiltin, defaultSuite, DEFAULT_SUITE, type BuiltinInfo } from './builtin.js';
export { object_to_yaml } from './serialize.js';
