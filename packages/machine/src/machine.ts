import { Memmap, PAGE_SIZE, PageType, type Layout, type LayoutBytes } from '@foliolab/memmap';
import { vm_compose, vm_report, vmSteps, NoMapcountPolicy, type MapcountPolicy, type Vm, type ThpMode } from '@foliolab/vm';
import { FS_METRIC_KEYS, PageCache, fsSteps, type BlockMapper, type DeviceProfile } from '@foliolab/pagecache';
import { runContend, validateContendParams, type ContendResult, type WaitPolicy } from '@foliolab/pagewait';
import { layout_entry, type LayoutEntry } from './layouts.js';
import { FS_BACKENDS, MAPCOUNT_POLICIES, PAGEWAIT_POLICIES, registry_entry, type RegistryEntry } from './registry.js';
import { memmap_wait_host } from './wait-host.js';
import { file_fault_handler } from './file-fault.js';
import { createIomapMapper } from '@foliolab/fs-iomap';

export class MachineError extends Error {
  constructor(readonly field: string, readonly reason: string) {
    super(`${field}: ${reason}`);
    this.name = 'MachineError';
  }
}

/** A choice is a registered name or an object implementing the interface (a user's own policy). */
export type Choice<T> = string | T;

export interface MachineSpec {
  /** Simulated RAM in bytes. */
  memory: number;
  seed?: number;
  layout: Choice<Layout>;
  mapcount?: Choice<MapcountPolicy>;
  pagewait?: Choice<WaitPolicy>;
  fs?: Choice<BlockMapper>;
  thp?: ThpMode;
  mthp?: readonly number[];
  debugVm?: boolean;
  /** fs block size in bytes (default 4 KiB). */
  blockSize?: number;
  /** Largest page-cache folio in bytes (default 2 MiB). */
  folioMax?: number;
  readAheadKb?: number;
  /** The block device's queue limits (max_sectors, max_segments, max_segment_size, …). */
  device?: Partial<DeviceProfile>;
  waitTableBits?: number;
  /** Data mode for the page cache: real bytes in this image file. */
  image?: string;
}

/** The names a result records for a composition. */
export interface CompositionNames {
  layout: string;
  mapcount?: string;
  pagewait?: string;
  fs?: string;
}

export interface Machine {
  readonly names: CompositionNames;
  readonly memmap: Memmap;
  readonly vm: Vm;
  readonly pagecache: PageCache;
  readonly waitPolicy: WaitPolicy | undefined;
  /** Step handlers for @foliolab/workloads' runWorkload: the vm's, the page cache's, and contend. */
  readonly handlers: Record<string, (args: Record<string, unknown>) => unknown>;
  /** Flat metrics: memmap.*, mapcount.*, fs.*, pagewait.* (foliolab/compare@1 names). */
  metrics(): Record<string, number>;
  /** [value, count] pairs for histograms. */
  distributions(): Record<string, Array<[number, number]>>;
  /** The last contend run's full result, if any. */
  contendResults(): readonly ContendResult[];
}

export type ComposeResult = { ok: true; machine: Machine } | { ok: false; names: CompositionNames; reason: string };

function pick<T extends { name: string }>(choice: Choice<T> | undefined, list: readonly RegistryEntry<T>[], option: string, opts: { waitTableBits?: number }): T | undefined {
  if (choice === undefined) return undefined;
  if (typeof choice !== 'string') return choice;
  return registry_entry(list, choice, option).create(opts);
}

function layout_of(choice: Choice<Layout>): Layout {
  if (typeof choice !== 'string') return choice;
  return (layout_entry(choice) as LayoutEntry).create();
}

/**
 * createMachine(): the one place where subsystems and policies meet. The layout is built first; the
 * mapcount policy declares its fields to it; a layout that refuses a field makes the composition
 * incompatible, which is returned as a result (ok: false, reason), never thrown.
 */
export function createMachine(spec: MachineSpec): ComposeResult {
  if (!Number.isSafeInteger(spec.memory) || spec.memory <= 0 || spec.memory % PAGE_SIZE !== 0) {
    throw new MachineError('memory', `${spec.memory} is not a positive multiple of 4 KiB`);
  }
  const layout = layout_of(spec.layout);
  const opts = { waitTableBits: spec.waitTableBits };
  const mapcount = pick(spec.mapcount, MAPCOUNT_POLICIES, '--mapcount', opts);
  const waitPolicy = pick(spec.pagewait, PAGEWAIT_POLICIES, '--pagewait', opts);
  const mapper = pick(spec.fs, FS_BACKENDS, '--fs', opts);
  const names: CompositionNames = {
    layout: layout.name,
    ...(mapcount ? { mapcount: typeof spec.mapcount === 'string' ? spec.mapcount : mapcount.name } : {}),
    ...(waitPolicy ? { pagewait: typeof spec.pagewait === 'string' ? spec.pagewait : waitPolicy.name } : {}),
    ...(mapper ? { fs: typeof spec.fs === 'string' ? spec.fs : mapper.name } : {}),
  };
  const memmap = new Memmap({ layout, memory: spec.memory, debugVm: spec.debugVm ?? false });
  // Every machine has a page cache for file and shared mappings; without an fs choice it uses iomap
  // and reports no fs metrics.
  const pagecache = new PageCache({
      memmap,
      mapper: mapper ?? createIomapMapper(),
      blockSize: spec.blockSize ?? 4096,
      ...(spec.folioMax !== undefined ? { folioMax: spec.folioMax } : {}),
      ...(spec.readAheadKb !== undefined ? { readAheadKb: spec.readAheadKb } : {}),
      ...(spec.device !== undefined ? { device: spec.device } : {}),
      ...(spec.image !== undefined ? { mode: 'data' as const, image: spec.image } : {}),
      seed: spec.seed ?? 1,
    });
  const composed = vm_compose({
    memmap,
    policy: mapcount ?? new NoMapcountPolicy(),
    thp: spec.thp ?? 'madvise',
    mthp: spec.mthp ?? [],
    debugVm: spec.debugVm ?? false,
    fileFault: file_fault_handler(pagecache),
  });
  if (!composed.ok) {
    const r = composed.refusals[0]!;
    return { ok: false, names, reason: `${r.layout} refuses ${r.policy}'s ${r.field}: ${r.reason}` };
  }
  const vm = composed.vm;
  const contends: ContendResult[] = [];
  const walkHist = new Map<number, number>();
  const handlers: Record<string, (args: Record<string, unknown>) => unknown> = {};
  const vsteps = vmSteps(vm);
  for (const op of vsteps.ops) handlers[op] = (a) => vsteps.run(op, a);
  {
    const f = fsSteps(pagecache) as unknown as Record<string, (a: Record<string, unknown>) => unknown>;
    for (const [op, fn] of Object.entries(f)) handlers[op] = fn;
  }
  if (waitPolicy) {
    handlers.contend = (a) => {
      const params = validateContendParams({ seed: spec.seed ?? 1, ...a });
      const host = memmap_wait_host(memmap, params.hotFolios + params.coldFolios);
      try {
        const r = runContend(params, {
          policy: waitPolicy,
          host,
          inspect: (sim) => {
            for (const [v, n] of sim.walkHistogram()) walkHist.set(v, (walkHist.get(v) ?? 0) + n);
          },
        });
        contends.push(r);
        return r;
      } finally {
        host.release();
      }
    };
  }
  const machine: Machine = {
    names,
    memmap,
    vm,
    pagecache,
    waitPolicy,
    handlers,
    metrics: () => machine_metrics(machine),
    distributions: () => {
      const out: Record<string, Array<[number, number]>> = {};
      if (walkHist.size) out['pagewait.walk'] = [...walkHist.entries()].sort((a, b) => a[0] - b[0]);
      return out;
    },
    contendResults: () => contends,
  };
  return { ok: true, machine };
}

/** Flatten nested numbers into dotted keys. */
export function flatten(prefix: string, v: unknown, out: Record<string, number> = {}): Record<string, number> {
  if (typeof v === 'number') out[prefix] = v;
  else if (typeof v === 'boolean') out[prefix] = v ? 1 : 0;
  else if (v && typeof v === 'object' && !ArrayBuffer.isView(v) && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) flatten(prefix ? `${prefix}.${k}` : k, x, out);
  }
  return out;
}

function memmap_metrics(b: LayoutBytes, host: number, pfns: number, out: Record<string, number>): void {
  out['memmap.bytes'] = b.total;
  for (const [t, n] of Object.entries(b.byType)) if (n) out[`memmap.bytes.${t}`] = n;
  for (const [t, n] of Object.entries(b.descriptors)) out[`memmap.descriptors.${t}`] = n;
  out['memmap.host_bytes_per_page'] = host / pfns;
}

function machine_metrics(m: Machine): Record<string, number> {
  const out: Record<string, number> = {};
  memmap_metrics(m.memmap.bytes(), m.memmap.host_bytes(), m.memmap.pfns, out);
  out['memmap.compound_head'] = m.memmap.counters.compound_head;
  if (m.names.mapcount) {
    const r = vm_report(m.vm);
    let queries = 0;
    let wrong = 0;
    for (const [k, s] of Object.entries(r.metrics.queries)) {
      queries += s.right + s.wrong;
      wrong += s.wrong;
      out[`mapcount.wrong.${k}`] = s.wrong;
      out[`mapcount.queries.${k}`] = s.right + s.wrong;
    }
    out['mapcount.queries'] = queries;
    out['mapcount.wrong'] = wrong;
    out['mapcount.unnecessary_copies'] = r.metrics.cow.unnecessaryCopies;
    out['mapcount.unsafe_reuses'] = r.metrics.cow.unsafeReuses;
    out['mapcount.leaked_writes'] = r.metrics.leakedWrites;
    out['mapcount.stale_pin_writes'] = r.metrics.stalePinWrites;
    out['mapcount.metadata_bytes'] = r.metadata.fieldBytes;
    out['mapcount.charged_bytes'] = r.metadata.chargedBytes;
    flatten('mapcount.cost', r.policyCost, out);
    flatten('vm.faults', r.metrics.faults, out);
    flatten('vm.cow', r.metrics.cow, out);
    flatten('vm.split', r.metrics.split, out);
    out['vm.oom'] = r.metrics.oom;
    out['vm.pagetable_pages'] = r.pagetablePages;
    if (r.policyCost && typeof (r.policyCost as unknown as Record<string, unknown>).atomics === 'number') out['mapcount.atomics'] = (r.policyCost as unknown as Record<string, number>).atomics!;
    if (r.policyCost && typeof (r.policyCost as unknown as Record<string, unknown>).cachelines === 'number') out['mapcount.cache_lines'] = (r.policyCost as unknown as Record<string, number>).cachelines!;
  }
  if (m.names.fs) {
    const s = m.pagecache.stats;
    // The FS-METRICS names, as the simulator and the kernel probe both report them; histograms flattened.
    const fm = s.metrics() as unknown as Record<string, number | Record<string, number>>;
    for (const k of FS_METRIC_KEYS) {
      const v = fm[k]!;
      if (typeof v === 'number') out[`fs.${k}`] = v;
    }
    out['fs.bytes'] = s.detail.read_bytes + s.detail.write_bytes;
    s.folios_by_order.forEach((n, o) => {
      if (n) out[`fs.folios_added.order${o}`] = n;
    });
  }
  for (const r of m.contendResults()) {
    const p = r.metrics;
    out['pagewait.wakeups'] = (out['pagewait.wakeups'] ?? 0) + p.wakeups;
    out['pagewait.tasks_woken'] = (out['pagewait.tasks_woken'] ?? 0) + p.tasksWoken;
    out['pagewait.walk_mean'] = p.walkPerWake.mean;
    out['pagewait.walk_p99'] = p.walkPerWake.p99;
    out['pagewait.walk_max'] = Math.max(out['pagewait.walk_max'] ?? 0, p.walkPerWake.max);
    out['pagewait.walk_pass_max'] = Math.max(out['pagewait.walk_pass_max'] ?? 0, p.walkPerPassMax);
    out['pagewait.foreign_walked'] = (out['pagewait.foreign_walked'] ?? 0) + p.foreignEntriesWalked;
    out['pagewait.longest_bucket'] = Math.max(out['pagewait.longest_bucket'] ?? 0, p.longestQueue);
    out['pagewait.latency_p50_ns'] = p.waitLatency.p50;
    out['pagewait.latency_p99_ns'] = p.waitLatency.p99;
    out['pagewait.latency_max_ns'] = Math.max(out['pagewait.latency_max_ns'] ?? 0, p.waitLatency.max);
    out['pagewait.handoffs'] = (out['pagewait.handoffs'] ?? 0) + p.lockHandoffs;
    out['pagewait.table_bytes'] = p.memory.staticTableBytes;
    out['pagewait.attached_peak_bytes'] = Math.max(out['pagewait.attached_peak_bytes'] ?? 0, p.memory.peakAttachedBytes);
    out['pagewait.mapping_indirections'] = (out['pagewait.mapping_indirections'] ?? 0) + p.mappingIndirections;
    out['pagewait.truncate_see_throughs'] = (out['pagewait.truncate_see_throughs'] ?? 0) + p.truncateSeeThroughs;
  }
  return out;
}

export { PageType };
