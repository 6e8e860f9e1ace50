import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { loadBuiltin, runWorkload } from '@foliolab/workloads';
import { createMachine, register_external, MAPCOUNT_POLICIES, MachineError } from './index.js';

const GiB = 2 ** 30;

describe('createMachine', () => {
  it('composes a layout with a mapcount policy and runs a workload through the handlers', () => {
    const r = createMachine({ memory: GiB, layout: 'struct-page', mapcount: 'upstream' });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const w = loadBuiltin('seed004-aligned-pmd');
    const run = runWorkload(w, r.machine.handlers as never);
    expect(run.observe.length).toBeGreaterThan(0);
    const m = r.machine.metrics();
    expect(m['memmap.bytes']).toBe((GiB / 4096) * 64);
    expect(m['mapcount.unsafe_reuses']).toBe(0);
    expect(r.machine.names).toEqual({ layout: 'struct-page', mapcount: 'upstream' });
  });

  it('reports an incompatible composition as a result, not a crash', () => {
    const r = createMachine({ memory: GiB, layout: 'memdesc', mapcount: 'per-page' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.reason).toMatch(/memdesc refuses per-page's _mapcount/);
  });

  it('rejects an unknown name and an impossible size with the option and the reason', () => {
    expect(() => createMachine({ memory: GiB, layout: 'struct-page', mapcount: 'per-pfn' })).toThrow(/--mapcount: unknown mapcount "per-pfn" \(known: per-page/);
    expect(() => createMachine({ memory: 1000, layout: 'struct-page' })).toThrow(MachineError);
  });

  it('runs contend steps on folios of its own memmap and reports pagewait metrics', () => {
    const r = createMachine({ memory: GiB, layout: 'memdesc', pagewait: 'attached' });
    if (!r.ok) throw new Error(r.reason);
    const free = r.machine.memmap.nr_free_pages();
    runWorkload(loadBuiltin('pagewait-file-server'), r.machine.handlers as never);
    const m = r.machine.metrics();
    expect(m['pagewait.wakeups']).toBeGreaterThan(0);
    expect(m['pagewait.foreign_walked']).toBe(0);
    // Every folio the contend step took came back.
    expect(r.machine.memmap.nr_free_pages()).toBe(free);
  });

  it('too many contend folios for the memory is a clear error', () => {
    const r = createMachine({ memory: 16 * 2 ** 20, layout: 'struct-page', pagewait: 'hashed' });
    if (!r.ok) throw new Error(r.reason);
    expect(() => r.machine.handlers.contend!({ tasks: 4, hotFolios: 8192, coldFolios: 0, holdTime: 1000, duration: 1_000_000, pattern: 'lock' })).toThrow(/do not fit/);
  });
});

describe('policies from outside the repository', () => {
  const dir = mkdtempSync(join(tmpdir(), 'foliolab-ext-'));
  const upstream = JSON.stringify(import.meta.resolve('@foliolab/mapcount-upstream'));

  it('loads a policy by path, checks its interface and registers it under its path', async () => {
    const file = join(dir, 'wrapped.ts');
    writeFileSync(file, `import { createPolicy as up } from ${upstream};\nexport function createPolicy() { const p = up({ pageMapcount: false }); return Object.assign(p, { name: 'wrapped' }); }\n`);
    const name = await register_external('mapcount', file);
    expect(MAPCOUNT_POLICIES.some((e) => e.name === file)).toBe(true);
    const r = createMachine({ memory: GiB, layout: 'memdesc', mapcount: name });
    expect(r.ok).toBe(true);
  });

  it('rejects a policy missing a method, naming the method', async () => {
    const file = join(dir, 'broken.ts');
    writeFileSync(file, `import { createPolicy as up } from ${upstream};\nexport function createPolicy() { const p = up({}); (p as any).folio_remove_rmap_pmd = undefined; return p; }\n`);
    await expect(register_external('mapcount', file)).rejects.toThrow(/--mapcount: .*broken\.ts: the policy is missing method folio_remove_rmap_pmd\(\)/);
    await expect(register_external('mapcount', join(dir, 'nope.ts'))).rejects.toThrow(/no such file/);
    rmSync(dir, { recursive: true, force: true });
  });
});
