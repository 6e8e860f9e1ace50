/**
 * fs-probe CLI. Usage:
 *   npm run probe -w @foliolab/fs-probe -- --fs ext4-4k --workload seq-write-64m [--repeats 3] [--out DIR]
 *   --fs ext4-4k,ext4-1k,xfs-4k | all     --workload NAME[,NAME] | all     --plan FILE.json (custom workload)
 *   --seed N (random offsets)  --buffer-kb N (trace buffer per CPU)  --save-trace DIR (raw trace text per run)
 * Without --out, each result is printed as JSON on stdout; with --out, written to DIR/<fs>/<workload>.json
 * (temp file + rename). Exit 0 ok, 1 runtime failure, 2 bad input or unmet precondition; cleanup always runs.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { child_kill, ProbeError } from './host.js';
import { FS_NAMES, Session } from './probe.js';
import { preconditions_check, host_view_real } from './preconditions.js';
import { cli_parse } from './cli.js';
import { result_build, type ProbeResult } from './result.js';

function result_write(out: string, r: ProbeResult): string {
  const dir = join(out, r.fs);
  mkdirSync(dir, { recursive: true });
  const final = join(dir, `${r.workload}.json`);
  const tmp = `${final}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(r, null, 2) + '\n');
  renameSync(tmp, final);
  return final;
}

async function main(argv: readonly string[]): Promise<number> {
  const opts = cli_parse(argv);
  if (opts === 'help') {
    process.stdout.write(`usage: fs-probe --fs ${FS_NAMES.join('|')}[,..]|all (--workload NAME[,..]|all | --plan FILE) [--repeats N] [--seed N] [--out DIR] [--buffer-kb N] [--save-trace DIR]\n`);
    return 0;
  }
  preconditions_check(host_view_real(), opts.fss);
  const log = (m: string): void => void process.stderr.write(`fs-probe: ${m}\n`);
  const session = new Session({ buffer_kb: opts.buffer_kb, save_trace_dir: opts.save_trace, log });
  let closed = false;
  const close = (): string[] => {
    if (closed) return [];
    closed = true;
    child_kill();
    return session.close();
  };
  const on_signal = (sig: NodeJS.Signals, code: number) => () => {
    const errors = close();
    process.stderr.write(`fs-probe: interrupted by ${sig}; cleaned up${errors.length ? ` with errors: ${errors.join('; ')}` : ''}\n`);
    process.exit(code);
  };
  process.on('SIGINT', on_signal('SIGINT', 130));
  process.on('SIGTERM', on_signal('SIGTERM', 143));
  process.on('SIGHUP', on_signal('SIGHUP', 129));
  process.on('exit', () => void close());
  try {
    await session.open();
    for (const fs of opts.fss) {
      for (const { plan, description } of opts.plans) {
        const runs = [];
        for (let i = 0; i < opts.repeats; i++) {
          log(`${fs} ${plan.name} run ${i + 1}/${opts.repeats}`);
          runs.push(await session.run(fs, plan));
        }
        const r = result_build(fs, plan, description, runs, session.capabilities);
        if (opts.out) log(`wrote ${result_write(opts.out, r)}`);
        else process.stdout.write(JSON.stringify(r, null, 2) + '\n');
      }
    }
  } finally {
    const errors = close();
    if (errors.length > 0) throw new ProbeError(`cleanup failed: ${errors.join('; ')}`);
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    const code = e instanceof ProbeError ? e.exit_code : 1;
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`fs-probe: ${msg.split('\n')[0]}\n`);
    process.exit(code);
  },
);
