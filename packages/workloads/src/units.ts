/**
 * Sizes and times as the workload format writes them. Binary units only for sizes ("4KiB", "2MiB"),
 * because the kernel's page, folio and PMD sizes are powers of two and "4KB" is ambiguous.
 */

export const SIZE_UNITS: Readonly<Record<string, number>> = {
  B: 1,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  TiB: 1024 ** 4,
};

export const TIME_UNITS: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  ms: 1e6,
  s: 1e9,
};

const SIZE_RE = /^([0-9]+(?:\.[0-9]+)?)\s*([A-Za-zµ]*)$/;

/** Outcome of parsing: the value, or the reason it is not one (the caller adds file:line:column). */
export type UnitResult = { ok: true; value: number } | { ok: false; reason: string };

function unit_parse(input: unknown, units: Readonly<Record<string, number>>, what: string, hint: string): UnitResult {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || !Number.isInteger(input)) return { ok: false, reason: `${input} is not a whole number of ${what === 'size' ? 'bytes' : 'ns'}` };
    if (input < 0) return { ok: false, reason: `${input} is negative` };
    if (!Number.isSafeInteger(input)) return { ok: false, reason: `${input} is too large` };
    return { ok: true, value: input };
  }
  if (typeof input !== 'string') return { ok: false, reason: `${JSON.stringify(input) ?? String(input)} is not a ${what} (${hint})` };
  const m = SIZE_RE.exec(input.trim());
  // A bare number in a string ("4096") is bytes or ns, as an unquoted number is.
  const unit = m ? (m[2] === '' ? 1 : units[m[2]!]) : undefined;
  if (!m || unit === undefined) return { ok: false, reason: `${JSON.stringify(input)} is not a ${what} (${hint})` };
  const value = Number(m[1]) * unit;
  if (!Number.isInteger(value)) return { ok: false, reason: `${JSON.stringify(input)} is not a whole number of ${what === 'size' ? 'bytes' : 'ns'}` };
  if (!Number.isSafeInteger(value)) return { ok: false, reason: `${JSON.stringify(input)} is too large` };
  return { ok: true, value };
}

/** "4KiB" → 4096; a plain number is bytes. */
export function size_parse(input: unknown): UnitResult {
  return unit_parse(input, SIZE_UNITS, 'size', 'use B, KiB, MiB, GiB, TiB');
}

/** "10us" → 10000; a plain number is ns. */
export function time_parse(input: unknown): UnitResult {
  return unit_parse(input, TIME_UNITS, 'time', 'use ns, us, ms, s');
}

/** The shortest exact spelling: 2097152 → "2MiB", 6144 → "6KiB", 1000 → "1000B". */
export function size_format(bytes: number): string {
  if (bytes === 0) return '0';
  for (const unit of ['TiB', 'GiB', 'MiB', 'KiB'] as const) {
    const u = SIZE_UNITS[unit]!;
    if (bytes >= u && bytes % u === 0) return `${bytes / u}${unit}`;
  }
  return `${bytes}B`;
}

/** The shortest exact spelling of a time: 2000000 → "2ms". */
export function time_format(ns: number): string {
  for (const unit of ['s', 'ms', 'us'] as const) {
    const u = TIME_UNITS[unit]!;
    if (ns >= u && ns % u === 0) return `${ns / u}${unit}`;
  }
  return `${ns}ns`;
}
