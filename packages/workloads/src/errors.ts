/**
 * WorkloadError: the one error type every bad workload turns into. Its message is one line,
 * `file:line:column: field: reason`, so a CLI can print it as-is and exit 2; never a stack trace.
 */

/** Where a node sits in its source text; line and column are 1-based, as editors count them. */
export interface SourcePos {
  file: string;
  line: number;
  column: number;
}

export class WorkloadError extends Error {
  override readonly name = 'WorkloadError';
  readonly file: string;
  /** 1-based; 0 when the error is about the file as a whole (unreadable, empty). */
  readonly line: number;
  readonly column: number;
  /** Field path inside the workload, e.g. `steps[3].touch.size`; '' for the document itself. */
  readonly field: string;
  readonly reason: string;

  constructor(pos: SourcePos | { file: string }, field: string, reason: string, options?: { cause?: unknown }) {
    const line = 'line' in pos ? pos.line : 0;
    const column = 'column' in pos ? pos.column : 0;
    const where = line > 0 ? `${pos.file}:${line}:${column}` : pos.file;
    super(field ? `${where}: ${field}: ${reason}` : `${where}: ${reason}`, options);
    this.file = pos.file;
    this.line = line;
    this.column = column;
    this.field = field;
    this.reason = reason;
  }
}

export function isWorkloadError(e: unknown): e is WorkloadError {
  return e instanceof WorkloadError;
}
