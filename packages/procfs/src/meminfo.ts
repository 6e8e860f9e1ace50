import { ProcfsError } from './errors.js';

/**
 * Parses /proc/meminfo. Values with a "kB" unit are returned in bytes; unit-less lines
 * (HugePages_Total, HugePages_Free, ...) are returned as plain counts.
 * A line that is not "Name: <integer> [kB]" is bad input: ProcfsError naming the path and line.
 */
export function parseMeminfo(text: string, path = 'meminfo'): Record<string, number> {
  const out: Record<string, number> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const m = /^([A-Za-z0-9_()]+):\s+(\d+)(?:\s+(kB))?\s*$/.exec(line);
    if (!m) throw new ProcfsError(path, `line ${i + 1}: expected "Name: <number> [kB]", got ${JSON.stringify(line)}`);
    const value = Number(m[2]);
    out[m[1]!] = m[3] ? value * 1024 : value;
  }
  return out;
}
