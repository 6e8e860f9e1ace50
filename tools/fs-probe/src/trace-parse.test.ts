import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { frame_name, trace_parse } from './trace-parse.js';

const SNIPPET = readFileSync(fileURLToPath(new URL('../test-fixtures/ext4-4k-seq-write.trace', import.meta.url)), 'utf8');

/**
 * Independent scan of the snippet: walks lines with plain string tests (no shared regex) and pairs each
 * "<stack trace>" line with the entry line just before it, the way the trigger writes them on one CPU.
 */
function snippet_scan(text: string) {
  const lines = text.split('\n');
  let events = 0;
  let stacks_attached = 0;
  let frames_attached = 0;
  let prev_was_event = false;
  let in_attached_stack = false;
  for (const l of lines) {
    if (l.startsWith(' => ')) {
      if (in_attached_stack) frames_attached++;
      continue;
    }
    in_attached_stack = false;
    if (l.startsWith('#') || l.trim() === '') continue;
    if (l.endsWith('<stack trace>')) {
      if (prev_was_event) {
        stacks_attached++;
        in_attached_stack = true;
      }
      prev_was_event = false;
      continue;
    }
    events++;
    prev_was_event = true;
  }
  return { events, stacks_attached, frames_attached };
}

describe('trace_parse on a real ext4 trace excerpt', () => {
  const parsed = trace_parse(SNIPPET);
  const scan = snippet_scan(SNIPPET);

  it('yields one record per event line, none unparsed', () => {
    expect(parsed.unparsed_lines).toBe(0);
    expect(parsed.records.length).toBe(scan.events);
  });

  it('attaches each stack to the event before it, with every frame', () => {
    const with_stack = parsed.records.filter((r) => r.stack !== undefined);
    expect(with_stack.length).toBe(scan.stacks_attached);
    expect(with_stack.reduce((n, r) => n + r.stack!.length, 0)).toBe(scan.frames_attached);
    expect(parsed.orphan_stacks).toBe(0);
  });

  it('splits the entry header into task, pid, cpu, time, event and body', () => {
    const wb = parsed.records.find((r) => r.event === 'ext4_da_write_begin')!;
    expect(wb).toMatchObject({ comm: 'fsio', pid: 11248, cpu: 0, ts: 799.569543, body: 'dev 7,0 ino 12 pos 0 len 1048576' });
  });

  it('keeps records in trace order', () => {
    for (let i = 1; i < parsed.records.length; i++) expect(parsed.records[i]!.ts).toBeGreaterThanOrEqual(parsed.records[i - 1]!.ts);
  });

  it('names the get_block caller of the ext4 lookups', () => {
    const lookups = parsed.records.filter((r) => r.event === 'ext4_es_lookup_extent_enter' && r.body.includes('ino 12 '));
    const first = lookups[0]!;
    expect(first.stack![0]).toBe('trace_event_raw_event_ext4_es_lookup_extent_enter');
    expect(first.stack).toContain('ext4_da_get_block_prep');
  });
});

describe('trace parser edge cases', () => {
  it('attaches a stack to the previous event of its CPU when another CPU interleaves', () => {
    const text = [
      '           a-10    [000] .....   1.000000: ev_a: x',
      '           b-20    [001] .....   1.000001: ev_b: y',
      '           a-10    [000] .....   1.000002: <stack trace>',
      ' => f1+0x10/0x20',
      ' => f2',
      '           b-20    [001] .....   1.000003: ev_c: z',
    ].join('\n');
    const { records, orphan_stacks } = trace_parse(text);
    expect(records.map((r) => r.event)).toEqual(['ev_a', 'ev_b', 'ev_c']);
    expect(records[0]!.stack).toEqual(['f1', 'f2']);
    expect(records[1]!.stack).toBeUndefined();
    expect(orphan_stacks).toBe(0);
  });

  it('counts a stack whose task differs from the last event of its CPU as an orphan', () => {
    const text = ['  a-10 [000] ..... 1.0: ev_a: x', '  c-30 [000] ..... 1.1: <stack trace>', ' => f1'].join('\n');
    const { records, orphan_stacks } = trace_parse(text);
    expect(records[0]!.stack).toBeUndefined();
    expect(orphan_stacks).toBe(1);
  });

  it('handles task names with dashes and spaces', () => {
    const { records } = trace_parse('    jbd2/loop0-8-3943    [000] .....   311.946241: block_bio_queue: 7,0 WSM 1048576 + 8 [jbd2/loop0-8]');
    expect(records[0]).toMatchObject({ comm: 'jbd2/loop0-8', pid: 3943, event: 'block_bio_queue' });
  });

  it('strips offsets from frame names but keeps compiler suffixes', () => {
    expect(frame_name('ifs_alloc.isra.0+0x5a/0x110')).toBe('ifs_alloc.isra.0');
    expect(frame_name('ext4_map_blocks')).toBe('ext4_map_blocks');
  });
});
