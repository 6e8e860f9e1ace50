/**
 * Command-line parsing for fs-probe (separate from main.ts so tests can import it without running a probe).
 * Every bad option is one ProbeError line with exit status 2.
 */
import { parseArgs } from 'node:util';
import { ProbeError } from './host.js';
import { FS_NAMES, type FsName } from './probe.js';
import { plan_load } from './plan-load.js';
import { WORKLOAD_SPECS, workload_expand, workload_spec_find, type WorkloadPlan } from './workloads.js';

export interface CliOptions {
  fss: FsName[];
  plans: { plan: WorkloadPlan; description: string }[];
  repeats: number;
  out?: string;
  buffer_kb: number;
  save_trace?: string;
}

function int_option(v: string | undefined, name: string, min: number, max: number, dflt: number): number {
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new ProbeError(`--${name} ${v}: must be an integer in [${min}, ${max}]`, 2);
  return Number(v);
}

export function cli_parse(argv: readonly string[]): CliOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        fs: { type: 'string' },
        workload: { type: 'string' },
        plan: { type: 'string' },
        repeats: { type: 'string' },
        seed: { type: 'string' },
        out: { type: 'string' },
        'buffer-kb': { type: 'string' },
        'save-trace': { type: 'string' },
        help: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    throw new ProbeError((e as Error).message.split('\n')[0]!, 2);
  }
  if (values.help) return 'help';
  if (values.fs === undefined) throw new ProbeError(`--fs is required (one or more of ${FS_NAMES.join(', ')}, or all)`, 2);
  const fss = values.fs === 'all' ? [...FS_NAMES] : values.fs.split(',');
  for (const f of fss) {
    if (!(FS_NAMES as readonly string[]).includes(f)) throw new ProbeError(`--fs ${f}: unknown filesystem (known: ${FS_NAMES.join(', ')})`, 2);
  }
  if ((values.workload === undefined) === (values.plan === undefined)) throw new ProbeError('give exactly one of --workload NAME[,NAME]|all and --plan FILE', 2);
  const seed = values.seed === undefined ? undefined : int_option(values.seed, 'seed', 0, 0xffffffff, 1);
  const plans: CliOptions['plans'] = [];
  if (values.plan !== undefined) {
    const plan = plan_load(values.plan);
    if (seed !== undefined) plan.seed = seed;
    plans.push({ plan, description: `custom plan ${values.plan}` });
  } else {
    const names = values.workload === 'all' ? WORKLOAD_SPECS.map((w) => w.name) : values.workload!.split(',');
    for (const n of names) {
      const spec = workload_spec_find(n);
      if (!spec) throw new ProbeError(`--workload ${n}: unknown workload (known: ${WORKLOAD_SPECS.map((w) => w.name).join(', ')})`, 2);
      plans.push({ plan: workload_expand(spec, seed ?? spec.seed), description: spec.description });
    }
  }
  return {
    fss: fss as FsName[],
    plans,
    repeats: int_option(values.repeats, 'repeats', 1, 20, 3),
    out: values.out,
    buffer_kb: int_option(values['buffer-kb'], 'buffer-kb', 1024, 4 * 1024 * 1024, 262144),
    save_trace: values['save-trace'],
  };
}
