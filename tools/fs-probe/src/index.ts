/**
 * @foliolab/fs-probe: measured kernel behaviour for foliolab's filesystem backends.
 * Public entry for consumers of the workloads (same steps and offsets as the probe), the trace parser and
 * metric derivation, and the result schema of the recorded fixtures.
 */
export { mulberry32_create, offsets_random } from './prng.js';
export {
  WORKLOAD_SPECS, FILE_STEP_OPS, STEP_OPS, workload_expand, workload_spec_find, plan_serialize,
  type Step, type WorkloadSpec, type WorkloadPlan,
} from './workloads.js';
export { TraceParser, trace_parse, frame_name, type TraceRecord } from './trace-parse.js';
export { ExtentSet, extents_parse, type FileExtent } from './extents.js';
export {
  MetricsCollector, METRIC_KEYS, ext4_lookup_path, log2_bucket,
  type FsMetrics, type MetricsContext, type MetricsDetail, type FsFamily,
} from './metrics.js';
export { runs_aggregate, median_lower, type MetricValue } from './aggregate.js';
export { RESULT_SCHEMA, result_validate, type ProbeResult } from './result.js';
export { FS_NAMES, FS_CONFIGS, type FsName } from './probe.js';
