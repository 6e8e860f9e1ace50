/**
 * Physical extents of the workload's files (from FIEMAP, in bytes on the device) and the classification of a
 * bio/request sector range against them. Invariant: `ranges` is sorted by start and non-overlapping, adjacent
 * extents merged, so one binary search finds the first candidate.
 */
export interface FileExtent {
  path: string;
  logical: number;
  physical: number;
  length: number;
  flags: number;
}

export class ExtentSet {
  private readonly starts: Float64Array;
  private readonly ends: Float64Array;

  constructor(extents: readonly { physical: number; length: number }[]) {
    const sorted = extents
      .filter((e) => e.length > 0)
      .map((e) => [e.physical, e.physical + e.length] as const)
      .sort((a, b) => a[0] - b[0]);
    const s: number[] = [];
    const e: number[] = [];
    for (const [a, b] of sorted) {
      const last = s.length - 1;
      if (last >= 0 && a <= e[last]!) e[last] = Math.max(e[last]!, b);
      else {
        s.push(a);
        e.push(b);
      }
    }
    this.starts = Float64Array.from(s);
    this.ends = Float64Array.from(e);
  }

  get range_count(): number {
    return this.starts.length;
  }

  /** Bytes of [start, end) covered by the set. */
  overlap_bytes(start: number, end: number): number {
    let lo = 0;
    let hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ends[mid]! <= start) lo = mid + 1;
      else hi = mid;
    }
    let covered = 0;
    for (let i = lo; i < this.starts.length && this.starts[i]! < end; i++) {
      covered += Math.min(end, this.ends[i]!) - Math.max(start, this.starts[i]!);
    }
    return covered;
  }

  /** 'data' when the sector range lies wholly inside file extents, 'partial' when it straddles, else 'other'. */
  classify_sectors(sector: number, nr_sectors: number): 'data' | 'partial' | 'other' {
    if (nr_sectors === 0) return 'other';
    const start = sector * 512;
    const end = start + nr_sectors * 512;
    const covered = this.overlap_bytes(start, end);
    if (covered === 0) return 'other';
    return covered === end - start ? 'data' : 'partial';
  }
}

/** Parses fsio's `extent PATH LOGICAL PHYSICAL LENGTH FLAGS` lines. */
export function extents_parse(fsio_stdout: string): FileExtent[] {
  const out: FileExtent[] = [];
  for (const line of fsio_stdout.split('\n')) {
    const f = line.split(' ');
    if (f[0] !== 'extent' || f.length !== 6) continue;
    out.push({ path: f[1]!, logical: Number(f[2]), physical: Number(f[3]), length: Number(f[4]), flags: Number(f[5]) });
  }
  return out;
}
