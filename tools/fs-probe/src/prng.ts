/**
 * mulberry32: the 32-bit PRNG the workloads use for random offsets (public domain, Tommy Ettinger).
 * State is one uint32; each call adds 0x6D2B79F5 to it and mixes the result. The simulator reproduces a
 * workload's offsets by running the same function with the workload's seed:
 *
 *   a = (a + 0x6D2B79F5) >>> 0
 *   t = Math.imul(a ^ (a >>> 15), a | 1)
 *   t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
 *   return (t ^ (t >>> 14)) >>> 0
 */
export function mulberry32_create(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/**
 * `count` block-aligned offsets in [0, file_bytes): block index = next() % (file_bytes / block_bytes).
 * With a power-of-two block count ≤ 2^32 the modulo is unbiased.
 */
export function offsets_random(seed: number, count: number, file_bytes: number, block_bytes: number): number[] {
  const blocks = Math.floor(file_bytes / block_bytes);
  const next = mulberry32_create(seed);
  const out: number[] = new Array<number>(count);
  for (let i = 0; i < count; i++) out[i] = (next() % blocks) * block_bytes;
  return out;
}
