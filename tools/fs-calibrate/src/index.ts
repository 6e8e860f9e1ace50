export { calibrate, type CalibrationResult, type CalibrationRun, type CalibrationSummary, type CalibrateOptions } from './calibrate.js';
export { compare_run, deviation_of, kernel_value, COMPARED_METRICS, TOLERANCE, type Cell, type ComparedMetric, type Explanation, type Verdict } from './compare.js';
export { EXPLANATIONS } from './explanations.js';
export { CalibrateError, FIXTURE_DIR, device_from_queue, fixture_load, fixture_parse, type FixtureQueue, type KernelFixture, type MetricValue } from './fixtures.js';
export { simulate, CALIBRATION_PROFILES, CALIBRATION_WORKLOADS, TRACED_MARK, type CalibrationProfile, type SimResult } from './simulate.js';
export { table_render, readme_splice, TABLE_BEGIN, TABLE_END } from './render.js';
