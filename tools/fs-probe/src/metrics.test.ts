import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { trace_parse } from './trace-parse.js';
import { ExtentSet } from './extents.js';
import { MetricsCollector, ext4_lookup_path, log2_bucket, type MetricsContext } from './metrics.js';

const SNIPPET = readFileSync(fileURLToPath(new URL('../test-fixtures/ext4-4k-seq-write.trace', import.meta.url)), 'utf8');

/** The excerpt's file: inode 12 on loop0 (7:0); its data starts at sector 278528 (first WS bio), 64 MiB long. */
const DATA_START = 278528 * 512;
function ctx(over: Partial<MetricsContext> = {}): MetricsContext {
  return {
    fs_family: 'ext4',
    dev_major: 7,
    dev_minor: 0,
    data_inodes: new Set([12]),
    data_extents: new ExtentSet([{ physical: DATA_START, length: 64 << 20 }]),
    fsio_pids: new Set([11248]),
    bh_objsize: 104,
    ifs_traced: false,
    ...over,
  };
}

function collect(text: string, c: MetricsContext) {
  const m = new MetricsCollector(c);
  for (const r of trace_parse(text).records) m.record(r);
  return m.result();
}

/** Entry lines of one event, by plain substring test. */
function event_lines(text: string, event: string): string[] {
  return text.split('\n').filter((l) => l.includes(`: ${event}: `));
}

describe('MetricsCollector on the ext4 excerpt', () => {
  const { metrics, detail } = collect(SNIPPET, ctx());

  it('classifies bios by the file extents: data inside, metadata outside', () => {
    const bios = event_lines(SNIPPET, 'block_bio_queue').map((l) => {
      const f = l.split(': block_bio_queue: ')[1]!.split(' ');
      return { sector: Number(f[2]), nr: Number(f[4]) };
    });
    const data = bios.filter((b) => b.sector * 512 >= DATA_START && b.nr > 0);
    expect(metrics.data_bios).toBe(data.length);
    expect(metrics.data_bio_bytes).toBe(data.reduce((n, b) => n + b.nr * 512, 0));
    expect(metrics.metadata_bios).toBe(bios.length - data.length);
    expect(metrics.data_bio_size_hist).toEqual({ '23': 2 }); // two 8 MiB bios, one per 2048-block extent
  });

  it('counts data requests and their bytes from block_rq_issue', () => {
    const rqs = event_lines(SNIPPET, 'block_rq_issue')
      .map((l) => l.split(') ')[1]!.split(' '))
      .map((f) => ({ sector: Number(f[0]), nr: Number(f[2]) }))
      .filter((r) => r.sector * 512 >= DATA_START && r.nr > 0);
    expect(metrics.requests).toBe(rqs.length);
    expect(metrics.request_bytes).toBe(rqs.reduce((n, r) => n + r.nr * 512, 0));
  });

  it('counts one get_block per block although ext4 looks each block up twice', () => {
    const lblks = event_lines(SNIPPET, 'ext4_es_lookup_extent_enter')
      .filter((l) => l.includes(' ino 12 ') && l.includes('799.5703')) // the write_begin lookups of the excerpt
      .map((l) => l.split(' lblk ')[1]);
    expect(lblks.length).toBeGreaterThan(new Set(lblks).size); // the double lookup is really there
    expect(metrics.get_block_calls).toBe(new Set(lblks).size);
    expect(metrics.mapping_calls).toBe(metrics.get_block_calls + metrics.iomap_begin_calls);
    expect(detail.mapping_by_path['writeback_map']).toBeGreaterThan(0);
  });

  it('counts delalloc reservations, extents allocated and folios by order for inode 12 only', () => {
    expect(metrics.delalloc_reservations).toBe(event_lines(SNIPPET, 'ext4_da_reserve_space').filter((l) => l.includes(' ino 12 ')).length);
    const ext = event_lines(SNIPPET, 'ext4_da_write_pages_extent');
    expect(metrics.extents_allocated).toBe(ext.length);
    expect(detail.extent_allocation_blocks).toEqual(ext.map((l) => Number(l.split(' len ')[1]!.split(' ')[0])));
    const ours = event_lines(SNIPPET, 'mm_filemap_add_to_page_cache').filter((l) => l.includes(' ino c '));
    expect(Object.values(metrics.folios_added_by_order).reduce((a, b) => a + b, 0)).toBe(ours.length);
  });

  it('attributes data buffer heads to the fsio task and prices them at the slab object size', () => {
    const lines = SNIPPET.split('\n');
    let with_data_stack = 0;
    for (let i = 0; i < lines.length; i++) {
      // Only the fsio task (pid 11248): the excerpt also holds the node driver writing its plan file on the host fs.
      if (!lines[i]!.includes('-11248 ') || !lines[i]!.includes(': kmem_cache_alloc: ') || !lines[i + 1]?.endsWith('<stack trace>')) continue;
      let j = i + 2;
      let data = false;
      for (; lines[j]?.startsWith(' => '); j++) if (lines[j] === ' => create_empty_buffers') data = true;
      if (data) with_data_stack++;
    }
    expect(with_data_stack).toBeGreaterThan(0);
    expect(metrics.buffer_heads_allocated).toBe(with_data_stack);
    expect(metrics.buffer_head_bytes).toBe(with_data_stack * 104);
  });

  it('drops everything when the task is not the probe or the device differs', () => {
    expect(collect(SNIPPET, ctx({ fsio_pids: new Set([1]) })).metrics.buffer_heads_allocated).toBe(0);
    const other = collect(SNIPPET, ctx({ dev_minor: 3 })).metrics;
    expect(other.data_bios + other.metadata_bios + other.get_block_calls + other.requests).toBe(0);
  });
});

describe('metric helpers', () => {
  it('buckets sizes by floor(log2)', () => {
    expect([4096, 8191, 8192, 1 << 20, (1 << 20) + 4096].map(log2_bucket)).toEqual([12, 12, 13, 20, 20]);
  });

  it('names the ext4 mapping path from the innermost known caller', () => {
    expect(ext4_lookup_path(['ext4_es_lookup_extent', 'ext4_map_blocks', 'ext4_mpage_readpages', 'read_pages'])).toBe('read_map');
    expect(ext4_lookup_path(['ext4_es_lookup_extent', 'ext4_da_get_block_prep', 'ext4_block_write_begin'])).toBe('write_get_block');
    expect(ext4_lookup_path(['ext4_map_blocks', 'mpage_map_and_submit_extent', 'ext4_do_writepages'])).toBe('writeback_map');
    expect(ext4_lookup_path(['ext4_map_blocks', 'ext4_getblk', 'ext4_bread'])).toBe('other');
    expect(ext4_lookup_path(undefined)).toBe('no_stack');
  });

  it('ExtentSet merges extents and measures overlap', () => {
    const s = new ExtentSet([{ physical: 8192, length: 4096 }, { physical: 0, length: 4096 }, { physical: 4096, length: 4096 }, { physical: 65536, length: 512 }]);
    expect(s.range_count).toBe(2);
    expect(s.classify_sectors(0, 24)).toBe('data');
    expect(s.classify_sectors(16, 16)).toBe('partial');
    expect(s.classify_sectors(64, 8)).toBe('other');
    expect(s.classify_sectors(128, 0)).toBe('other');
    expect(s.overlap_bytes(60000, 70000)).toBe(512);
  });
});
