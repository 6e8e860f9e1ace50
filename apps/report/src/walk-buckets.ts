import type { Distribution } from './types.js';

export interface Buckets {
  /** Bucket labels in axis order, including empty ones between the first and the last. */
  labels: string[];
  /** Bucket index of a value (index into labels). */
  of(v: number): number;
}

/**
 * Histogram buckets for wake-walk lengths (entries walked per wake, integers >= 0). Short tails keep one
 * bucket per value; past 16 the buckets are powers of two ("0", "1", "2–3", "4–7", …, "64–127") so a
 * hashed table's long tail and an attached queue's 1–2 entries fit on one readable axis.
 */
export function walk_buckets(dists: readonly Distribution[]): Buckets {
  let lo = Infinity;
  let hi = -Infinity;
  for (const d of dists) for (const [v, c] of d) if (c > 0) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
  if (lo === Infinity) return { labels: [], of: () => 0 };
  lo = Math.max(0, Math.floor(lo));
  hi = Math.max(0, Math.floor(hi));
  if (hi <= 16) {
    const labels: string[] = [];
    for (let v = lo; v <= hi; v++) labels.push(String(v));
    return { labels, of: (v) => Math.max(0, Math.floor(v)) - lo };
  }
  // Bucket b: 0 -> {0}, b >= 1 -> [2^(b-1), 2^b - 1].
  const bucket = (v: number): number => (v < 1 ? 0 : Math.floor(Math.log2(Math.floor(v))) + 1);
  const b0 = bucket(lo);
  const b1 = bucket(hi);
  const labels: string[] = [];
  for (let b = b0; b <= b1; b++) {
    if (b === 0) labels.push('0');
    else if (b === 1) labels.push('1');
    else labels.push(`${2 ** (b - 1)}–${2 ** b - 1}`);
  }
  return { labels, of: (v) => bucket(v) - b0 };
}

/** Counts per bucket. */
export function walk_histogram(d: Distribution, b: Buckets): number[] {
  const out = new Array<number>(b.labels.length).fill(0);
  for (const [v, c] of d) if (c > 0) out[b.of(v)]! += c;
  return out;
}
