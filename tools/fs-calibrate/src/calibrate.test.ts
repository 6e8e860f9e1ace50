import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { calibrate } from './calibrate.js';
import { deviation_of, compare_run, type Explanation } from './compare.js';
import { CalibrateError, device_from_queue, fixture_load, fixture_parse } from './fixtures.js';
import { readme_splice, table_render, TABLE_BEGIN, TABLE_END } from './render.js';
import { README_PATHS } from './table.js';

// One calibration run (18 simulations, a few seconds) shared by the tests below.
const res = calibrate();

describe('calibration against the recorded kernel (tools/fs-probe fixtures)', () => {
  it('covers every workload x {ext4-4k, ext4-1k, xfs-4k} with the data-path metrics', () => {
    expect(res.runs).toHaveLength(18);
    for (const r of res.runs) {
      const ms = new Set(r.cells.map((c) => c.metric));
      for (const m of ['mapping_calls', 'data_bios', 'data_bio_bytes', 'data_bio_size_hist', 'folios_added_by_order', 'buffer_heads_allocated', 'delalloc_reservations', 'extents_allocated', 'writeback_map_calls']) {
        expect(ms.has(m as never), `${r.workload}/${r.profile.name} compares ${m}`).toBe(true);
      }
    }
  });

  it('every cell is equal, within 10 % where the kernel varied, or explained', () => {
    const bad = res.runs.flatMap((r) => r.cells).filter((c) => c.verdict === 'unexplained');
    expect(bad.map((c) => `${c.workload}/${c.fs} ${c.metric}: kernel ${JSON.stringify(c.kernel)} sim ${JSON.stringify(c.sim)}`)).toEqual([]);
    for (const c of res.runs.flatMap((r) => r.cells)) {
      if (c.deterministic && c.verdict === 'within') throw new Error(`${c.workload}/${c.fs} ${c.metric}: deterministic cells must be equal or explained`);
    }
  });

  it('every explanation still explains something (none stale)', () => {
    expect(res.unusedExplanations.map((e) => `${e.workload}/${e.fs} ${e.metrics.join(',')}`)).toEqual([]);
  });

  it('reproduces the kernel departures from the textbook exactly', () => {
    const cell = (w: string, fs: string, m: string) => res.runs.find((r) => r.workload === w && r.profile.name === fs)!.cells.find((c) => c.metric === m)!;
    // ext4: one bio per 2048-block extent at writeback; XFS: one bio for the whole file.
    expect(cell('seq-write-64m', 'ext4-4k', 'data_bios').sim).toBe(8);
    expect(cell('seq-write-64m', 'ext4-1k', 'data_bios').sim).toBe(32);
    expect(cell('seq-write-64m', 'xfs-4k', 'data_bios').sim).toBe(1);
    // XFS speculative preallocation: 7 reservations, 5 writes straddling a reservation end.
    expect(cell('seq-write-64m', 'xfs-4k', 'delalloc_reservations').sim).toBe(7);
    expect(cell('seq-write-64m', 'xfs-4k', 'iomap_begin_calls').sim).toBe(69);
    // Cached overwrites: no get_block on ext4, one iomap_begin per write on XFS.
    expect(cell('rand-overwrite-cached', 'ext4-4k', 'mapping_calls').sim).toBe(0);
    expect(cell('rand-overwrite-cached', 'xfs-4k', 'mapping_calls').sim).toBe(2048);
    for (const r of res.runs) expect(r.sim.metrics.data_bio_bytes, `${r.workload}/${r.profile.name}`).toBe(r.fixture.metrics.data_bio_bytes);
  });

  it('the README tables are the generated table (regenerate: npm run table -w @foliolab/fs-calibrate -- --write)', () => {
    const table = table_render(res);
    expect(table).toContain(`${res.summary.cells} metric cells`);
    for (const p of README_PATHS) {
      const text = readFileSync(p, 'utf8');
      const a = text.indexOf(TABLE_BEGIN);
      const b = text.indexOf(TABLE_END);
      expect(a, `${p} has the generated table`).toBeGreaterThanOrEqual(0);
      expect(text.slice(a, b + TABLE_END.length)).toBe(table);
    }
  });
});

describe('comparison rules', () => {
  it('deviation: scalars relative to the kernel, histograms by summed bucket differences', () => {
    expect(deviation_of(28, 27)).toBeCloseTo(1 / 28);
    expect(deviation_of(0, 0)).toBe(0);
    expect(deviation_of(0, 1)).toBe(Infinity);
    expect(deviation_of({ '18': 1, '20': 3, '21': 24 }, { '20': 3, '21': 24 })).toBeCloseTo(1 / 28);
    expect(deviation_of({ '12': 4 }, { '13': 4 })).toBe(2);
    expect(deviation_of({ '12': 4 }, 4)).toBe(Infinity);
  });

  it('a deterministic difference fails unless an explanation holds for the numbers', () => {
    const fx = fixture_load('ext4-4k', 'cold-read-1m');
    const sim = { metrics: { ...(fx.metrics as Record<string, never>), mapping_calls: 2 }, dataExtents: 1 };
    const cells = compare_run(fx, sim, []);
    expect(cells.find((c) => c.metric === 'mapping_calls')!.verdict).toBe('unexplained');
    const e: Explanation = { workload: 'cold-read-1m', fs: 'ext4-4k', metrics: ['mapping_calls'], why: 'test', holds: (k, s) => k === 1 && s === 2 };
    expect(compare_run(fx, sim, [e]).find((c) => c.metric === 'mapping_calls')!.verdict).toBe('explained');
    const wrong: Explanation = { ...e, holds: () => false };
    expect(compare_run(fx, sim, [wrong]).find((c) => c.metric === 'mapping_calls')!.verdict).toBe('unexplained');
  });

  it('the device profile comes from the recorded queue limits', () => {
    const fx = fixture_load('xfs-4k', 'cold-seq-read-64m');
    expect(device_from_queue(fx.queue)).toMatchObject({ maxSectors: 2560, maxSegments: 128, maxSegmentSize: 65536, logicalBlockSize: 512, readAheadKb: 2560 });
  });

  it('bad fixtures: one line naming file and field', () => {
    expect(() => fixture_parse('f.json', '{')).toThrow(CalibrateError);
    expect(() => fixture_parse('f.json', '{"schema":"x"}')).toThrow(/^f\.json: schema: "x" is not/);
    const good = readFileSync(fixture_load('ext4-4k', 'cold-read-1m').file, 'utf8');
    const o = JSON.parse(good);
    o.queue.max_segments = 'many';
    expect(() => fixture_parse('f.json', JSON.stringify(o))).toThrow(/^f\.json: queue\.max_segments: "many" is not a number/);
    expect(() => fixture_load('ext4-9k', 'cold-read-1m')).toThrow(/ext4-9k\/cold-read-1m\.json: \(file\): cannot be read/);
  });

  it('readme_splice replaces only the generated block', () => {
    const t = `${TABLE_BEGIN}\nnew\n${TABLE_END}`;
    expect(readme_splice(`a\n${TABLE_BEGIN}\nold\n${TABLE_END}\nb\n`, t)).toBe(`a\n${t}\nb\n`);
    expect(readme_splice('a\n', t)).toContain(`## Calibration against the kernel\n\n${t}\n`);
  });
});
