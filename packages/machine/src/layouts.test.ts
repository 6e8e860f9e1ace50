import { describe, expect, it } from 'vitest';
import { LAYOUTS, parse_layout_list } from './index.js';

describe('layout registry', () => {
  it('knows the four layouts and builds each', () => {
    expect(LAYOUTS.map((l) => l.name)).toEqual(['struct-page', 'struct-page-hvo', 'memdesc', 'struct-page-32']);
    for (const l of LAYOUTS) expect(l.create().name).toBe(l.name);
  });

  it('rejects an unknown name with the option and the known names', () => {
    expect(() => parse_layout_list('memdesc,page64')).toThrow('--layout: unknown layout "page64" (known: struct-page, struct-page-hvo, memdesc, struct-page-32)');
    expect(parse_layout_list('memdesc').map((l) => l.name)).toEqual(['memdesc']);
  });
});
