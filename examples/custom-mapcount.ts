/**
 * Compose a machine in your own code with a mapcount policy you wrote (./troll-mapcount.ts), run a
 * built-in workload on it and on upstream's policy, and print what each one cost and got wrong.
 *
 *   node --conditions=@foliolab/source --import tsx examples/custom-mapcount.ts [workload] [--json]
 *
 * (Outside this repository, with the packages installed from the registry: `npx tsx custom-mapcount.ts`.)
 */
import { createMachine, type MachineSpec } from '@foliolab/machine';
import { builtinNames, loadBuiltin, runWorkload } from '@foliolab/workloads';
import type { MapcountPolicy } from '@foliolab/vm';
import { createPolicy as createTroll, type TrollMapcountPolicy } from './troll-mapcount.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const workloadName = args.find((a) => !a.startsWith('--')) ?? 'thp-fork-partial';
if (!builtinNames().includes(workloadName)) {
  process.stderr.write(`custom-mapcount: workload "${workloadName}" is not built in (known: ${builtinNames().join(', ')})\n`);
  process.exit(2);
}
const workload = loadBuiltin(workloadName);

/** The metrics a mapcount design is judged by (foliolab/compare@1 names). */
const SHOWN = [
  'mapcount.metadata_bytes',
  'mapcount.cost.atomics',
  'mapcount.cost.cacheLines',
  'mapcount.cost.ptesScanned',
  'mapcount.wrong',
  'mapcount.unnecessary_copies',
  'mapcount.unsafe_reuses',
  'mapcount.leaked_writes',
] as const;

interface Row {
  policy: string;
  metrics: Record<string, number>;
  extra: Record<string, number>;
}

function run(mapcount: MachineSpec['mapcount']): Row {
  const m = workload.machine as unknown as { memory: number; seed?: number; thp?: MachineSpec['thp']; mthp?: number[] };
  const composed = createMachine({
    memory: m.memory,
    seed: m.seed ?? 1,
    layout: 'struct-page',
    mapcount,
    ...(m.thp ? { thp: m.thp } : {}),
    ...(m.mthp ? { mthp: m.mthp } : {}),
    debugVm: true, // check every vm invariant after every step: a policy bug fails loudly
  });
  if (!composed.ok) throw new Error(`cannot compose: ${composed.reason}`);
  const { machine } = composed;
  runWorkload(workload, machine.handlers as never, { seed: m.seed ?? 1 });
  const metrics = machine.metrics();
  const policy = machine.vm.policy as MapcountPolicy;
  const extra: Record<string, number> = policy.name === 'troll' ? { saturatedUpdates: (policy as TrollMapcountPolicy).saturatedUpdates } : {};
  return { policy: machine.names.mapcount ?? policy.name, metrics, extra };
}

// A registered policy by name, and your own by value: createMachine takes either.
const rows = [run('upstream'), run(createTroll())];

if (json) {
  process.stdout.write(JSON.stringify({ workload: workloadName, rows: rows.map((r) => ({ policy: r.policy, ...Object.fromEntries(SHOWN.map((k) => [k, r.metrics[k] ?? 0])), ...r.extra })) }, null, 2) + '\n');
} else {
  const width = Math.max(...SHOWN.map((k) => k.length));
  process.stdout.write(`workload ${workloadName} on struct-page\n`);
  process.stdout.write(`${'metric'.padEnd(width)}  ${rows.map((r) => r.policy.padStart(10)).join('  ')}\n`);
  for (const k of SHOWN) process.stdout.write(`${k.padEnd(width)}  ${rows.map((r) => String(r.metrics[k] ?? 0).padStart(10)).join('  ')}\n`);
  const troll = rows[1]!;
  process.stdout.write(`\nthe troll saturated at Many and skipped ${troll.extra.saturatedUpdates} count updates\n`);
}
