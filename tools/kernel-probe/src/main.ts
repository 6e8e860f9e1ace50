/**
 * kernel-probe CLI. Usage:
 *   npm run probe -w @foliolab/kernel-probe -- SCENARIO.yaml|BUILTIN [--runs N] [--out FILE]
 * Without --out the result is printed as JSON; with --out it is written to FILE (temp name, then rename).
 * Exit 0 ok, 1 runtime failure, 2 bad input or unmet precondition. THP settings are restored on every path.
 */
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isBuiltin, isWorkloadError, loadBuiltin, loadWorkload, type Workload } from '@foliolab/workloads';
import { probe_plan } from './plan.js';
import { cli_parse, path_resolve, USAGE } from './cli.js';
import { result_stringify } from './result.js';
import { host_view_real, preconditions_check, probe_workload, ProbeError, ProbeSession } from './probe.js';

async function workload_load(name: string): Promise<Workload> {
  if (!existsSync(path_resolve(name)) && isBuiltin(name)) return loadBuiltin(name);
  return loadWorkload(path_resolve(name));
}

async function main(argv: readonly string[]): Promise<number> {
  const cli = cli_parse(argv);
  if (cli === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let out: string | null = null;
  if (cli.out !== null) {
    out = path_resolve(cli.out);
    if (!existsSync(dirname(out))) throw new ProbeError(`--out: directory ${dirname(out)} does not exist`, 2);
  }
  const w = await workload_load(cli.workload);
  probe_plan(w); // a step the probe cannot replay fails here, before anything is touched
  preconditions_check(host_view_real());
  const session = new ProbeSession();
  const close = (): string[] => session.close();
  const on_signal = (sig: NodeJS.Signals, code: number) => () => {
    const errors = close();
    process.stderr.write(`kernel-probe: interrupted by ${sig}; THP settings ${errors.length ? `NOT fully restored: ${errors.join('; ')}` : 'restored'}\n`);
    process.exit(code);
  };
  process.on('SIGINT', on_signal('SIGINT', 130));
  process.on('SIGTERM', on_signal('SIGTERM', 143));
  process.on('SIGHUP', on_signal('SIGHUP', 129));
  process.on('exit', () => void close());
  try {
    session.open();
    const r = await probe_workload(session, w, cli.runs);
    const text = result_stringify(r);
    if (out === null) process.stdout.write(text);
    else {
      const tmp = join(dirname(out), `.${process.pid}.tmp`);
      writeFileSync(tmp, text);
      renameSync(tmp, out);
      process.stderr.write(`kernel-probe: wrote ${out}\n`);
    }
  } finally {
    const errors = close();
    if (errors.length > 0) throw new ProbeError(`restoring THP settings failed: ${errors.join('; ')}`);
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    const code = e instanceof ProbeError ? e.exitCode : isWorkloadError(e) ? 2 : 1;
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`kernel-probe: ${msg.split('\n')[0]}\n`);
    process.exit(code);
  },
);
