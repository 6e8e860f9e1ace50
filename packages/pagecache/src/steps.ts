import { FsError } from './errors.js';
import type { PageCache } from './pagecache.js';

export interface OpenArgs { file: string; create?: boolean }
export interface ReadArgs { file: string; offset: number; size: number }
export interface WriteArgs { file: string; offset: number; size: number }
export interface FsyncArgs { file: string }
export interface TruncateArgs { file: string; size: number }
export interface CloseArgs { file: string }
export type NoArgs = Record<string, never> | Record<string, unknown>;

/** The contract's file steps (WORKLOAD-CONTRACT.md), sizes already in bytes. */
export interface FileStepHandlers {
  open(a: OpenArgs): void;
  read(a: ReadArgs): number;
  write(a: WriteArgs): number;
  fsync(a: FsyncArgs): void;
  truncate(a: TruncateArgs): void;
  close(a: CloseArgs): void;
  sync(a?: NoArgs): void;
  drop_caches(a?: NoArgs): void;
  crash(a?: NoArgs): void;
}

function need_file(a: { file?: unknown } | undefined, step: string): string {
  if (a === undefined || typeof a.file !== 'string' || a.file === '') throw new FsError('EINVAL', `${step}.file`, 'a file name is required');
  return a.file;
}

/**
 * Handlers for the file steps over one page cache. In data mode a write carries a deterministic
 * pattern (from the file, the offset and a write counter) so the bytes are real; reads land in a
 * scratch buffer. Every bad argument raises an FsError naming the step, the file and the field.
 */
export function fsSteps(pc: PageCache): FileStepHandlers {
  let scratch = new Uint8Array(0);
  let generation = 0;
  const buf = (n: number): Uint8Array | null => {
    if (pc.data === null) return null;
    if (scratch.length < n) scratch = new Uint8Array(Math.max(n, scratch.length * 2));
    return scratch;
  };
  return {
    open(a) {
      pc.open_file(need_file(a, 'open'), a.create ?? true);
    },
    read(a) {
      const ino = pc.ino_of(need_file(a, 'read'));
      const b = buf(a.size);
      return pc.read(ino, a.offset, a.size, b, 0);
    },
    write(a) {
      const ino = pc.ino_of(need_file(a, 'write'));
      pc.check_range(ino, a.offset, a.size, 'write');
      const b = buf(a.size);
      if (b !== null) {
        generation++;
        for (let i = 0; i < a.size; i++) b[i] = (a.offset + i + generation * 131 + ino * 7) & 0xff;
      }
      return pc.write(ino, a.offset, a.size, b, 0);
    },
    fsync(a) {
      pc.fsync(pc.ino_of(need_file(a, 'fsync')));
    },
    truncate(a) {
      pc.truncate(pc.ino_of(need_file(a, 'truncate')), a.size);
    },
    close(a) {
      pc.close_file(pc.ino_of(need_file(a, 'close')));
    },
    sync() {
      pc.sync();
    },
    drop_caches() {
      pc.drop_caches();
    },
    crash() {
      pc.crash();
    },
  };
}
