/**
 * @foliolab/kernel-probe: replays a workload's VM steps on the live kernel and records what
 * /proc/PID/pagemap, /proc/kpagecount and /proc/kpageflags say at each observe, and compares that with
 * the simulator page for page.
 */
export { PROBE_OPS, MADV, PROT, PAGE, PMD_SIZE, probe_plan, mmap_alignment, mremap_alignment, type ProbePlan, type PlanObserve } from './plan.js';
export {
  PROBE_SCHEMA, runs_determinism, result_stringify, folio_head, sharing_view, result_problem,
  type ProbeResult, type KernelObserve, type KernelObservePage, type KernelPage, type ProbeMachine, type Determinism, type SharingView,
} from './result.js';
export { ThpSettings, THP_ROOT, KHUGEPAGED_HOLD_MS, sysfs_choice, size_of_dir } from './settings.js';
export { ProbeError, ProbeSession, probe_workload, preconditions_check, host_view_real, kprobe_compile, observes_from_output, page_from_raw, type HostView } from './probe.js';
export { simulate, SIM_POLICIES, type SimPolicy, type SimPage, type SimObserve } from './sim.js';
export { compareProbeWithSim, comparison_describe, CHECKS, type Check, type Comparison, type ObserveComparison, type CellMismatch, type SimCount } from './compare.js';
