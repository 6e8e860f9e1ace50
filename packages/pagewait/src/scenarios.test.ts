import { describe, expect, it } from 'vitest';
import { CONTEND_SCENARIOS, contendScenario, validateContendParams } from './index.js';

describe('built-in contend scenarios', () => {
  it('are valid, documented and cite a source', () => {
    expect(CONTEND_SCENARIOS.map((s) => s.name)).toEqual(['numa-storm-2017', 'bdev-large-folio-readers-2024', 'file-server-uncontended']);
    for (const s of CONTEND_SCENARIOS) {
      expect(() => validateContendParams(s.params)).not.toThrow();
      expect(s.doc.length).toBeGreaterThan(200);
      expect(s.sources.length).toBeGreaterThan(0);
    }
  });

  it('the storm has thousands of tasks on a few hot folios with 256-bucket defaults', () => {
    const p = validateContendParams(contendScenario('numa-storm-2017').params);
    expect(p.tasks).toBeGreaterThanOrEqual(3700);
    expect(p.hotFolios).toBeLessThanOrEqual(4);
    expect(p.pattern).toBe('migrate');
  });

  it('unknown names list the known ones', () => {
    expect(() => contendScenario('nope')).toThrow(/known: numa-storm-2017, /);
  });
});
