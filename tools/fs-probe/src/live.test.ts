/**
 * Live probe: runs the real tool once (ext4 4 KiB, cold 1 MiB read) and checks the result and that nothing
 * is left behind; then interrupts a longer run with SIGINT and checks the same. Runs only as root with loop
 * devices, tracefs, gcc and mkfs.ext4 available; otherwise it is skipped and says why.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { host_view_real, preconditions_check } from './preconditions.js';
import { result_validate, type ProbeResult } from './result.js';

const PKG = fileURLToPath(new URL('..', import.meta.url));
const TRACING = '/sys/kernel/tracing';

function skip_reason(): string | null {
  try {
    preconditions_check(host_view_real(), ['ext4-4k']);
  } catch (e) {
    return (e as Error).message;
  }
  if (existsSync('/tmp/fs-probe.lock')) return 'another fs-probe holds /tmp/fs-probe.lock';
  return null;
}
const REASON = skip_reason();
if (REASON) console.warn(`fs-probe live tests skipped: ${REASON}`);

interface HostState {
  tracefs_mounted: boolean;
  tracing_on: string | null;
  set_event: string | null;
  temp_dirs: string[];
  mounts: string[];
  loops: string[];
}

function host_state(): HostState {
  const mounted = existsSync(`${TRACING}/tracing_on`);
  const losetup = spawnSync('losetup', ['-a'], { encoding: 'utf8' }).stdout ?? '';
  return {
    tracefs_mounted: mounted,
    tracing_on: mounted ? readFileSync(`${TRACING}/tracing_on`, 'utf8').trim() : null,
    set_event: mounted ? readFileSync(`${TRACING}/set_event`, 'utf8').trim() : null,
    temp_dirs: readdirSync('/tmp').filter((n) => /^fs-probe-[A-Za-z0-9]{6}$/.test(n)).sort(),
    mounts: readFileSync('/proc/mounts', 'utf8').split('\n').filter((l) => l.includes('/tmp/fs-probe-')),
    loops: losetup.split('\n').filter((l) => l.includes('/tmp/fs-probe-')),
  };
}

function probe_args(workload: string, repeats: number): string[] {
  return ['--conditions=@foliolab/source', '--import', 'tsx', 'src/main.ts', '--fs', 'ext4-4k', '--workload', workload, '--repeats', String(repeats)];
}

function expect_clean(before: HostState): void {
  const after = host_state();
  expect(after.mounts).toEqual([]);
  expect(after.loops).toEqual([]);
  expect(after.temp_dirs).toEqual(before.temp_dirs);
  expect(after.tracefs_mounted).toBe(before.tracefs_mounted);
  expect(after.tracing_on).toBe(before.tracing_on);
  expect(after.set_event).toBe(before.set_event);
  expect(existsSync('/tmp/fs-probe.lock')).toBe(false);
  if (after.tracefs_mounted) {
    expect(readFileSync(`${TRACING}/events/ext4/ext4_es_lookup_extent_enter/trigger`, 'utf8')).not.toContain('stacktrace:');
    expect(readFileSync(`${TRACING}/events/kmem/kmem_cache_alloc/filter`, 'utf8').trim()).toBe('none');
  }
}

describe.skipIf(REASON !== null)('live probe (root, loop devices)', () => {
  it('measures a cold 1 MiB read on ext4 and leaves nothing behind', () => {
    const before = host_state();
    const r = spawnSync(process.execPath, probe_args('cold-read-1m', 1), { cwd: PKG, encoding: 'utf8', timeout: 40_000 });
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as ProbeResult;
    expect(result_validate(doc)).toEqual([]);
    expect(doc.metrics['data_bio_bytes']).toBe(1 << 20);
    expect(doc.metrics['folios_added_by_order']).toBeDefined();
    expect(doc.metrics['buffer_heads_allocated']).toBe(0); // ext4 readahead attaches no buffer heads
    expect(doc.metrics['get_block_calls']).toBeGreaterThanOrEqual(1);
    expect_clean(before);
  }, 45_000);

  it('cleans up when interrupted with SIGINT in the middle of a run', async () => {
    const before = host_state();
    const child = spawn(process.execPath, probe_args('seq-write-64m', 5), { cwd: PKG, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    await new Promise<void>((res) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes('run 2/5')) res();
      });
      void exited.then(() => res());
    });
    await new Promise((res) => setTimeout(res, 300));
    child.kill('SIGINT');
    expect(await exited, stderr).toBe(130);
    expect(stderr).toContain('interrupted by SIGINT; cleaned up');
    expect_clean(before);
  }, 45_000);

  it('rejects an unknown filesystem with exit 2 before touching anything', () => {
    const before = host_state();
    const r = spawnSync(process.execPath, ['--conditions=@foliolab/source', '--import', 'tsx', 'src/main.ts', '--fs', 'ext3', '--workload', 'seq-write-64m'], { cwd: PKG, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('fs-probe: --fs ext3: unknown filesystem (known: ext4-4k, ext4-1k, xfs-4k)');
    expect_clean(before);
  }, 20_000);
});
