export { Vm, vm_compose, GUP_PIN_COUNTING_BIAS, MMAP_BASE, prot_name, type VmOptions, type VmComposeResult, type ThpMode, type FileFaultHandler, type Pin } from './vm.js';
export { VmStepError, type VmRefusal } from './errors.js';
export { Mm, type Region } from './mm.js';
export { Vma, PROT_NONE, PROT_READ, PROT_WRITE, VM_SHARED, VM_HUGEPAGE, VM_NOHUGEPAGE, VM_DONTCOPY } from './vma.js';
export { PageTables, E_PRESENT, E_WRITE, E_HUGE, PMD_SIZE, PTRS, entry_pfn } from './pagetable.js';
export { Oracle } from './oracle.js';
export {
  RMAP_PTE,
  RMAP_PMD,
  policy_stats,
  storage_id,
  cacheline_of,
  cachelines_of_range,
  type MapcountPolicy,
  type RmapLevel,
  type PolicyClaims,
  type PolicyStats,
  type PolicyEnv,
} from './policy.js';
export { NoMapcountPolicy } from './null-policy.js';
export { QUERY_KINDS, type QueryKind, type QueryScore, type VmMetrics } from './metrics.js';
export { vm_fork } from './fork.js';
export { vm_mremap } from './mremap.js';
export { vm_pin, vm_unpin, pin_mode, type PinMode } from './gup.js';
export { madvise_collapse, KHUGEPAGED_MAX_PTES_SHARED } from './collapse.js';
export { split_folio, deferred_split_scan, rmap_walk } from './split.js';
export { vm_check, type VmCheckOptions } from './check.js';
export { vm_observe, vm_smaps, type ObserveRecord, type ObservedPage, type SmapsFigures } from './observe.js';
export { vmSteps, VM_STEP_OPS, type VmSteps, type VmStepOp } from './steps.js';
export { vm_exercise, VM_FUZZ_OPS, type VmFuzzOp, type ExerciseOptions } from './exercise.js';
export { vm_report, type VmReport } from './report.js';
export { benchVm, type BenchVmOptions, type BenchVmResult } from './bench.js';
