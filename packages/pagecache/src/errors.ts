/**
 * Typed errors of the file layer. Every bad input names the field (or file) and the reason in one
 * line; `exitCode` is what a CLI should exit with (2: bad input, 1: a failure of the run).
 */
export type FsErrorCode =
  | 'EINVAL' // a bad parameter (block size, folio size, offset, size)
  | 'EFBIG' // past the maximum file size
  | 'EBADF' // a file step on a file that was never opened (or was closed)
  | 'ENOENT' // open without create of a missing file
  | 'EIMAGE' // the image file cannot be created or opened
  | 'ENOSPC' // the simulated device is full
  | 'ENOMEM' // the simulated machine ran out of memory for the page cache
  | 'EIO'; // the image file failed a read or write

export class FsError extends Error {
  readonly exitCode: number;
  constructor(
    readonly code: FsErrorCode,
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
    this.name = 'FsError';
    this.exitCode = code === 'ENOSPC' || code === 'ENOMEM' || code === 'EIO' ? 1 : 2;
  }
}
