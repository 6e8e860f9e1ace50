/** Number and text formatting shared by the tables and the chart labels (the charts get preformatted text). */

const KiB = 1024;
const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** Binary units, three significant digits: 419430400 -> "400 MiB", 24.5 -> "24.5 B". */
export function bytes_format(n: number): string {
  const neg = n < 0;
  let v = Math.abs(n);
  let u = 0;
  while (v >= KiB && u < UNITS.length - 1) {
    v /= KiB;
    u++;
  }
  return `${neg ? '-' : ''}${sig3(v)} ${UNITS[u]}`;
}

/** Simulated nanoseconds as ns / µs / ms / s. */
export function ns_format(n: number): string {
  const a = Math.abs(n);
  if (a < 1e3) return `${sig3(n)} ns`;
  if (a < 1e6) return `${sig3(n / 1e3)} µs`;
  if (a < 1e9) return `${sig3(n / 1e6)} ms`;
  return `${sig3(n / 1e9)} s`;
}

/** Integers with thousands separators; fractions to three significant digits (at least). */
export function count_format(n: number): string {
  if (Number.isInteger(n)) return n.toLocaleString('en-US');
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en-US');
  return sig3(n);
}

function sig3(v: number): string {
  if (v === 0) return '0';
  if (Number.isInteger(v) && Math.abs(v) < 1e4) return String(v);
  const a = Math.abs(v);
  const digits = a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : Math.min(6, 2 - Math.floor(Math.log10(a)));
  return Number(v.toFixed(digits)).toLocaleString('en-US', { maximumFractionDigits: digits });
}

export type MetricUnit = 'bytes' | 'ns' | 'count';

/** The unit a flat metric name implies (compare@1 names: *.bytes*, *_bytes, *_ns). */
export function metric_unit(name: string): MetricUnit {
  if (/_ns$/.test(name)) return 'ns';
  if (/(^|[._])bytes($|[._])/.test(name) || /_bytes$/.test(name)) return 'bytes';
  return 'count';
}

export function metric_format(name: string, v: number): string {
  const u = metric_unit(name);
  return u === 'bytes' ? bytes_format(v) : u === 'ns' ? ns_format(v) : count_format(v);
}

/** "+1.5 MiB (+25%)", "-3 (-100%)", "=" when equal; percent omitted when the baseline is 0. */
export function delta_format(name: string, value: number, base: number): string {
  const d = value - base;
  if (d === 0) return '=';
  const sign = d > 0 ? '+' : '-';
  const abs = metric_format(name, Math.abs(d));
  if (base === 0) return `${sign}${abs}`;
  const pct = (100 * d) / Math.abs(base);
  const p = Math.abs(pct) >= 100 ? Math.round(pct).toLocaleString('en-US') : sig3(pct);
  return `${sign}${abs} (${pct > 0 ? '+' : ''}${p}%)`;
}

const HTML_ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function html_escape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_ESC[c]!);
}

/** JSON safe inside a <script> element: no "<" (so no "</script>" or "<!--"), no U+2028/2029. */
export function json_for_script(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** The binary unit an axis reads best in, for values up to max: 3.2e9 -> GiB, 900 -> B. */
export function bytes_unit(max: number): { div: number; unit: string } {
  let u = 0;
  let div = 1;
  while (max / div >= KiB && u < UNITS.length - 1) {
    div *= KiB;
    u++;
  }
  return { div, unit: UNITS[u]! };
}
