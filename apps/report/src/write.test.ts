import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ReportError, renderReport, writeReport } from './index.js';
import type { CompareResult } from './index.js';
import { sample } from './test-util.js';

const dirs: string[] = [];
const scratch = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'foliolab-report-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('writeReport', () => {
  it('writes the rendered page and leaves no temporary file', () => {
    const d = scratch();
    const f = join(d, 'report.html');
    writeReport(f, sample());
    expect(readFileSync(f, 'utf8')).toBe(renderReport(sample()));
    expect(readdirSync(d)).toEqual(['report.html']);
  });

  it('replaces an existing report in one step', () => {
    const d = scratch();
    const f = join(d, 'report.html');
    writeFileSync(f, 'old');
    writeReport(f, sample());
    expect(readFileSync(f, 'utf8').startsWith('<!doctype html>')).toBe(true);
    expect(readdirSync(d)).toEqual(['report.html']);
  });

  it('bad input throws before anything is written', () => {
    const d = scratch();
    const f = join(d, 'report.html');
    expect(() => writeReport(f, { ...sample(), schema: 'nope' } as unknown as CompareResult)).toThrow(ReportError);
    expect(readdirSync(d)).toEqual([]);
  });

  it('a folder that does not exist is an error, and nothing is created', () => {
    const d = scratch();
    const f = join(d, 'missing', 'report.html');
    expect(() => writeReport(f, sample())).toThrow(/ENOENT/);
    expect(existsSync(join(d, 'missing'))).toBe(false);
  });
});
