import { job_run, type Job } from './compare.js';

/** Tinypool entry: one matrix cell per call. */
export default function run(job: Job) {
  return job_run(job);
}
