import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { renderReport, validateCompareResult } from '@foliolab/report';
import { CliError, check_output_path, write_file_atomic } from '../util.js';

export function register(program: Command): void {
  program
    .command('report')
    .argument('<result>', 'a foliolab/compare@1 JSON file (foliolab compare --format json --out r.json)')
    .requiredOption('--out <file>', 'the HTML file to write (one self-contained page)')
    .description('Render a comparison result as a self-contained HTML report with charts')
    .action((file: string, o: { out: string }) => {
      check_output_path(o.out);
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (e) {
        throw new CliError(`${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (e) {
        throw new CliError(`${file}: not JSON (${(e as Error).message})`);
      }
      write_file_atomic(o.out, renderReport(validateCompareResult(json, file)));
      process.stdout.write(`${o.out}: report written\n`);
    });
}
