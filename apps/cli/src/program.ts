import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import { CliError } from './util.js';
import { register as registerMemmap } from './commands/memmap.js';
import { register as registerRun } from './commands/run.js';
import { register as registerCompare, run_default } from './commands/compare.js';
import { register as registerCapture } from './commands/capture.js';
import { register as registerValidate } from './commands/validate.js';
import { register as registerWorkloads } from './commands/workloads.js';
import { register as registerReport } from './commands/report.js';

const pkg = createRequire(import.meta.url)('../package.json') as { version: string };

/** Errors our libraries throw for bad input carry a name ending in Error and a one-line message. */
function is_input_error(e: unknown): e is Error {
  return e instanceof Error && /^(Procfs|Workload|Memmap|UnknownName|Vm|VmStep|Fs|Pagecache|Contend|ContendParam|Policy|Machine|Compare|HashedOption|Report)\w*Error$/.test(e.name);
}

export function build_program(): Command {
  const program = new Command('foliolab')
    .description('Compare Linux memory-descriptor designs on the same workloads, and measure the memmap of a real machine.')
    .version(pkg.version)
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(`foliolab: ${str.replace(/^error: /, '').trimEnd()} (see foliolab --help)\n`) })
    .action(async () => run_default());
  registerCompare(program);
  registerRun(program);
  registerMemmap(program);
  registerCapture(program);
  registerValidate(program);
  registerWorkloads(program);
  registerReport(program);
  for (const c of program.commands) c.exitOverride().configureOutput({ outputError: (str, write) => write(`foliolab ${c.name()}: ${str.replace(/^error: /, '').trimEnd()} (see foliolab ${c.name()} --help)\n`) });
  return program;
}

/** Run the CLI; returns the exit status (0 ok, 1 failure, 2 bad input). Never prints a stack trace for user errors. */
export async function main(argv: string[]): Promise<number> {
  try {
    await build_program().parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      return 2; // commander already printed its one-line message
    }
    if (e instanceof CliError) {
      process.stderr.write(`foliolab: ${e.message}\n`);
      return e.exitCode;
    }
    if (is_input_error(e)) {
      process.stderr.write(`foliolab: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`foliolab: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 1;
  }
}
