import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));
/** tsx's loader by absolute URL, so the CLI runs from any working directory. */
const TSX = import.meta.resolve('tsx');

export interface CliRun {
  status: number;
  stdout: string;
  stderr: string;
}

/** Run the foliolab CLI from source in a child process, as a user would. */
export function run_cli(args: string[], opts: { uid?: number; cwd?: string } = {}): CliRun {
  const node = [process.execPath, '--conditions=@foliolab/source', '--import', TSX, MAIN, ...args];
  const cmd = opts.uid === undefined ? node : ['setpriv', `--reuid=${opts.uid}`, `--regid=${opts.uid}`, '--clear-groups', ...node];
  const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8', cwd: opts.cwd, env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 64 << 20 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
