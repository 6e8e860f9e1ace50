import * as fs from 'node:fs';
import { PAGE_SHIFT } from '@foliolab/memmap';
import { FsError } from './errors.js';

const CHUNK_SHIFT = 22; // 4 MiB: a folio of order <= 10 never straddles a chunk
const CHUNK = 1 << CHUNK_SHIFT;

/**
 * Data mode: the bytes of simulated physical memory, by physical address (pfn << 12). Host memory
 * is allocated in 4 MiB chunks on first touch. Pages are not zeroed when a folio is allocated, as in
 * the kernel: a path that forgets to zero or read a block exposes stale bytes, which the integrity
 * tests catch.
 */
export class PageData {
  private readonly chunks = new Map<number, Uint8Array>();

  private chunk(phys: number): Uint8Array {
    const k = Math.floor(phys / CHUNK);
    let c = this.chunks.get(k);
    if (c === undefined) {
      c = new Uint8Array(CHUNK);
      // Fill fresh memory with a recognisable non-zero pattern so missing zeroing shows up.
      c.fill(0xa5);
      this.chunks.set(k, c);
    }
    return c;
  }

  /** Call fn(chunk, offsetInChunk, length, doneSoFar) for each chunk piece of [phys, phys+len). */
  private each(phys: number, len: number, fn: (c: Uint8Array, off: number, n: number, done: number) => void): void {
    let done = 0;
    while (done < len) {
      const p = phys + done;
      const off = p % CHUNK;
      const n = Math.min(len - done, CHUNK - off);
      fn(this.chunk(p), off, n, done);
      done += n;
    }
  }

  zero(phys: number, len: number): void {
    this.each(phys, len, (c, off, n) => c.fill(0, off, off + n));
  }

  copy_in(phys: number, src: Uint8Array, srcOff: number, len: number): void {
    this.each(phys, len, (c, off, n, done) => c.set(src.subarray(srcOff + done, srcOff + done + n), off));
  }

  copy_out(phys: number, dst: Uint8Array, dstOff: number, len: number): void {
    this.each(phys, len, (c, off, n, done) => dst.set(c.subarray(off, off + n), dstOff + done));
  }

  /** pwrite the bytes at phys to the image at byte position pos. */
  write_to(fd: number, phys: number, len: number, pos: number, path: string): void {
    this.each(phys, len, (c, off, n, done) => {
      const w = fs.writeSync(fd, c, off, n, pos + done);
      if (w !== n) throw new FsError('EIO', path, `short write of ${w} of ${n} bytes at ${pos + done}`);
    });
  }

  /** pread from the image at byte position pos into phys; bytes past the end of the image read as zeros. */
  read_from(fd: number, phys: number, len: number, pos: number): void {
    this.each(phys, len, (c, off, n, done) => {
      const r = fs.readSync(fd, c, off, n, pos + done);
      if (r < n) c.fill(0, off + r, off + n);
    });
  }

  host_bytes(): number {
    return this.chunks.size * CHUNK;
  }
}

/** Physical byte address of page n of the memory. */
export function pfn_phys(pfn: number): number {
  return pfn * (1 << PAGE_SHIFT);
}
