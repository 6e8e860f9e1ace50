/**
 * One probe session: compile fsio, then for each run create a filesystem on a loop-backed sparse image,
 * run the workload's prepare steps, trace its measured steps, read extents and inodes, derive the metrics,
 * and tear everything down. A Session owns a Cleanup; each resource is registered the moment it exists.
 */
import { closeSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, ftruncateSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { Cleanup, ProbeError, cmd_run, cmd_run_sync, sleep_sync } from './host.js';
import { Tracing, type EventSpec, type TracingCapabilities } from './tracing.js';
import { TraceParser } from './trace-parse.js';
import { ExtentSet, extents_parse } from './extents.js';
import { MetricsCollector, type FsFamily, type FsMetrics, type MetricsDetail } from './metrics.js';
import { plan_serialize, type WorkloadPlan, type Step } from './workloads.js';

export const FS_NAMES = ['ext4-4k', 'ext4-1k', 'xfs-4k'] as const;
export type FsName = (typeof FS_NAMES)[number];

export interface FsConfig {
  family: FsFamily;
  mkfs: readonly string[];
  /** -o options for mount. */
  mount_options: string;
  block_bytes: number;
}

/**
 * ext4: inode tables and journal are zeroed by mkfs and block-bitmap prefetch is off, so the ext4lazyinit
 * thread neither writes nor reads the device during a run.
 */
export const FS_CONFIGS: Record<FsName, FsConfig> = {
  'ext4-4k': { family: 'ext4', block_bytes: 4096, mount_options: 'no_prefetch_block_bitmaps', mkfs: ['mkfs.ext4', '-q', '-F', '-b', '4096', '-E', 'lazy_itable_init=0,lazy_journal_init=0'] },
  'ext4-1k': { family: 'ext4', block_bytes: 1024, mount_options: 'no_prefetch_block_bitmaps', mkfs: ['mkfs.ext4', '-q', '-F', '-b', '1024', '-E', 'lazy_itable_init=0,lazy_journal_init=0'] },
  'xfs-4k': { family: 'xfs', block_bytes: 4096, mount_options: 'defaults', mkfs: ['mkfs.xfs', '-q', '-f', '-b', 'size=4096'] },
};

export const IMAGE_BYTES = 1024 * 1024 * 1024;
const QUEUE_FILES = [
  'max_sectors_kb', 'max_hw_sectors_kb', 'max_segments', 'max_segment_size', 'logical_block_size',
  'physical_block_size', 'minimum_io_size', 'optimal_io_size', 'read_ahead_kb', 'nr_requests', 'rotational',
  'scheduler', 'nomerges',
] as const;

export type QueueLimits = Record<string, number | string>;

export interface SlabCount {
  active_objs: number;
  num_objs: number;
  objsize: number;
}

export interface RunRecord {
  metrics: FsMetrics;
  detail: MetricsDetail;
  queue: QueueLimits;
  mount_options: string;
  slab_buffer_head: { before: SlabCount; after: SlabCount };
  /** For cold workloads: pages of the files still cached after the prepare phase (must be 0). */
  resident_before: Record<string, number>;
  events_enabled: string[];
  trace: { lines: number; orphan_stacks: number; unparsed_lines: number; lost_events: number };
  data_extents: number;
}

/** The dev_t the kernel's trace filters compare with (MKDEV: major << 20 | minor). */
export function kernel_dev_t(major: number, minor: number): number {
  return major * (1 << 20) + minor;
}

export function slabinfo_parse(text: string, cache: string): SlabCount | undefined {
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[0] === cache && f.length > 4) return { active_objs: Number(f[1]), num_objs: Number(f[2]), objsize: Number(f[3]) };
  }
  return undefined;
}

function slab_read(): SlabCount {
  const s = slabinfo_parse(readFileSync('/proc/slabinfo', 'utf8'), 'buffer_head');
  if (!s) throw new ProbeError('/proc/slabinfo: no buffer_head cache');
  return s;
}

/** The ifs_alloc symbol as kallsyms names it (may carry a compiler suffix such as .isra.0), if not inlined. */
export function ifs_alloc_symbol(kallsyms: string): string | undefined {
  const m = /^\S+ [tT] (ifs_alloc(?:\.[\w.]+)?)$/m.exec(kallsyms);
  return m ? m[1] : undefined;
}

export function event_specs(family: FsFamily, ifs_symbol: string | undefined): EventSpec[] {
  const dev = 'dev == $DEV';
  const sdev = 's_dev == $DEV';
  const specs: EventSpec[] = [
    { system: 'block', name: 'block_bio_queue', filter: dev },
    { system: 'block', name: 'block_rq_issue', filter: dev },
    { system: 'block', name: 'block_bio_backmerge', filter: dev },
    { system: 'block', name: 'block_split', filter: dev },
    { system: 'filemap', name: 'mm_filemap_add_to_page_cache', filter: sdev },
    { system: 'readahead', name: 'page_cache_sync_ra', filter: sdev },
    { system: 'readahead', name: 'page_cache_async_ra', filter: sdev },
    { system: 'readahead', name: 'page_cache_ra_order', filter: sdev },
    { system: 'readahead', name: 'page_cache_ra_unbounded', filter: sdev },
    { system: 'kmem', name: 'kmem_cache_alloc', filter: 'name == "buffer_head"', stack_if: 'name == "buffer_head"' },
    { system: 'iomap', name: 'iomap_iter', filter: dev },
    { system: 'iomap', name: 'iomap_iter_dstmap', filter: dev },
    { system: 'iomap', name: 'iomap_readahead', filter: dev },
    { system: 'iomap', name: 'iomap_writeback_folio', filter: dev },
    { system: 'iomap', name: 'iomap_add_to_ioend', filter: dev },
  ];
  if (ifs_symbol) specs.push({ system: 'kmem', name: 'kmalloc', filter: `call_site.function == ${ifs_symbol}` });
  if (family === 'ext4') {
    for (const name of ['ext4_da_write_begin', 'ext4_write_begin', 'ext4_da_reserve_space', 'ext4_ext_map_blocks_enter', 'ext4_da_write_pages_extent', 'ext4_writepages']) {
      specs.push({ system: 'ext4', name, filter: dev });
    }
    // ext4_da_get_block_prep / ext4_mpage_readpages have no tracepoint; every ext4_map_blocks passes this one.
    specs.push({ system: 'ext4', name: 'ext4_es_lookup_extent_enter', filter: dev, stack_if: dev });
  } else {
    for (const name of ['xfs_iomap_alloc', 'xfs_iomap_found', 'xfs_map_blocks_found', 'xfs_map_blocks_alloc']) {
      specs.push({ system: 'xfs', name, filter: dev });
    }
  }
  return specs;
}

export interface SessionOptions {
  buffer_kb: number;
  save_trace_dir?: string;
  log: (msg: string) => void;
}

export class Session {
  readonly cleanup = new Cleanup();
  readonly tracing = new Tracing();
  dir = '';
  fsio = '';
  capabilities: TracingCapabilities = { function_tracing: '?', kprobes: '?' };
  private ifs_symbol: string | undefined;
  private run_seq = 0;

  constructor(private readonly opts: SessionOptions) {}

  /** Lock, tracefs, temp dir, fsio binary. Preconditions are checked by the caller beforehand. */
  async open(): Promise<void> {
    const lock = '/tmp/fs-probe.lock';
    try {
      mkdirSync(lock);
    } catch {
      const owner = existsSync(`${lock}/pid`) ? readFileSync(`${lock}/pid`, 'utf8').trim() : '?';
      if (owner !== '?' && existsSync(`/proc/${owner}`)) throw new ProbeError(`another fs-probe (pid ${owner}) holds ${lock}`, 2);
      rmSync(lock, { recursive: true, force: true });
      mkdirSync(lock);
    }
    writeFileSync(`${lock}/pid`, String(process.pid));
    this.cleanup.push('lock', () => rmSync(lock, { recursive: true, force: true }));

    if (!this.tracing.mounted()) {
      await cmd_run('mount', ['-t', 'tracefs', 'nodev', this.tracing.root]);
      this.cleanup.push('umount tracefs', () => {
        cmd_run_sync('umount', [this.tracing.root]);
      });
    }
    this.tracing.check_idle();
    this.capabilities = this.tracing.capabilities();
    this.ifs_symbol = ifs_alloc_symbol(readFileSync('/proc/kallsyms', 'utf8'));

    this.dir = mkdtempSync('/tmp/fs-probe-');
    this.cleanup.push('remove temp dir', () => rmSync(this.dir, { recursive: true, force: true }));
    const src = join(dirname(fileURLToPath(import.meta.url)), 'fsio.c');
    this.fsio = join(this.dir, 'fsio');
    await cmd_run('gcc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', this.fsio, src]);
  }

  close(): string[] {
    return this.cleanup.run_all();
  }

  private async fsio_run(steps: readonly Step[], mnt: string, label: string, on_spawn?: (pid: number) => void): Promise<{ stdout: string; pid: number }> {
    const plan = join(this.dir, `${label}.plan`);
    writeFileSync(plan, plan_serialize(steps, mnt));
    const r = await cmd_run(this.fsio, [plan], on_spawn);
    return { stdout: r.stdout, pid: r.pid };
  }

  /** One measured run of `plan` on a fresh `fs`. */
  async run(fs: FsName, plan: WorkloadPlan): Promise<RunRecord> {
    const cfg = FS_CONFIGS[fs];
    const seq = this.run_seq++;
    const run_dir = join(this.dir, `run${seq}`);
    mkdirSync(run_dir);
    const image = join(run_dir, 'image');
    const mnt = join(run_dir, 'mnt');
    mkdirSync(mnt);
    const fd = openSync(image, 'w');
    ftruncateSync(fd, IMAGE_BYTES);
    closeSync(fd);
    const undo_image = this.cleanup.push('remove image', () => rmSync(run_dir, { recursive: true, force: true }));

    const loop = (await cmd_run('losetup', ['--find', '--show', '--direct-io=on', image])).stdout.trim();
    const undo_loop = this.cleanup.push(`losetup -d ${loop}`, () => loop_detach(loop, image));
    const name = loop.replace('/dev/', '');
    const sys = `/sys/block/${name}`;
    if (readFileSync(`${sys}/loop/dio`, 'utf8').trim() !== '1') throw new ProbeError(`${loop}: direct I/O did not take effect`);
    const [major, minor] = readFileSync(`${sys}/dev`, 'utf8').trim().split(':').map(Number) as [number, number];
    const dev_t = kernel_dev_t(major, minor);

    await cmd_run(cfg.mkfs[0]!, [...cfg.mkfs.slice(1), loop]);
    await cmd_run('mount', ['-t', cfg.family, '-o', cfg.mount_options, loop, mnt]);
    const undo_mount = this.cleanup.push(`umount ${mnt}`, () => umount_retry(mnt));
    const mount_options = (readFileSync('/proc/mounts', 'utf8').split('\n').find((l) => l.split(' ')[1] === mnt) ?? '').split(' ')[3] ?? '';

    const queue: QueueLimits = {};
    for (const f of QUEUE_FILES) {
      const p = `${sys}/queue/${f}`;
      if (!existsSync(p)) continue;
      const v = readFileSync(p, 'utf8').trim();
      queue[f] = /^\d+$/.test(v) ? Number(v) : v;
    }
    queue['bdi_read_ahead_kb'] = Number(readFileSync(`/sys/class/bdi/${major}:${minor}/read_ahead_kb`, 'utf8').trim());
    queue['loop_dio'] = 1;

    if (plan.prepare.length > 0) await this.fsio_run(plan.prepare, mnt, `run${seq}-prepare`);
    const resident_before: Record<string, number> = {};
    if (plan.cold_files.length > 0) {
      const out = await this.fsio_run(plan.cold_files.map((path) => ({ op: 'resident', path })), mnt, `run${seq}-resident`);
      for (const line of out.stdout.split('\n')) {
        const f = line.split(' ');
        if (f[0] === 'resident') resident_before[f[1]!.slice(mnt.length + 1)] = Number(f[2]);
      }
      const warm = Object.entries(resident_before).filter(([, n]) => n > 0);
      if (warm.length > 0) throw new ProbeError(`cold workload: ${warm[0]![0]} still has ${warm[0]![1]} pages cached after posix_fadvise(DONTNEED)`);
    }

    // Measured window: tracing on only while the traced plan runs.
    const tr = this.tracing;
    const undo_tracing = this.cleanup.push('tracing restore', () => tr.session_end());
    tr.session_begin(this.opts.buffer_kb);
    const enabled = tr.events_enable(event_specs(cfg.family, this.ifs_symbol), dev_t);
    const slab_before = slab_read();
    const pids = new Set<number>();
    tr.on();
    try {
      await this.fsio_run(plan.traced, mnt, `run${seq}-traced`, (pid) => pids.add(pid));
    } finally {
      tr.off();
    }
    const slab_after = slab_read();
    const lost = tr.lost_events();
    if (lost > 0) throw new ProbeError(`trace buffer lost ${lost} events; rerun with a larger --buffer-kb (now ${this.opts.buffer_kb})`);

    // After the window: inodes and physical extents of the data files (tracing is off).
    const post: Step[] = [];
    for (const path of plan.files) post.push({ op: 'stat', path }, { op: 'fiemap', path });
    const post_out = (await this.fsio_run(post, mnt, `run${seq}-post`)).stdout;
    const data_inodes = new Set<number>();
    for (const line of post_out.split('\n')) {
      const f = line.split(' ');
      if (f[0] === 'ino') data_inodes.add(Number(f[2]));
    }
    const extents = extents_parse(post_out);
    const collector = new MetricsCollector({
      fs_family: cfg.family,
      dev_major: major,
      dev_minor: minor,
      data_inodes,
      data_extents: new ExtentSet(extents),
      fsio_pids: pids,
      bh_objsize: slab_after.objsize,
      ifs_traced: enabled.some((e) => e.name === 'kmalloc'),
    });
    const parser = new TraceParser((r) => collector.record(r));
    const save = this.opts.save_trace_dir ? createWriteStream(join(this.opts.save_trace_dir, `${fs}-${plan.name}-run${seq}.trace`)) : null;
    await tr.trace_stream((line) => {
      parser.line_push(line);
      save?.write(line + '\n');
    });
    parser.finish();
    if (save) await new Promise<void>((res) => save.end(res));
    const { metrics, detail } = collector.result();

    undo_tracing();
    undo_mount();
    undo_loop();
    undo_image();
    return {
      metrics,
      detail,
      queue,
      mount_options,
      slab_buffer_head: { before: slab_before, after: slab_after },
      resident_before,
      events_enabled: enabled.map((e) => `${e.system}:${e.name}${e.stack_if ? ' +stacktrace' : ''}`),
      trace: { lines: parser.lines, orphan_stacks: parser.orphan_stacks, unparsed_lines: parser.unparsed_lines, lost_events: lost },
      data_extents: extents.length,
    };
  }
}

function umount_retry(mnt: string): void {
  for (let attempt = 0; ; attempt++) {
    try {
      cmd_run_sync('umount', [mnt]);
      return;
    } catch (e) {
      if (!existsSync(mnt) || !readFileSync('/proc/mounts', 'utf8').split('\n').some((l) => l.split(' ')[1] === mnt)) return;
      if (attempt >= 20) throw e;
      sleep_sync(100);
    }
  }
}

/** Detaches `loop` only while it is still backed by our image (the number may have been reused otherwise). */
function loop_detach(loop: string, image: string): void {
  const backing = cmd_run_sync('losetup', ['-j', image]);
  if (!backing.split('\n').some((l) => l.startsWith(`${loop}:`))) return;
  for (let attempt = 0; ; attempt++) {
    try {
      cmd_run_sync('losetup', ['-d', loop]);
      return;
    } catch (e) {
      if (attempt >= 20) throw e;
      sleep_sync(100);
    }
  }
}
