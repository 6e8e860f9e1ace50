import { randomBytes } from 'node:crypto';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { renderReport } from './render.js';
import type { CompareResult } from './types.js';

/**
 * Renders and writes the report atomically: a temporary file beside the target, then rename(2), so a
 * reader never sees half a report and a failure leaves no file behind. Rendering happens first, so bad
 * input throws before anything touches the file system.
 */
export function writeReport(file: string, result: CompareResult): void {
  const html = renderReport(result);
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    writeFileSync(tmp, html, { flag: 'wx' });
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
