import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { calibrate } from './calibrate.js';
import { CalibrateError } from './fixtures.js';
import { readme_splice, table_render } from './render.js';

/** The READMEs that carry the calibration table. */
export const README_PATHS = ['../../../packages/fs-buffer-head/README.md', '../../../packages/fs-iomap/README.md'].map((p) => fileURLToPath(new URL(p, import.meta.url)));

const USAGE = 'usage: table.ts [--write]   (prints the kernel-vs-simulator table; --write also updates the backends\' READMEs)';

function main(argv: readonly string[]): number {
  const write = argv.includes('--write');
  const bad = argv.find((a) => a !== '--write');
  if (bad !== undefined) throw new CalibrateError('table.ts', bad, `is not an option (${USAGE})`);
  const table = table_render(calibrate());
  process.stdout.write(`${table}\n`);
  if (write) {
    // Compute every new text first, then replace each file through a temp name: no half-written README.
    const next = README_PATHS.map((p) => [p, readme_splice(readFileSync(p, 'utf8'), table)] as const);
    for (const [p, text] of next) {
      writeFileSync(`${p}.tmp`, text);
      renameSync(`${p}.tmp`, p);
    }
  }
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (e) {
    const line = e instanceof Error ? e.message.split('\n')[0] : String(e);
    process.stderr.write(`fs-calibrate: ${line}\n`);
    process.exitCode = e instanceof CalibrateError ? 2 : 1;
  }
}
