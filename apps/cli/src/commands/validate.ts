import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { isBuiltin, loadBuiltin, loadWorkload, validateWorkload, type Workload } from '@foliolab/workloads';

export interface ValidateCliOptions {
  json?: boolean;
}

/**
 * `foliolab validate FILE`: parse and statically check a workload (a YAML/JSON file, or a built-in's name
 * when no such file exists). Prints `FILE: ok (N steps)`; a bad workload throws a WorkloadError whose one-line
 * message (`file:line:column: field: reason`) main prints with exit status 2.
 */
export function register(program: Command): void {
  program
    .command('validate')
    .description('Check a workload file (YAML or JSON): every field, size and step, and every process, region, pin and file it names')
    .argument('<file>', 'workload file (.yaml, .yml or .json), or the name of a built-in workload')
    .option('--json', 'print {"file","ok":true,"name","kind","steps","sourceSteps","ops"} instead of a line')
    .action(async (file: string, opts: ValidateCliOptions) => {
      const w: Workload = !existsSync(file) && isBuiltin(file) ? loadBuiltin(file) : await loadWorkload(file);
      const v = validateWorkload(w);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ file, ok: true, name: w.name, kind: v.kind, steps: v.steps, sourceSteps: v.sourceSteps, ops: v.ops })}\n`);
      } else {
        process.stdout.write(`${file}: ok (${v.steps} steps)\n`);
      }
    });
}
