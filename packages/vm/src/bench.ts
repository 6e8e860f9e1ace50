import { Memmap, type Layout } from '@foliolab/memmap';
import { vm_fork } from './fork.js';
import { NoMapcountPolicy } from './null-policy.js';
import type { MapcountPolicy } from './policy.js';
import { VM_HUGEPAGE } from './vma.js';
import { vm_compose, type Vm } from './vm.js';

export interface BenchVmOptions {
  /** Layouts to run on, by name. Required: the vm does not depend on any layout package. */
  layouts: Record<string, () => Layout>;
  /** Policies by name. Default: only `none` (the vm without a mapcount). */
  policies?: Record<string, () => MapcountPolicy>;
  /** Bytes of the host buffer touched to measure the host kernel's fault rate. Default 512 MiB. */
  hostBytes?: number;
  /** Simulated 4 KiB pages faulted per run. Default 1 Mi (4 GiB). */
  faultPages?: number;
  /** Size of the THP-backed process that forks. Default 1 GiB. */
  forkBytes?: number;
  /** Also run calibration_fault_rate() (default true). */
  calibrate?: boolean;
}

export interface BenchVmRow {
  layout: string;
  policy: string;
  /** Simulated 4 KiB anonymous write faults per second, first pass (the simulator's memory is new). */
  faultsPerSec: number;
  /** Ratio to the host kernel's page-touch rate measured in the same run (hostPagesPerSec; budget >= 100). */
  vsHost: number;
  /** The same faults again after munmap: the steady state, with the simulator's memory reused. */
  faultsPerSecWarm: number;
  vsHostWarm: number;
  /** Wall time of fork() of a process with forkBytes of PMD-mapped THPs, in ms. */
  forkThpMs: number;
  /** Host bytes per simulated page (layout + allocator + page tables + vm per-PFN state), after the fault run. */
  hostBytesPerPage: number;
  refused?: string;
}

export interface BenchVmResult {
  /**
   * The host kernel's rate the ratios are taken against: the faster of two measurements in this
   * process, before the compositions run and after them, so that a moment of a slow host (a busy
   * neighbour on a shared machine) cannot make a ratio look better than it is.
   */
  hostPagesPerSec: number;
  /** Both measurements: [before, after]. */
  hostSamples: [number, number];
  /** calibration_fault_rate() in the same run: the bare loop's faults/s, first and second pass (absent with calibrate: false). */
  calibration?: { cold: number; warm: number };
  hostBytes: number;
  rows: BenchVmRow[];
}

/**
 * The host kernel's own fault rate: first touch of every 4 KiB of a fresh buffer (new pages are
 * mapped lazily on the first write; with host THP a fault may map more than one page, so this is
 * pages per second, the unit the simulated figure uses too).
 */
export function host_fault_rate(bytes: number): number {
  const buf = new Uint8Array(bytes);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < bytes; i += 4096) buf[i] = 1;
  const ns = Number(process.hrtime.bigint() - t0);
  return bytes / 4096 / (ns / 1e9);
}

/** The composition a fault-rate run measures: `pages` to fault, 64 MiB more for page tables. */
function bench_compose(mkLayout: () => Layout, mkPolicy: () => MapcountPolicy, pages: number): ReturnType<typeof vm_compose> {
  // eagerInit: the memmap is initialized before timing, as at boot, so that the loop times faults only;
  // with it the vm's per-PFN state (PageState) and a layout's descriptor room (memdesc) are made then too.
  return vm_compose({ memmap: new Memmap({ layout: mkLayout(), memory: pages * 4096 + (64 << 20), eagerInit: true }), policy: mkPolicy(), thp: 'never' });
}

/**
 * Brings the fault path to the JIT tier it runs at in a long simulation: the whole measurement once,
 * thrown away, in a composition of its own of the same size (the same layout and policy classes, so
 * V8's optimised code and type feedback carry over; its memory is not the measured one's).
 * A smaller warm-up is not enough: code optimised on it met branches and values it had not seen
 * (a new section's per-PFN arrays, the allocator's fragments after munmap) and was thrown away again
 * during the measured first pass, whose first 1.5 GiB then ran at 45-60 ns per fault against 23-25
 * from then on.
 * Returns the composition, which the caller keeps alive: its freed host memory must not be handed to
 * the measured composition's new arrays (that would make their first touch look free).
 */
function jit_warmup(mkLayout: () => Layout, mkPolicy: () => MapcountPolicy, pages: number): Vm | null {
  const c = bench_compose(mkLayout, mkPolicy, pages);
  if (!c.ok) return null;
  sim_fault_rate(c.vm, pages);
  return c.vm;
}

/**
 * Simulated fault rate: one process writes `pages` fresh 4 KiB pages of a THP-disabled region. `cold`
 * is the first pass: no simulated page has been faulted before, the buddy allocator splits its boot
 * blocks, every page table is new (its host memory, like the memmap's, was written at boot: the host
 * kernel's faults on the simulator's own arrays are not what is timed). `warm` unmaps everything and
 * writes the same range again, the steady state of a long simulation that reuses what it freed: the
 * allocator hands out what munmap freed (per-cpu list first), memdesc clears reused descriptors.
 */
function sim_fault_rate(vm: Vm, pages: number): { cold: number; warm: number } {
  const mm = vm.spawn('bench');
  const len = pages * 4096;
  const v = vm.mmap(mm, len, { align: 4096 });
  // The first slice is not timed: it meets this composition's own objects (inline caches) after jit_warmup().
  const warm = Math.min(len, 16 << 20);
  vm.touch(mm, v.start, warm, true);
  let t0 = process.hrtime.bigint();
  vm.touch(mm, v.start + warm, len - warm, true);
  const cold = (len - warm) / 4096 / (Number(process.hrtime.bigint() - t0) / 1e9);
  vm.munmap(mm, v.start, len);
  const w = vm.mmap(mm, len, { align: 4096 });
  t0 = process.hrtime.bigint();
  vm.touch(mm, w.start, len, true);
  return { cold, warm: len / 4096 / (Number(process.hrtime.bigint() - t0) / 1e9) };
}

/**
 * DESIGN §2's calibration loop, the least a simulated fault can cost: pop a PFN off an order-0 free
 * stack, write the struct page's flags, mapping, index, refcount and mapcount, write a flat PTE. No
 * buddy allocator, policy, oracle, VMA or counter. It is the ceiling the simulated figure is read
 * against: `cold` with a new page table (as the simulator's first pass), `warm` on the same memory again.
 */
export function calibration_fault_rate(pages: number): { cold: number; warm: number } {
  const free = new Int32Array(pages);
  // The memmap is written before timing, as the simulator's is (Memmap eagerInit, memmap_init at boot):
  // the first pass pays the host's faults on the page table only, as the simulator's first pass does.
  const memmap = new Int32Array(pages * 16).fill(0);
  const pte = new Uint32Array(pages);
  const pass = (): number => {
    for (let i = 0; i < pages; i++) free[i] = pages - 1 - i;
    pte.fill(0);
    let top = pages;
    const t0 = process.hrtime.bigint();
    for (let va = 0; va < pages; va++) {
      if (pte[va] !== 0) continue;
      const pfn = free[--top]!;
      const k = pfn * 16;
      memmap[k] = 0x80000;
      memmap[k + 1] = 1 << 24;
      memmap[k + 6] = 1;
      memmap[k + 8] = va;
      memmap[k + 12] = 0;
      memmap[k + 13] = 1;
      pte[va] = pfn * 16 + 3;
    }
    return pages / (Number(process.hrtime.bigint() - t0) / 1e9);
  };
  const cold = pass();
  return { cold, warm: pass() };
}

function fork_thp_ms(vm: Vm, bytes: number): number {
  const mm = vm.spawn('thp');
  const v = vm.mmap(mm, bytes, { align: 2 << 20, flags: VM_HUGEPAGE });
  vm.touch(mm, v.start, bytes, true);
  const t0 = process.hrtime.bigint();
  vm_fork(vm, mm, 'thp-child');
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** `npm run bench` figures for the vm. Prints nothing; returns the numbers. */
export function benchVm(opts: BenchVmOptions): BenchVmResult {
  const hostBytes = opts.hostBytes ?? 512 << 20;
  const pages = opts.faultPages ?? 1 << 20;
  const forkBytes = opts.forkBytes ?? 1 << 30;
  const policies = opts.policies ?? { none: () => new NoMapcountPolicy() };
  const hostBefore = host_fault_rate(hostBytes);
  const rows: BenchVmRow[] = [];
  const warmed: (Vm | null)[] = [];
  for (const [lname, mkLayout] of Object.entries(opts.layouts)) {
    for (const [pname, mkPolicy] of Object.entries(policies)) {
      warmed.push(jit_warmup(mkLayout, mkPolicy, pages));
      const c = bench_compose(mkLayout, mkPolicy, pages);
      if (!c.ok) {
        rows.push({ layout: lname, policy: pname, faultsPerSec: 0, vsHost: 0, faultsPerSecWarm: 0, vsHostWarm: 0, forkThpMs: 0, hostBytesPerPage: 0, refused: c.refusals.map((r) => `${r.field}: ${r.reason}`).join('; ') });
        continue;
      }
      const rate = sim_fault_rate(c.vm, pages);
      const hostBytesPerPage = c.vm.host_bytes() / c.vm.memmap.pfns;
      const f = vm_compose({ memmap: new Memmap({ layout: mkLayout(), memory: forkBytes * 2 + (256 << 20) }), policy: mkPolicy(), thp: 'madvise' });
      const forkThpMs = f.ok ? fork_thp_ms(f.vm, forkBytes) : 0;
      rows.push({
        layout: lname,
        policy: pname,
        faultsPerSec: rate.cold,
        vsHost: 0,
        faultsPerSecWarm: rate.warm,
        vsHostWarm: 0,
        forkThpMs,
        hostBytesPerPage,
      });
    }
  }
  // Last, so that the compositions' first passes do not get host memory the calibration freed.
  const calibration = opts.calibrate === false ? undefined : calibration_fault_rate(pages);
  // The warm-up compositions are held until here (see jit_warmup()).
  warmed.length = 0;
  const hostAfter = host_fault_rate(hostBytes);
  const hostPagesPerSec = Math.max(hostBefore, hostAfter);
  for (const row of rows) {
    row.vsHost = row.faultsPerSec / hostPagesPerSec;
    row.vsHostWarm = row.faultsPerSecWarm / hostPagesPerSec;
  }
  return { hostPagesPerSec, hostSamples: [hostBefore, hostAfter], ...(calibration ? { calibration } : {}), hostBytes, rows };
}
