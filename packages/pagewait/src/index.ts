export * from './flags.js';
export * from './host.js';
export { Prng } from './prng.js';
export { EventQueue } from './event-queue.js';
export { WaitQueueArena } from './wait-queue.js';
export * from './policy.js';
export { Samples, type PagewaitMetrics } from './metrics.js';
export {
  PagewaitSim,
  OWNER_NONE,
  OWNER_KERNEL,
  TASK_RUNNING,
  TASK_SLEEPING,
  TASK_DONE,
  TRACE_ACQUIRE,
  TRACE_RELEASE,
  TRACE_ENQUEUE,
  TRACE_WAKE,
  TRACE_RESUME,
  type SimOptions,
  type SimTrace,
  type TaskBehavior,
} from './sim.js';
export * from './contend-params.js';
export { runContend, type ContendOptions, type ContendResult } from './contend.js';
export * from './scenarios.js';
export { benchPagewait, type BenchPagewaitOptions, type BenchPagewaitRow, type BenchPolicy } from './bench.js';
export { checkTrace } from './trace-check.js';
export { CONTEND_FUZZ_NATS, contend_fuzz_params, contend_problems } from './contend-fuzz.js';
