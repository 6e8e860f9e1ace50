import { existsSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** An error the user caused: printed as one line, exit status 2 (bad input) unless said otherwise. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 2) {
    super(message);
    this.name = 'CliError';
  }
}

/** Refuse an output path before any work is done: its folder must exist and it must not be a folder itself. */
export function check_output_path(path: string, option = '--out'): void {
  const dir = dirname(path);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new CliError(`${option} ${path}: folder ${dir} does not exist`);
  if (existsSync(path) && statSync(path).isDirectory()) throw new CliError(`${option} ${path}: is a folder`);
}

/** Write a whole file or nothing: a temporary name in the same folder, then rename. */
export function write_file_atomic(path: string, data: string | Uint8Array, option = '--out'): void {
  check_output_path(path, option);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    if (existsSync(tmp)) unlinkSync(tmp);
    throw new CliError(`${option} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 1);
  }
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function format_bytes(n: number): string {
  let v = Math.abs(n);
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return `${n < 0 ? '-' : ''}${u === 0 ? v : v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)} ${UNITS[u]}`;
}

export function format_int(n: number): string {
  return n.toLocaleString('en-US');
}

export function format_percent(fraction: number, digits = 4): string {
  return `${(fraction * 100).toFixed(digits)} %`;
}
