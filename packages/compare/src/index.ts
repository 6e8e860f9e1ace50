export * from './schema.js';
export { run_one, workload_load, workload_kind_of, cow_verdict, type RunOptions, type WorkloadRef } from './run-one.js';
export { compare, matrix_build, compositions_for, choices_resolve, job_run, package_versions, CompareError, type CompareOptions, type CompareChoices, type Job } from './compare.js';
export { render_table, render_csv, text_table, composition_label, KEY_METRICS } from './render.js';
