import { describe, expect, it } from 'vitest';
import { bytes_format, bytes_unit, count_format, delta_format, json_for_script, metric_format, metric_unit, ns_format } from './format.js';

describe('format', () => {
  it('bytes in binary units with three significant digits', () => {
    expect(bytes_format(419430400)).toBe('400 MiB');
    expect(bytes_format(93585408)).toBe('89.3 MiB');
    expect(bytes_format(24.5)).toBe('24.5 B');
    expect(bytes_format(1536)).toBe('1.5 KiB');
    expect(bytes_format(-2 * 1024 ** 3)).toBe('-2 GiB');
    expect(bytes_unit(3.2e9)).toEqual({ div: 1024 ** 3, unit: 'GiB' });
    expect(bytes_unit(900)).toEqual({ div: 1, unit: 'B' });
  });

  it('picks the unit from the metric name', () => {
    expect(metric_unit('memmap.bytes')).toBe('bytes');
    expect(metric_unit('memmap.bytes.anon')).toBe('bytes');
    expect(metric_unit('fs.buffer_head_bytes')).toBe('bytes');
    expect(metric_unit('memmap.host_bytes_per_page')).toBe('bytes');
    expect(metric_unit('pagewait.latency_p99_ns')).toBe('ns');
    expect(metric_unit('fs.data_bios')).toBe('count');
    expect(metric_format('pagewait.latency_p99_ns', 410000)).toBe('410 µs');
    expect(ns_format(1500)).toBe('1.5 µs');
    expect(count_format(1234567)).toBe('1,234,567');
    expect(count_format(0.015625)).toBe('0.0156');
  });

  it('deltas against the baseline', () => {
    expect(delta_format('mapcount.wrong', 512, 0)).toBe('+512');
    expect(delta_format('mapcount.atomics', 512, 9216)).toBe('-8,704 (-94.4%)');
    expect(delta_format('fs.bvecs', 16384, 2048)).toBe('+14,336 (+700%)');
    expect(delta_format('memmap.bytes', 4 * 1024 ** 2, 16 * 1024 ** 2)).toBe('-12 MiB (-75%)');
    expect(delta_format('x', 3, 3)).toBe('=');
  });

  it('JSON for a script element cannot close it', () => {
    const s = json_for_script({ a: '</script><!-- \u2028' });
    expect(s).not.toContain('<');
    expect(JSON.parse(s)).toEqual({ a: '</script><!-- \u2028' });
  });
});
