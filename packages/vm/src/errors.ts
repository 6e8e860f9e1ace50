/**
 * Errors of the address-space layer. A VmStepError is bad input (a workload step that names a process
 * that does not exist, a range outside its mapping, an access the mapping forbids): it carries the
 * field and the reason so that the workloads runner can prefix file:line:column and exit 2.
 */
export class VmStepError extends Error {
  constructor(readonly field: string, readonly reason: string) {
    super(`${field}: ${reason}`);
    this.name = 'VmStepError';
  }
}

/** A composition that cannot be built: a policy's field was refused by the layout. Returned, not thrown, by vm_compose. */
export interface VmRefusal {
  policy: string;
  layout: string;
  field: string;
  reason: string;
}
