import { describe, expect, it } from 'vitest';
import { benchVm } from '@foliolab/vm';
import { LAYOUTS, MAPCOUNT_POLICIES } from './index.js';

const layout = (name: string) => () => LAYOUTS.find((l) => l.name === name)!.create();
const policy = (name: string) => () => MAPCOUNT_POLICIES.find((p) => p.name === name)!.create({});

// `npm run bench` is not run by CI: this runs its vm section small, so that a change that breaks it
// (a refusal no longer reported, a composition that fails on the bench's path) shows here. No timing
// is asserted beyond "measured".
describe('benchVm', () => {
  it('measures every composition it can build and reports the ones the layout refuses', () => {
    const r = benchVm({
      layouts: { 'struct-page': layout('struct-page'), memdesc: layout('memdesc') },
      policies: { 'per-page': policy('per-page'), 'per-folio': policy('per-folio') },
      hostBytes: 16 << 20,
      faultPages: 8192,
      forkBytes: 8 << 20,
    });
    expect(r.hostPagesPerSec).toBeGreaterThan(0);
    // The ratios are taken against the faster of the two host measurements.
    expect(r.hostPagesPerSec).toBe(Math.max(...r.hostSamples));
    expect(r.calibration!.cold).toBeGreaterThan(0);
    expect(r.rows.map((row) => `${row.policy}@${row.layout}`)).toEqual(['per-page@struct-page', 'per-folio@struct-page', 'per-page@memdesc', 'per-folio@memdesc']);
    const refused = r.rows.filter((row) => row.refused !== undefined);
    expect(refused.map((row) => `${row.policy}@${row.layout}`)).toEqual(['per-page@memdesc']);
    expect(refused[0]!.refused).toMatch(/_mapcount: memdesc: per-page field _mapcount has no home/);
    for (const row of r.rows.filter((x) => x.refused === undefined)) {
      expect(row.faultsPerSec).toBeGreaterThan(0);
      expect(row.faultsPerSecWarm).toBeGreaterThan(0);
      expect(row.vsHost).toBeCloseTo(row.faultsPerSec / r.hostPagesPerSec, 6);
      expect(row.forkThpMs).toBeGreaterThan(0);
    }
    // The struct-page layout's 64 bytes per PFN are in the host cost; memdesc's are 8 plus its descriptors.
    expect(r.rows[0]!.hostBytesPerPage).toBeGreaterThanOrEqual(64);
    expect(r.rows[3]!.hostBytesPerPage).toBeGreaterThanOrEqual(8);
  });
});
