/**
 * Every failure this package reports on bad input or an unreadable file is a ProcfsError: one line,
 * "<path>: <reason>", so a CLI can print `err.message` and exit 2.
 */
export class ProcfsError extends Error {
  override readonly name = 'ProcfsError';
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
  }
}

/** Errno codes that mean "the kernel refused us", as opposed to "the file is not there". */
const PERMISSION_CODES = new Set(['EACCES', 'EPERM']);

/**
 * Turns a Node system error raised while touching `path` into a ProcfsError with a readable reason.
 * Anything that is not a system error is returned unchanged (it is a bug, not bad input).
 */
export function procfsErrorFrom(path: string, err: unknown, what = 'reading'): unknown {
  if (err instanceof ProcfsError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return err;
  if (PERMISSION_CODES.has(code)) {
    const hint = path.startsWith('/proc/kpage') ? ' (the kpage* files are readable by root only; run as root or use a snapshot)' : '';
    return new ProcfsError(path, `permission denied (${code}) ${what} it${hint}`);
  }
  if (code === 'ENOENT') return new ProcfsError(path, 'no such file or directory');
  if (code === 'ENOTDIR') return new ProcfsError(path, 'not a directory');
  if (code === 'EISDIR') return new ProcfsError(path, 'is a directory, expected a file');
  if (code === 'EEXIST' || code === 'ENOTEMPTY') return new ProcfsError(path, 'already exists');
  const message = (err as { message?: unknown }).message;
  return new ProcfsError(path, `${code} ${what} it${typeof message === 'string' ? ` (${message})` : ''}`);
}
