import type { Command } from 'commander';
import { WorkloadError, builtinText, builtinWorkloads, defaultSuite, type BuiltinInfo } from '@foliolab/workloads';

export interface WorkloadsCliOptions {
  json?: boolean;
  show?: string;
  kind?: string;
}

const KINDS = ['mapcount', 'fs', 'pagewait', 'mixed'];

/** The first sentence of a description, cut to `width` characters. */
function summary(text: string, width: number): string {
  const first = /^.*?[.!?](?=\s|$)/.exec(text)?.[0] ?? text;
  return first.length <= width ? first : `${first.slice(0, Math.max(0, width - 1))}…`;
}

/**
 * `foliolab workloads [--json] [--kind K] [--show NAME]`: the built-in workloads with their kind, size,
 * what they model and the source they model it from; `--show` prints one built-in's YAML.
 */
export function register(program: Command): void {
  program
    .command('workloads')
    .description('List the built-in workloads: name, kind, what each models and its source')
    .option('--json', 'print [{"name","kind","steps","default","description","source","cell"?}]')
    .option('--kind <kind>', `only one kind: ${KINDS.join(', ')}`)
    .option('--show <name>', "print a built-in's YAML (a starting point for your own workload)")
    .action((opts: WorkloadsCliOptions) => {
      if (opts.show !== undefined) {
        process.stdout.write(builtinText(opts.show).text);
        return;
      }
      if (opts.kind !== undefined && !KINDS.includes(opts.kind)) {
        throw new WorkloadError({ file: `--kind ${opts.kind}` }, '', `unknown kind (kinds: ${KINDS.join(', ')})`);
      }
      const suite = new Set(defaultSuite());
      const list: (BuiltinInfo & { default: boolean })[] = builtinWorkloads()
        .filter((b) => opts.kind === undefined || b.kind === opts.kind)
        .map((b) => ({ ...b, default: suite.has(b.name) }));
      if (opts.json) {
        const out = list.map(({ name, kind, steps, description, source, cell, default: d }) => ({ name, kind, steps, default: d, description, source, ...(cell ? { cell } : {}) }));
        process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
        return;
      }
      const nameW = Math.max(4, ...list.map((b) => b.name.length));
      const kindW = 8;
      const stepsW = Math.max(5, ...list.map((b) => String(b.steps).length));
      const cols = process.stdout.columns && process.stdout.columns > 60 ? process.stdout.columns : 120;
      const descW = Math.max(20, cols - nameW - kindW - stepsW - 8);
      const lines = [`${'name'.padEnd(nameW)}  ${'kind'.padEnd(kindW)}  ${'steps'.padStart(stepsW)}  what it models`];
      for (const b of list) lines.push(`${b.name.padEnd(nameW)}  ${b.kind.padEnd(kindW)}  ${String(b.steps).padStart(stepsW)}  ${summary(b.description, descW)}`);
      lines.push('', `${list.length} workloads; \`foliolab workloads --json\` for descriptions and sources, \`--show NAME\` for the YAML.`);
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
