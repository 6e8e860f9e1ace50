import { describe, expect, it } from 'vitest';
import { ProcfsError, procfsErrorFrom } from './errors.js';

describe('procfsErrorFrom', () => {
  it('maps errno codes to one-line ProcfsErrors naming the path', () => {
    const e = procfsErrorFrom('/proc/kpageflags', Object.assign(new Error('x'), { code: 'EACCES' }), 'opening') as ProcfsError;
    expect(e).toBeInstanceOf(ProcfsError);
    expect(e.path).toBe('/proc/kpageflags');
    expect(e.message).toMatch(/^\/proc\/kpageflags: permission denied \(EACCES\) opening it/);
    expect(e.message).not.toContain('\n');
    expect((procfsErrorFrom('/p', { code: 'EPERM' }) as ProcfsError).reason).toMatch(/permission denied \(EPERM\)/);
    expect((procfsErrorFrom('/p', { code: 'ENOENT' }) as ProcfsError).message).toBe('/p: no such file or directory');
  });
  it('leaves non-system errors alone', () => {
    const bug = new TypeError('bug');
    expect(procfsErrorFrom('/p', bug)).toBe(bug);
  });
});
