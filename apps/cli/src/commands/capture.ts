import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { captureSnapshot } from '@foliolab/procfs';
import { check_output_path, CliError } from '../util.js';
import { parse_pids } from './options.js';

export interface CaptureCliOptions {
  out: string;
  gzip?: boolean;
  cgroup?: boolean;
  pid?: string[];
}

export function register(program: Command): void {
  program
    .command('capture')
    .description('Write a snapshot of this machine\'s /proc/kpageflags, kpagecount, kpagecgroup and meminfo to a directory')
    .requiredOption('--out <dir>', 'snapshot directory to create (must not exist; written to a temporary name, then renamed)')
    .option('--no-gzip', 'store the raw u64 arrays instead of .gz')
    .option('--no-cgroup', 'skip /proc/kpagecgroup')
    .option('--pid <pid...>', 'also capture these processes\' /proc/PID/maps and pagemap (present and swapped pages)')
    .action(async (opts: CaptureCliOptions) => {
      check_output_path(opts.out);
      const pids = parse_pids(opts.pid);
      if (existsSync(opts.out)) throw new CliError(`--out ${opts.out}: already exists; choose a new directory`);
      await captureSnapshot(opts.out, { gzip: opts.gzip ?? true, cgroup: opts.cgroup ?? true, pids });
      process.stdout.write(`${opts.out}: snapshot written${pids.length > 0 ? ` with processes ${pids.join(', ')}` : ''}\n`);
    });
}
