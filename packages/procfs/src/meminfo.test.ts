import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseMeminfo } from './meminfo.js';

describe('parseMeminfo', () => {
  it('parses the snapshot meminfo into bytes and plain counts', () => {
    const path = fileURLToPath(new URL('../test-fixtures/kpage-snapshot-idle/meminfo.before', import.meta.url));
    const m = parseMeminfo(readFileSync(path, 'utf8'), path);
    expect(m['MemTotal']).toBe(24683656 * 1024);
    expect(m['HugePages_Total']).toBe(0);
    expect(m['Hugepagesize']).toBe(2048 * 1024);
  });
  it('names the path and line of a malformed line', () => {
    expect(() => parseMeminfo('MemTotal: 1 kB\nbogus line\n', '/proc/meminfo')).toThrow('/proc/meminfo: line 2: expected');
  });
});
