/** Command-line parsing for the kernel-probe CLI (kept apart from main.ts so tests can import it). */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProbeError } from './probe.js';

export const USAGE = 'usage: kernel-probe SCENARIO.yaml|BUILTIN [--runs N] [--out FILE]';

interface Cli {
  workload: string;
  runs: number;
  out: string | null;
}

export function cli_parse(argv: readonly string[]): Cli | 'help' {
  let workload: string | null = null;
  let runs = 1;
  let out: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-h' || a === '--help') return 'help';
    if (a === '--runs' || a === '--out') {
      const v = argv[++i];
      if (v === undefined) throw new ProbeError(`${a} needs a value`, 2);
      if (a === '--out') out = v;
      else {
        runs = Number(v);
        if (!Number.isInteger(runs) || runs < 1 || runs > 20) throw new ProbeError(`--runs: "${v}" is not a whole number from 1 to 20`, 2);
      }
    } else if (a.startsWith('-')) throw new ProbeError(`unknown option ${a} (${USAGE})`, 2);
    else if (workload !== null) throw new ProbeError(`one workload at a time (got "${workload}" and "${a}")`, 2);
    else workload = a;
  }
  if (workload === null) throw new ProbeError(`no workload given (${USAGE})`, 2);
  return { workload, runs, out };
}

/** A path as the user typed it (npm -w runs in the package dir; INIT_CWD is where the user was). */
export function path_resolve(p: string): string {
  if (isAbsolute(p)) return p;
  const user = resolve(process.env['INIT_CWD'] ?? process.cwd(), p);
  if (existsSync(user)) return user;
  const pkg = resolve(dirname(fileURLToPath(import.meta.url)), '..', p);
  return existsSync(pkg) ? pkg : user;
}

