import {
  HPAGE_PMD_NR,
  HPAGE_PMD_ORDER,
  PAGE_SIZE,
  PFN_SECTION_SHIFT,
  PageType,
  VmBug,
  field_add,
  field_get,
  field_set,
  field_get_u64,
  field_set_u64,
  field_set_word,
  is_refusal,
  UnitRuns,
  type AnonRmapWrite,
  type CoreFolioFields,
  type FieldHandle,
  type Layout,
  type Memmap,
  type PlacementResult,
} from '@foliolab/memmap';
import { VmStepError, type VmRefusal } from './errors.js';
import { metrics_new, score_bool, type VmMetrics } from './metrics.js';
import { Mm, MmIdAllocator } from './mm.js';
import { Oracle } from './oracle.js';
import { E_HUGE, E_PRESENT, E_WRITE, PMD_SIZE, PTRS, PageTables } from './pagetable.js';
import { PFN_MASK } from './pfn-array.js';
import { PAE, PageState } from './page-state.js';
import { deferred_split_scan } from './split.js';
import { RMAP_PMD, RMAP_PTE, type MapcountPolicy, type PolicyEnv } from './policy.js';
import { PROT_READ, PROT_WRITE, VM_HUGEPAGE, VM_NOHUGEPAGE, VM_SHARED, Vma } from './vma.js';

export type ThpMode = 'always' | 'madvise' | 'never';

/**
 * The hook a page cache plugs into (filemap_fault): give the vm the folio backing page `pgoff` of
 * `file`, with one reference taken for the mapping the vm is about to create, or null beyond EOF.
 */
export interface FileFaultHandler {
  fault(file: string, pgoff: number, write: boolean): { folio: number; page: number } | null;
  /** A shared mapping's page is about to become writable (->page_mkwrite: the folio gets dirty). */
  page_mkwrite?(file: string, folio: number): void;
}

export interface VmOptions {
  memmap: Memmap;
  policy: MapcountPolicy;
  /** /sys/kernel/mm/transparent_hugepage/enabled for the PMD size. Default madvise. */
  thp?: ThpMode;
  /** mTHP sizes in bytes (16 KiB .. 1 MiB) enabled as "inherit": they follow `thp`. */
  mthp?: readonly number[];
  /** transparent_hugepage/use_zero_page. Default true, as the kernel. */
  hugeZeroPage?: boolean;
  /** CONFIG_DEBUG_VM: vmSteps runs vm_check() after every step. */
  debugVm?: boolean;
  fileFault?: FileFaultHandler;
  /**
   * Handle a run of order-0 anonymous write faults in one page table as a batch (the same state and
   * counters, stage by stage). Default true; false runs do_anonymous_page() once per fault, the
   * reference the batch is tested against.
   */
  faultBatch?: boolean;
}

export type VmComposeResult =
  | { ok: true; vm: Vm; placements: readonly PlacementResult[] }
  | { ok: false; refusals: VmRefusal[]; placements: readonly PlacementResult[] };

/** GUP_PIN_COUNTING_BIAS: a FOLL_PIN on a small folio adds 1024 to its refcount. */
export const GUP_PIN_COUNTING_BIAS = 1024;
/** mmap_base of the simulated processes (top-down allocation below it, as the x86-64 default layout). */
export const MMAP_BASE = 0x7f00_0000_0000;
const MMAP_MIN = 0x1_0000;
const NO_STATE = new Uint8Array(0);

/** A GUP pin: pages pinned from one process's range, with the PFNs they hold. */
export interface Pin {
  name: string;
  mm: Mm;
  start: number;
  pfns: Int32Array;
  write: boolean;
  longterm: boolean;
}

/** Compose a vm: the policy declares its fields; a refusal by the layout is returned as a result. */
export function vm_compose(opts: VmOptions): VmComposeResult {
  const placements = opts.policy.declare(opts.memmap);
  const refusals: VmRefusal[] = [];
  for (const p of placements) {
    if (is_refusal(p)) refusals.push({ policy: opts.policy.name, layout: opts.memmap.layout.name, field: p.decl.name, reason: p.refused });
  }
  if (refusals.length > 0) return { ok: false, refusals, placements };
  return { ok: true, vm: new Vm(opts, placements), placements };
}

/**
 * The address-space layer: processes, VMAs, page tables, faults, fork/COW, munmap, mremap,
 * mprotect, madvise, THP, GUP pins and the split of PMDs and folios. Every rmap change goes through
 * the MapcountPolicy; the Oracle follows the page tables exactly; decisions that consult the policy
 * are scored against the oracle in `metrics`.
 *
 * Refcount rule (v6.15 COW patch): one folio reference per present page-table entry that maps it,
 * taken before the mapcount when mapping, dropped after it when unmapping.
 */
export class Vm {
  readonly memmap: Memmap;
  readonly layout: Layout;
  readonly core: CoreFolioFields;
  readonly policy: MapcountPolicy;
  readonly placements: readonly PlacementResult[];
  readonly pt: PageTables;
  readonly oracle: Oracle;
  readonly metrics: VmMetrics = metrics_new();
  readonly thp: ThpMode;
  /** mTHP orders below PMD order, largest first. */
  readonly mthpOrders: number[];
  readonly debugVm: boolean;
  readonly faultBatch: boolean;
  readonly fileFault: FileFaultHandler | undefined;
  readonly mms = new Map<string, Mm>();
  /** Exited processes keep their name reserved so that steps naming them get a clear error. */
  readonly exited = new Set<string>();
  readonly zeroPfn: number;
  readonly hugeZeroPfn: number;
  /** Page tables deposited with PMD maps (pgtable_trans_huge_deposit), keyed by the PMD entry's index. */
  readonly deposit = new Map<number, number>();
  /** The deferred split queue (folio ids, in the order they were queued). */
  readonly deferred = new Set<number>();
  readonly pins: Pin[] = [];
  /** vm-owned byte per PFN: PageAnonExclusive and the oracle's PTE count. */
  readonly pageState: PageState;
  readonly pincount: FieldHandle;
  readonly deferredList: FieldHandle;
  private readonly ids = new MmIdAllocator();
  vmaSeq = 0;
  anonVmaSeq = 0;
  private readonly zeroEntry: number;

  constructor(opts: VmOptions, placements: readonly PlacementResult[]) {
    this.memmap = opts.memmap;
    this.layout = opts.memmap.layout;
    this.core = this.layout.core;
    this.policy = opts.policy;
    this.placements = placements;
    this.thp = opts.thp ?? 'madvise';
    this.debugVm = opts.debugVm ?? false;
    this.faultBatch = opts.faultBatch ?? true;
    this.fileFault = opts.fileFault;
    this.pageState = new PageState(this.memmap.sections);
    if (this.memmap.eagerInit) this.pageState.bytes.eager();
    this.oracle = new Oracle(this.pageState);
    const state = this.pageState;
    this.memmap.on_free((pfn, nr) => state.pae_clear_free(pfn, nr));
    const orders = new Set<number>();
    for (const size of opts.mthp ?? []) {
      const pages = size / PAGE_SIZE;
      const order = Math.log2(pages);
      if (!Number.isInteger(order) || order < 2 || order > HPAGE_PMD_ORDER) {
        throw new VmStepError('machine.mthp', `${size} bytes is not an mTHP size (a power of two from 16 KiB to 2 MiB)`);
      }
      if (order < HPAGE_PMD_ORDER) orders.add(order);
    }
    this.mthpOrders = [...orders].sort((a, b) => b - a);
    // The vm's own folio fields: _pincount (page[1] / descriptor) and _deferred_list (page[2]).
    const pin = this.memmap.place({ owner: '@foliolab/vm', name: '_pincount', scope: 'large-folio', init: 0, minOrder: 1 });
    const dl = this.memmap.place({ owner: '@foliolab/vm', name: '_deferred_list', scope: 'large-folio', words: 4, init: 0, minOrder: 2 });
    if (is_refusal(pin) || is_refusal(dl)) throw new VmBug(`${this.layout.name} refused a core folio field`);
    this.pincount = pin.handle;
    this.deferredList = dl.handle;
    this.pt = new PageTables(this.memmap);
    // The shared zero page (and the huge zero page): not folios, never refcounted or mapcounted.
    const z = this.memmap.alloc_object(PageType.zero_page, 0);
    if (z < 0) throw new VmStepError('machine.memory', 'too small to hold the zero page');
    this.zeroPfn = this.layout.object_pfn(PageType.zero_page, z);
    this.zeroEntry = this.zeroPfn * 16 + E_PRESENT;
    if (opts.hugeZeroPage ?? true) {
      const hz = this.memmap.alloc_object(PageType.zero_page, HPAGE_PMD_ORDER);
      this.hugeZeroPfn = hz < 0 ? -1 : this.layout.object_pfn(PageType.zero_page, hz);
    } else this.hugeZeroPfn = -1;
    const env: PolicyEnv = {
      memmap: this.memmap,
      folio_ptes_in_table: (folio, vma, pt) => this.folio_ptes_in_table(folio, vma, pt),
      folio_entries_in_vma: (folio, vma) => this.folio_entries_in_vma(folio, vma),
    };
    this.policy.attach(env);
    const writes = this.policy.folio_add_new_anon_rmap_batch !== undefined ? this.policy.new_anon_rmap_writes?.() : undefined;
    this.anonRmap = { index: 0, writes: writes ?? [] };
  }

  /**
   * What folio_add_new_anon_rmap() writes on a batch of new order-0 folios, handed to
   * folio_alloc_bulk(): each batch's first index, and the policy's writes when it names them (else
   * none: its batch call makes them). One object, reused: the layout keeps what it derived from
   * `writes` while it is the same array.
   */
  private readonly anonRmap: { index: number; writes: readonly AnonRmapWrite[] };

  // ------------------------------------------------------------------ processes

  proc(name: string, field = 'proc'): Mm {
    const mm = this.mms.get(name);
    if (mm === undefined) {
      throw new VmStepError(field, this.exited.has(name) ? `process "${name}" has exited` : `process "${name}" does not exist`);
    }
    return mm;
  }

  spawn(name: string): Mm {
    if (this.mms.has(name)) throw new VmStepError('proc', `process "${name}" already exists`);
    const pgd = this.pt.alloc(4);
    if (pgd < 0) throw new VmStepError('proc', `out of memory creating "${name}"`);
    const mm = new Mm(name, this.ids.alloc(), pgd);
    mm.pgtables = 1;
    this.exited.delete(name);
    this.mms.set(name, mm);
    return mm;
  }

  /** exit_mmap(): unmap everything, free the page tables, release the MM id. Pins outlive the process. */
  exit(mm: Mm): void {
    for (const vma of [...mm.vmas]) this.zap_range(mm, vma, vma.start, vma.end);
    const spans = mm.vmas.map((v) => [v.start, v.end] as const);
    mm.vmas.length = 0;
    for (const [s, e] of spans) this.free_pgtables(mm, s, e);
    this.free_table_tree(mm, mm.pgd, 4);
    mm.exited = true;
    this.ids.free(mm.id);
    this.mms.delete(mm.name);
    this.exited.add(mm.name);
  }

  /** Free whatever page tables are left below a table (after every VMA is gone they are empty). */
  private free_table_tree(mm: Mm, slot: number, level: number): void {
    const ent = this.pt.ent;
    if (level > 2) {
      for (let i = 0; i < PTRS; i++) {
        const e = ent[slot * PTRS + i]!;
        if (e !== 0) this.free_table_tree(mm, e >>> 4, level - 1);
      }
    } else if (level === 2) {
      for (let i = 0; i < PTRS; i++) {
        const e = this.pt.ent[slot * PTRS + i]!;
        if (e === 0) continue;
        if (e & E_HUGE) throw new VmBug(`exit: ${mm.name} still has a PMD map`);
        this.pt.free(e >>> 4);
        mm.pgtables--;
      }
    }
    this.pt.free(slot);
    mm.pgtables--;
  }

  // ------------------------------------------------------------------ VMAs and address space

  /** get_unmapped_area(), top-down below MMAP_BASE, start aligned to `align`. */
  get_unmapped_area(mm: Mm, len: number, align: number): number {
    let hi = MMAP_BASE;
    for (let i = mm.vmas.length - 1; i >= -1; i--) {
      const lo = i >= 0 ? mm.vmas[i]!.end : MMAP_MIN;
      if (i >= 0 && mm.vmas[i]!.start >= hi) continue;
      const cand = Math.floor((hi - len) / align) * align;
      if (cand >= lo) return cand;
      if (i >= 0) hi = Math.min(hi, mm.vmas[i]!.start);
    }
    throw new VmStepError('size', `no room for ${len} bytes in ${mm.name}'s address space`);
  }

  /**
   * mmap(): a new VMA. Anonymous mappings whose length is a multiple of 2 MiB are PMD-aligned as
   * thp_get_unmapped_area() does (v6.10+); `align` forces an alignment.
   */
  mmap(mm: Mm, len: number, opts: { align?: number; prot?: number; flags?: number; file?: string | null; fileOffset?: number } = {}): Vma {
    const file = opts.file ?? null;
    let align = opts.align ?? PAGE_SIZE;
    if (file === null && !(opts.flags! & VM_SHARED) && len % PMD_SIZE === 0) align = Math.max(align, PMD_SIZE);
    const start = this.get_unmapped_area(mm, len, align);
    const pgoff = file === null ? start / PAGE_SIZE : (opts.fileOffset ?? 0) / PAGE_SIZE;
    const vma = new Vma(++this.vmaSeq, mm, start, start + len, opts.prot ?? PROT_READ | PROT_WRITE, opts.flags ?? 0, pgoff, 0, file);
    mm.insert_vma(vma);
    return vma;
  }

  /** __split_vma(): split at addr, splitting a PMD map that straddles it (vma_adjust_trans_huge). Returns the upper part. */
  split_vma(mm: Mm, vma: Vma, addr: number): Vma {
    if (addr <= vma.start || addr >= vma.end) throw new VmBug(`split_vma at ${addr} outside (${vma.start}, ${vma.end})`);
    if (addr % PMD_SIZE !== 0) this.split_huge_pmd_address(mm, vma, addr);
    const upper = new Vma(++this.vmaSeq, mm, addr, vma.end, vma.prot, vma.flags, vma.pgoff + (addr - vma.start) / PAGE_SIZE, vma.anonVma, vma.file);
    vma.end = addr;
    mm.insert_vma(upper);
    return upper;
  }

  /** The VMAs covering [start, end) after splitting at both ends; holes are allowed. */
  vmas_split_range(mm: Mm, start: number, end: number): Vma[] {
    const first = mm.find_vma(start);
    if (first && first.start < start) this.split_vma(mm, first, start);
    const last = mm.find_vma(end - 1);
    if (last && last.end > end) this.split_vma(mm, last, end);
    const out: Vma[] = [];
    for (let i = mm.vma_index_after(start); i < mm.vmas.length && mm.vmas[i]!.start < end; i++) out.push(mm.vmas[i]!);
    return out;
  }

  /** vma_merge() around a changed range: fold neighbours that became identical. */
  merge_range(mm: Mm, start: number, end: number): void {
    let i = Math.max(0, mm.vma_index_after(start) - 1);
    while (i + 1 < mm.vmas.length && mm.vmas[i]!.start <= end) {
      const a = mm.vmas[i]!;
      const b = mm.vmas[i + 1]!;
      if (a.can_merge(b)) {
        a.end = b.end;
        if (a.anonVma === 0) a.anonVma = b.anonVma;
        mm.vmas.splice(i + 1, 1);
      } else i++;
    }
  }

  // ------------------------------------------------------------------ page-table walk

  /**
   * Index in pt.ent of the PMD entry covering PMD number pmdn (address / 2 MiB), allocating the
   * PUD and PMD tables on the way if `alloc`. -1 if absent (or out of memory).
   */
  pmd_loc(mm: Mm, pmdn: number, alloc: boolean): number {
    let slot = mm.pgd;
    let idx = pmdn >>> 18;
    for (let level = 4; level > 2; level--) {
      const at = slot * PTRS + idx;
      let e = this.pt.ent[at]!;
      if (e === 0) {
        if (!alloc) return -1;
        const t = this.pt.alloc(level - 1);
        if (t < 0) {
          this.metrics.oom++;
          return -1;
        }
        mm.pgtables++;
        e = this.pt.ent[at] = t * 16 + E_PRESENT;
      }
      slot = e >>> 4;
      idx = level === 4 ? (pmdn >>> 9) & 511 : pmdn & 511;
    }
    return slot * PTRS + idx;
  }

  /** Index in pt.ent of the PTE for addr, or -1 if there is no PTE table (none or a PMD map). */
  pte_loc(mm: Mm, addr: number): number {
    const loc = this.pmd_loc(mm, Math.floor(addr / PMD_SIZE), false);
    if (loc < 0) return -1;
    const e = this.pt.ent[loc]!;
    if (e === 0 || e & E_HUGE) return -1;
    return (e >>> 4) * PTRS + ((addr / PAGE_SIZE) & 511);
  }

  /** The PFN mapped at addr (PTE or PMD), or -1. */
  follow_page(mm: Mm, addr: number): number {
    const loc = this.pmd_loc(mm, Math.floor(addr / PMD_SIZE), false);
    if (loc < 0) return -1;
    const e = this.pt.ent[loc]!;
    if (e === 0) return -1;
    if (e & E_HUGE) return (e >>> 4) + ((addr / PAGE_SIZE) & 511);
    const pe = this.pt.ent[(e >>> 4) * PTRS + ((addr / PAGE_SIZE) & 511)]!;
    return pe === 0 ? -1 : pe >>> 4;
  }

  /** pte_alloc(): give the PMD entry at loc a PTE table. */
  pte_alloc(mm: Mm, loc: number): number {
    const t = this.pt.alloc(1);
    if (t < 0) {
      this.metrics.oom++;
      return -1;
    }
    mm.pgtables++;
    this.pt.ent[loc] = t * 16 + E_PRESENT;
    return t;
  }

  // ------------------------------------------------------------------ folio helpers

  folio_set_index(folio: number, idx: number): void {
    field_set_u64(this.core.index, folio, idx);
  }

  folio_index(folio: number): number {
    return field_get_u64(this.core.index, folio);
  }

  /** The folio holding pfn without counting a compound_head (simulator bookkeeping, not kernel work). */
  folio_of(pfn: number): number {
    return this.layout.page_object(pfn);
  }

  /** is_zero_pfn() || is_huge_zero_pfn(): a page of the shared zero page or of the huge zero folio. */
  is_zero_pfn(pfn: number): boolean {
    return pfn === this.zeroPfn || (this.hugeZeroPfn >= 0 && pfn >= this.hugeZeroPfn && pfn < this.hugeZeroPfn + HPAGE_PMD_NR);
  }

  pae(pfn: number): boolean {
    return this.pageState.pae(pfn);
  }

  pae_set_range(pfn: number, nr: number, on: boolean): void {
    this.pageState.pae_set(pfn, nr, on);
  }

  /** folio_maybe_dma_pinned(). */
  folio_maybe_dma_pinned(folio: number): boolean {
    if (this.memmap.folio_test_large(folio)) return field_get(this.pincount, folio) > 0;
    return this.memmap.folio_ref_count(folio) >= GUP_PIN_COUNTING_BIAS;
  }

  /** Drop n references; the last frees the folio (and takes it off the deferred split queue). */
  folio_put_refs(folio: number, n: number): void {
    if (n > 1) {
      const r = field_add(this.core.refcount, folio, -(n - 1));
      if (r < 1) throw new VmBug(`folio ${folio}: refcount underflow dropping ${n} references (${r - 1})`);
    }
    if (this.memmap.folio_put(folio)) this.deferred.delete(folio);
  }

  private folio_alloc_or_reclaim(order: number): number {
    let f = this.memmap.folio_alloc(order, PageType.anon);
    if (f < 0 && order === 0 && this.deferred.size > 0) {
      this.shrink();
      f = this.memmap.folio_alloc(order, PageType.anon);
    }
    return f;
  }

  /** Deferred split: the folio split happens when the queue is processed (memory pressure or shrink()). */
  shrink(): number {
    return deferred_split_scan(this);
  }

  // ------------------------------------------------------------------ faults

  thp_vma_allowed(vma: Vma): boolean {
    if (!vma.anon || vma.flags & VM_NOHUGEPAGE || this.thp === 'never') return false;
    return this.thp === 'always' || (vma.flags & VM_HUGEPAGE) !== 0;
  }

  /**
   * Access [start, start+len) of mm as the CPU would: a fault for every page whose entry is none or
   * does not allow the access, nothing for the others. Write accesses are checked for leaks.
   */
  touch(mm: Mm, start: number, len: number, write: boolean): void {
    const end = start + len;
    let va = start - (start % PAGE_SIZE);
    while (va < end) {
      const vma = mm.find_vma(va);
      if (vma === undefined) throw new VmStepError('offset', `address 0x${va.toString(16)} is not mapped in ${mm.name} (SIGSEGV)`);
      if (!(vma.prot & PROT_READ) || (write && !(vma.prot & PROT_WRITE))) {
        throw new VmStepError('write', `${write ? 'write to' : 'read from'} 0x${va.toString(16)} in ${mm.name}: the mapping is ${prot_name(vma.prot)} (SIGSEGV)`);
      }
      va = this.touch_vma(mm, vma, va, Math.min(end, vma.end), write);
    }
  }

  private touch_vma(mm: Mm, vma: Vma, va: number, stop: number, write: boolean): number {
    while (va < stop) {
      const pmdn = Math.floor(va / PMD_SIZE);
      const pmdStart = pmdn * PMD_SIZE;
      const pmdStop = Math.min(stop, pmdStart + PMD_SIZE);
      const loc = this.pmd_loc(mm, pmdn, true);
      if (loc < 0) return stop;
      let e = this.pt.ent[loc]!;
      if (e === 0 && pmdStart >= vma.start && pmdStart + PMD_SIZE <= vma.end && this.thp_vma_allowed(vma)) {
        this.do_huge_pmd_anonymous_page(mm, vma, loc, pmdStart, write);
        e = this.pt.ent[loc]!;
      }
      if (e & E_HUGE) {
        if (write && !(e & E_WRITE)) {
          this.do_huge_pmd_wp_page(mm, vma, loc, false);
          e = this.pt.ent[loc]!;
        }
        if (e & E_HUGE) {
          if (write) this.write_check_range(mm, va, pmdStop, e >>> 4, pmdStart);
          va = pmdStop;
          continue;
        }
      }
      let slot: number;
      if (e === 0) {
        slot = this.pte_alloc(mm, loc);
        if (slot < 0) return stop;
      } else slot = e >>> 4;
      va = this.touch_ptes(mm, vma, slot, va, pmdStop, write, e === 0);
    }
    return va;
  }

  /**
   * The hot loop: one PTE table, no allocation unless a fault needs a folio. `fresh`: the table was
   * just allocated (all none), so a batch needs no scan for where its none entries end: this loop
   * writes only the entry at va or behind it, so from va on the table stays none.
   */
  private touch_ptes(mm: Mm, vma: Vma, slot: number, va: number, stop: number, write: boolean, fresh: boolean): number {
    let idx = slot * PTRS + ((va / PAGE_SIZE) & 511);
    // Write faults on private anonymous memory without mTHP are all order-0 folios: runs of them go as a batch.
    const batch = this.faultBatch && write && vma.file === null && !(vma.flags & VM_SHARED) && !(this.mthpOrders.length > 0 && this.thp_vma_allowed(vma));
    for (; va < stop; va += PAGE_SIZE, idx++) {
      const pe = this.pt.ent[idx]!;
      if (pe === 0) {
        if (batch) {
          let n = 1;
          if (fresh) n = Math.ceil((stop - va) / PAGE_SIZE);
          else {
            const ent = this.pt.ent;
            while (va + n * PAGE_SIZE < stop && ent[idx + n] === 0) n++;
          }
          if (n > 1) {
            // The batch maps what the per-cpu list can give; the next fault (if any) takes the slow path.
            const done = this.do_anonymous_page_batch(mm, vma, va, slot, idx, n);
            if (done === n) {
              va += (n - 1) * PAGE_SIZE;
              idx += n - 1;
              continue;
            }
            // The rest of the run (still none) takes one fault at a time.
            va += done * PAGE_SIZE;
            idx += done;
          }
        }
        if (this.do_anonymous_page(mm, vma, va, write, slot, idx) < 0) return stop;
      } else if (write) {
        if (!(pe & E_WRITE)) this.do_wp_page(mm, vma, va, slot, idx, false);
        this.write_check(mm, va, this.pt.ent[idx]! >>> 4);
      }
    }
    return va;
  }

  /** Leak and stale-pin checks for a write reaching pfn at va in mm. */
  private write_check(mm: Mm, va: number, pfn: number): void {
    const folio = this.layout.page_object(pfn);
    if (folio < 0) return;
    const head = this.memmap.folio_pfn(folio);
    if (this.oracle.page_mapcount(pfn, head) > 1) this.metrics.leakedWrites++;
    if (this.pins.length > 0) this.pin_write_check(mm, va, pfn);
  }

  private write_check_range(mm: Mm, va: number, stop: number, head: number, pmdStart: number): void {
    for (; va < stop; va += PAGE_SIZE) this.write_check(mm, va, head + (va - pmdStart) / PAGE_SIZE);
  }

  private pin_write_check(mm: Mm, va: number, pfn: number): void {
    for (const p of this.pins) {
      const covers = p.mm === mm && va >= p.start && va < p.start + p.pfns.length * PAGE_SIZE;
      const held = covers ? p.pfns[(va - p.start) / PAGE_SIZE]! : -1;
      if (covers && held !== pfn && held !== this.zeroPfn) this.metrics.stalePinWrites++;
      // A pin another process took (vmsplice, then unmap) that holds this page sees our write.
      if (p.mm !== mm && p.pfns.includes(pfn)) this.metrics.leakedWrites++;
    }
  }

  /**
   * do_anonymous_page() (and the zero-page read fault, and the file-fault hook). For write faults the
   * folio order is chosen like alloc_anon_folio(): the largest enabled mTHP order whose naturally
   * aligned range lies in the VMA and whose PTEs are all none, falling back on allocation failure.
   * Returns the pages mapped, or -1 when out of memory.
   */
  do_anonymous_page(mm: Mm, vma: Vma, va: number, write: boolean, slot: number, idx: number): number {
    const m = this.metrics;
    if (vma.file !== null || vma.flags & VM_SHARED) return this.do_file_fault(mm, vma, va, write, idx);
    m.faults.total++;
    if (!write) {
      this.pt.ent[idx] = this.zeroEntry;
      m.faults.zeroPage++;
      return 1;
    }
    if (vma.anonVma === 0) vma.anonVma = ++this.anonVmaSeq;
    let order = 0;
    let folio = -1;
    if (this.mthpOrders.length > 0 && this.thp_vma_allowed(vma)) {
      const vpn = va / PAGE_SIZE;
      for (const o of this.mthpOrders) {
        const nr = 1 << o;
        const start = (vpn - (vpn & (nr - 1))) * PAGE_SIZE;
        if (start < vma.start || start + nr * PAGE_SIZE > vma.end) continue;
        const first = idx - (va - start) / PAGE_SIZE;
        let none = true;
        for (let j = 0; j < nr; j++) if (this.pt.ent[first + j] !== 0) { none = false; break; }
        if (!none) continue;
        folio = this.memmap.folio_alloc(o, PageType.anon);
        if (folio >= 0) {
          order = o;
          break;
        }
      }
    }
    if (folio < 0) folio = this.folio_alloc_or_reclaim(0);
    if (folio < 0) {
      m.oom++;
      return -1;
    }
    if (order === 0) {
      // The order-0 fault, straight-line: the same steps as below with nr = 1.
      const pfn = this.memmap.folio_pfn(folio);
      this.folio_set_index(folio, vma.page_index(va));
      this.pae_set_range(pfn, 1, true);
      this.policy.folio_add_new_anon_rmap(folio, RMAP_PTE, vma, slot);
      this.oracle.map_pte_small(pfn);
      this.pt.ent[idx] = pfn * 16 + (vma.prot & PROT_WRITE ? E_PRESENT | E_WRITE : E_PRESENT);
      mm.rssAnon++;
      m.faults.anon++;
      return 1;
    }
    const nr = 1 << order;
    const head = this.memmap.folio_pfn(folio);
    const start = order === 0 ? va : va - ((va / PAGE_SIZE) & (nr - 1)) * PAGE_SIZE;
    const first = idx - (va - start) / PAGE_SIZE;
    this.folio_set_index(folio, vma.page_index(start));
    if (nr > 1) this.memmap.folio_ref_add(folio, nr - 1);
    this.pae_set_range(head, nr, true);
    this.policy.folio_add_new_anon_rmap(folio, RMAP_PTE, vma, slot);
    this.oracle.map_ptes(head, nr, head, nr > 1, mm.id);
    const bits = vma.prot & PROT_WRITE ? E_PRESENT | E_WRITE : E_PRESENT;
    const ent = this.pt.ent;
    for (let j = 0; j < nr; j++) ent[first + j] = (head + j) * 16 + bits;
    mm.rssAnon += nr;
    if (nr > 1) m.faults.anonMthp++;
    else m.faults.anon++;
    return nr;
  }

  private readonly batchFolios = new Int32Array(PTRS);
  private readonly batchPfns = new Int32Array(PTRS);
  private readonly batchRuns = new UnitRuns(PTRS);

  /**
   * n order-0 anonymous write faults at va, va + 4 KiB, ... whose PTEs (in one table) are all none:
   * exactly the state, counters and policy stats of n do_anonymous_page() calls that each got a folio,
   * with the work done stage by stage (alloc_pages_bulk, rmap, set_ptes) instead of fault by fault.
   * Returns the faults handled; fewer than n when the per-cpu list ran dry (the caller goes on one
   * fault at a time, which reclaims or fails as the kernel would).
   */
  private do_anonymous_page_batch(mm: Mm, vma: Vma, va: number, slot: number, idx: number, n: number): number {
    const pfns = this.batchPfns;
    // With folio ids that are PFNs (struct page), one array serves as both.
    const folios = this.layout.folioIdIsPfn === true ? pfns : this.batchFolios;
    // The memmap builds each folio with its index (and the policy's fields) in the same pass.
    const anon = this.anonRmap;
    anon.index = vma.page_index(va);
    const runs = this.batchRuns;
    const got = this.memmap.folio_alloc_bulk(n, PageType.anon, folios, pfns, anon, runs);
    if (got === 0) return 0;
    if (vma.anonVma === 0) vma.anonVma = ++this.anonVmaSeq;
    const ent = this.pt.ent;
    const bits = vma.prot & PROT_WRITE ? E_PRESENT | E_WRITE : E_PRESENT;
    let sec = -1;
    let state: Uint8Array = NO_STATE;
    // PageAnonExclusive and the oracle's PTE count (one PageState byte, per-section arrays looked up
    // once per section) and the PTE, run by run of consecutive PFNs (the allocator's runs, cut at
    // sections). No policy reads the page table, so the PTEs may be set before the rmap update.
    const at = runs.at;
    for (let q = 0, i = 0; q < runs.count; ) {
      const p0 = pfns[i]!;
      const end = at[q + 1]!;
      const r = Math.min(end - i, PFN_MASK + 1 - (p0 & PFN_MASK));
      if (i + r === end) q++;
      if (p0 >>> PFN_SECTION_SHIFT !== sec) {
        sec = p0 >>> PFN_SECTION_SHIFT;
        state = this.pageState.bytes.ensure(p0);
      }
      const k0 = p0 & PFN_MASK;
      const e0 = idx + i;
      const pte0 = p0 * 16 + bits;
      // A page fresh from the allocator has state 0 (PageState's invariant): it becomes
      // PageAnonExclusive, mapped by one PTE (oracle.map_pte_small()). fill() pays a call, so short
      // runs are stored one by one.
      if (r >= 16) state.fill(PAE | 1, k0, k0 + r);
      else for (let j = 0; j < r; j++) state[k0 + j] = PAE | 1;
      for (let j = 0; j < r; j++) ent[e0 + j] = pte0 + j * 16;
      i += r;
    }
    const policy = this.policy;
    if (policy.folio_add_new_anon_rmap_batch !== undefined) policy.folio_add_new_anon_rmap_batch(folios, pfns, got, vma, slot);
    else for (let i = 0; i < got; i++) policy.folio_add_new_anon_rmap(folios[i]!, RMAP_PTE, vma, slot);
    mm.rssAnon += got;
    this.metrics.faults.total += got;
    this.metrics.faults.anon += got;
    return got;
  }

  /** The file-fault hook: map one page of the page cache (private write faults then COW it). */
  private do_file_fault(mm: Mm, vma: Vma, va: number, write: boolean, idx: number): number {
    const h = this.fileFault;
    if (h === undefined) throw new VmStepError('file', `${vma.file ?? 'shared anonymous memory'} needs a page cache: no FileFaultHandler is attached`);
    const r = h.fault(vma.file ?? `shmem:${vma.anonVma}`, vma.page_index(va), write);
    if (r === null) throw new VmStepError('offset', `0x${va.toString(16)} is beyond the end of ${vma.file} (SIGBUS)`);
    this.metrics.faults.total++;
    this.metrics.faults.file++;
    const slot = Math.floor(idx / PTRS);
    this.policy.folio_add_rmap_ptes(r.folio, r.page, 1, vma, slot);
    this.oracle.map_ptes(r.page, 1, this.memmap.folio_pfn(r.folio), true, mm.id);
    const shared = (vma.flags & VM_SHARED) !== 0;
    if (write && shared) h.page_mkwrite?.(vma.file ?? '', r.folio);
    this.pt.ent[idx] = r.page * 16 + E_PRESENT + (write && shared ? E_WRITE : 0);
    mm.rssFile++;
    if (write && !shared) this.do_wp_page(mm, vma, va, slot, idx, false);
    return 1;
  }

  /** do_huge_pmd_anonymous_page(): a PMD THP (or the huge zero page on a read fault). */
  do_huge_pmd_anonymous_page(mm: Mm, vma: Vma, loc: number, pmdStart: number, write: boolean): void {
    const m = this.metrics;
    if (!write && this.hugeZeroPfn >= 0) {
      const dep = this.pt.alloc(1);
      if (dep < 0) return;
      mm.pgtables++;
      this.deposit.set(loc, dep);
      this.pt.ent[loc] = this.hugeZeroPfn * 16 + E_PRESENT + E_HUGE;
      m.faults.total++;
      m.faults.hugeZeroPage++;
      return;
    }
    if (vma.anonVma === 0) vma.anonVma = ++this.anonVmaSeq;
    const folio = this.memmap.folio_alloc(HPAGE_PMD_ORDER, PageType.anon);
    if (folio < 0) return;
    const dep = this.pt.alloc(1);
    if (dep < 0) {
      this.memmap.folio_put(folio);
      return;
    }
    mm.pgtables++;
    this.deposit.set(loc, dep);
    const head = this.memmap.folio_pfn(folio);
    this.folio_set_index(folio, vma.page_index(pmdStart));
    this.pae_set_range(head, 1, true);
    this.policy.folio_add_new_anon_rmap(folio, RMAP_PMD, vma, Math.floor(loc / PTRS));
    this.oracle.map_pmd(head, mm.id);
    this.pt.ent[loc] = head * 16 + E_PRESENT + E_HUGE + (vma.prot & PROT_WRITE ? E_WRITE : 0);
    mm.rssAnon += HPAGE_PMD_NR;
    m.faults.total++;
    m.faults.anonPmd++;
  }

  /** A write-protect fault, or an unshare (FAULT_FLAG_UNSHARE) for an R/O pin: counted. Returns the metrics. */
  private wp_fault_count(unshare: boolean): VmMetrics {
    const m = this.metrics;
    m.faults.total++;
    if (unshare) m.faults.unshare++;
    else m.faults.wp++;
    return m;
  }

  /**
   * do_huge_pmd_wp_page(): reuse the THP if its head is PageAnonExclusive or we hold the only
   * reference, else split the PMD and let the PTE path COW the one page. Returns true if handled.
   */
  do_huge_pmd_wp_page(mm: Mm, vma: Vma, loc: number, unshare: boolean): boolean {
    const m = this.wp_fault_count(unshare);
    const e = this.pt.ent[loc]!;
    const pfn = e >>> 4;
    if (pfn === this.hugeZeroPfn) {
      if (unshare) return true;
      this.split_huge_pmd(mm, vma, loc);
      return false;
    }
    const folio = this.memmap.page_folio(pfn);
    if (this.pae(pfn)) {
      if (!unshare) this.pt.ent[loc] = e | E_WRITE;
      return true;
    }
    if (this.memmap.folio_ref_count(folio) === 1) {
      this.pae_set_range(pfn, 1, true);
      if (!unshare) this.pt.ent[loc] = e | E_WRITE;
      m.cow.reuses++;
      return true;
    }
    this.split_huge_pmd(mm, vma, loc);
    return false;
  }

  /**
   * do_wp_page() for a present, write-protected PTE (or FAULT_FLAG_UNSHARE for an R/O pin): reuse
   * if PageAnonExclusive; otherwise wp_can_reuse_anon_folio() (small folios: refcount; large: the
   * policy) decides between reuse and wp_page_copy(). Scored against the oracle.
   */
  do_wp_page(mm: Mm, vma: Vma, va: number, slot: number, idx: number, unshare: boolean): void {
    const m = this.wp_fault_count(unshare);
    const pe = this.pt.ent[idx]!;
    const pfn = pe >>> 4;
    if (pfn === this.zeroPfn) {
      // An unshare of the shared zeropage only comes from an R/O long-term pin: it gets its own page.
      this.wp_page_copy(mm, vma, va, slot, idx, -1, pfn, unshare);
      return;
    }
    const folio = this.memmap.page_folio(pfn);
    if (this.memmap.folio_type(folio) !== PageType.anon) {
      if (vma.flags & VM_SHARED) {
        if (!unshare) {
          this.fileFault?.page_mkwrite?.(vma.file ?? '', folio);
          this.pt.ent[idx] = pe | E_WRITE;
        }
        return;
      }
      this.wp_page_copy(mm, vma, va, slot, idx, folio, pfn, unshare);
      return;
    }
    if (this.pae(pfn)) {
      if (!unshare) this.pt.ent[idx] = pe | E_WRITE;
      return;
    }
    const large = this.memmap.folio_test_large(folio);
    const ref = this.memmap.folio_ref_count(folio);
    const reuse = large ? this.policy.wp_can_reuse_large(folio, pfn, vma, ref) : ref === 1;
    const head = this.memmap.folio_pfn(folio);
    const nr = this.memmap.folio_nr_pages(folio);
    const onlyUs = this.oracle.folio_mms(head, nr, large) === 1 && ref === this.oracle.folio_mapcount(head, nr);
    score_bool(m.queries.cow_reuse, reuse, onlyUs);
    if (reuse) {
      if (this.oracle.page_mapcount(pfn, head) > 1) m.cow.unsafeReuses++;
      m.cow.reuses++;
      this.pae_set_range(pfn, 1, true);
      if (!unshare) this.pt.ent[idx] = pe | E_WRITE;
      return;
    }
    if (onlyUs) m.cow.unnecessaryCopies++;
    this.wp_page_copy(mm, vma, va, slot, idx, folio, pfn, unshare);
  }

  /** wp_page_copy(): a new exclusive small folio replaces the PTE; the old page loses one mapping. */
  private wp_page_copy(mm: Mm, vma: Vma, va: number, slot: number, idx: number, oldFolio: number, oldPfn: number, unshare: boolean): void {
    let nf = this.memmap.folio_alloc(0, PageType.anon);
    if (nf < 0 && this.deferred.size > 0) {
      this.shrink();
      nf = this.memmap.folio_alloc(0, PageType.anon);
      // The old folio may have been split by the shrinker: look it up again.
      if (oldFolio >= 0) oldFolio = this.layout.page_object(oldPfn);
    }
    if (nf < 0) {
      this.metrics.oom++;
      return;
    }
    if (vma.anonVma === 0) vma.anonVma = ++this.anonVmaSeq;
    const npfn = this.memmap.folio_pfn(nf);
    this.folio_set_index(nf, vma.page_index(va));
    this.pae_set_range(npfn, 1, true);
    this.policy.folio_add_new_anon_rmap(nf, RMAP_PTE, vma, slot);
    this.oracle.map_ptes(npfn, 1, npfn, false, mm.id);
    this.pt.ent[idx] = npfn * 16 + E_PRESENT + (unshare || !(vma.prot & PROT_WRITE) ? 0 : E_WRITE);
    this.metrics.cow.copies++;
    if (oldFolio < 0) {
      mm.rssAnon++;
      return;
    }
    const anon = this.memmap.folio_type(oldFolio) === PageType.anon;
    if (!anon) {
      mm.rssFile--;
      mm.rssAnon++;
    }
    this.unmap_ptes_of(mm, vma, slot, oldFolio, oldPfn, 1);
  }

  /**
   * The common tail of every PTE unmap: the entries were already cleared. Oracle, policy (whose
   * partially_mapped answer is scored and may queue a deferred split), then the references.
   */
  unmap_ptes_of(mm: Mm, vma: Vma, slot: number, folio: number, pfn: number, n: number): void {
    const head = this.memmap.folio_pfn(folio);
    this.unmap_ptes_known(mm, vma, slot, folio, pfn, n, head, this.memmap.folio_nr_pages(folio), this.memmap.folio_type(folio) === PageType.anon);
  }

  /** unmap_ptes_of() for a caller that has already read the folio's head, size and type. */
  private unmap_ptes_known(mm: Mm, vma: Vma, slot: number, folio: number, pfn: number, n: number, head: number, nr: number, anon: boolean): void {
    const large = nr > 1;
    this.oracle.unmap_ptes(pfn, n, head, large || !anon, mm.id);
    const partial = this.policy.folio_remove_rmap_ptes(folio, pfn, n, vma, slot);
    if (large && anon) this.after_large_remove(folio, head, nr, partial);
    this.folio_put_refs(folio, n);
  }

  after_large_remove(folio: number, head: number, nr: number, partial: boolean): void {
    // Once queued, the kernel does not ask again (the folio is on _deferred_list): nothing to score.
    if (this.deferred.has(folio)) return;
    score_bool(this.metrics.queries.deferred_split, partial, this.oracle.folio_partially_mapped(head, nr));
    if (partial && nr >= 4) {
      this.deferred.add(folio);
      field_set_word(this.deferredList, folio, 0, 1);
      this.metrics.split.folioQueued++;
    }
  }

  // ------------------------------------------------------------------ PMD split

  split_huge_pmd_address(mm: Mm, _vma: Vma, addr: number): void {
    const loc = this.pmd_loc(mm, Math.floor(addr / PMD_SIZE), false);
    if (loc >= 0 && this.pt.ent[loc]! & E_HUGE) this.split_huge_pmd(mm, _vma, loc);
  }

  /**
   * __split_huge_pmd_locked(): the deposited page table receives 512 PTEs; PageAnonExclusive of the
   * head is propagated to every page; the folio gains 511 references (one per PTE, minus the PMD's).
   */
  split_huge_pmd(mm: Mm, vma: Vma, loc: number): void {
    const e = this.pt.ent[loc]!;
    const pfn = e >>> 4;
    const slot = this.deposit.get(loc);
    if (slot === undefined) throw new VmBug(`split_huge_pmd: no deposited page table for PMD entry ${loc}`);
    this.deposit.delete(loc);
    const base = slot * PTRS;
    const ent = this.pt.ent;
    this.metrics.split.pmd++;
    if (pfn === this.hugeZeroPfn) {
      for (let j = 0; j < PTRS; j++) ent[base + j] = this.zeroEntry;
      ent[loc] = slot * 16 + E_PRESENT;
      return;
    }
    const folio = this.memmap.page_folio(pfn);
    const w = e & E_WRITE;
    if (this.pae(pfn)) this.pae_set_range(pfn, HPAGE_PMD_NR, true);
    this.memmap.folio_ref_add(folio, HPAGE_PMD_NR - 1);
    this.policy.folio_split_pmd(folio, vma, Math.floor(loc / PTRS), slot);
    this.oracle.map_ptes(pfn, HPAGE_PMD_NR, pfn, true, mm.id);
    this.oracle.unmap_pmd(pfn, mm.id);
    for (let j = 0; j < PTRS; j++) ent[base + j] = (pfn + j) * 16 + E_PRESENT + w;
    ent[loc] = slot * 16 + E_PRESENT;
  }

  // ------------------------------------------------------------------ zap, munmap

  /** zap_page_range: unmap every entry of [start, end) inside vma. PMDs partly in range are split first. */
  zap_range(mm: Mm, vma: Vma, start: number, end: number): void {
    for (let va = start; va < end; ) {
      const pmdn = Math.floor(va / PMD_SIZE);
      const pmdStart = pmdn * PMD_SIZE;
      const stop = Math.min(end, pmdStart + PMD_SIZE);
      const loc = this.pmd_loc(mm, pmdn, false);
      if (loc >= 0) {
        const e = this.pt.ent[loc]!;
        if (e & E_HUGE) {
          if (va === pmdStart && stop === pmdStart + PMD_SIZE) this.zap_huge_pmd(mm, vma, loc);
          else {
            this.split_huge_pmd(mm, vma, loc);
            this.zap_pte_range(mm, vma, this.pt.ent[loc]! >>> 4, va, stop);
          }
        } else if (e !== 0) this.zap_pte_range(mm, vma, e >>> 4, va, stop);
      }
      va = stop;
    }
  }

  private zap_huge_pmd(mm: Mm, vma: Vma, loc: number): void {
    const e = this.pt.ent[loc]!;
    const pfn = e >>> 4;
    this.pt.ent[loc] = 0;
    const dep = this.deposit.get(loc)!;
    this.deposit.delete(loc);
    this.pt.free(dep);
    mm.pgtables--;
    if (pfn === this.hugeZeroPfn) return;
    const folio = this.memmap.page_folio(pfn);
    this.oracle.unmap_pmd(pfn, mm.id);
    const partial = this.policy.folio_remove_rmap_pmd(folio, vma, Math.floor(loc / PTRS));
    this.after_large_remove(folio, pfn, HPAGE_PMD_NR, partial);
    mm.rssAnon -= HPAGE_PMD_NR;
    this.folio_put_refs(folio, 1);
  }

  /** zap_pte_range(): clear PTEs in batches of consecutive pages of one folio (folio_pte_batch). */
  zap_pte_range(mm: Mm, vma: Vma, slot: number, start: number, end: number): void {
    const ent = this.pt.ent;
    let idx = slot * PTRS + ((start / PAGE_SIZE) & 511);
    const last = idx + (end - start) / PAGE_SIZE;
    while (idx < last) {
      const pe = ent[idx]!;
      if (pe === 0) {
        idx++;
        continue;
      }
      const pfn = pe >>> 4;
      if (pfn === this.zeroPfn) {
        ent[idx++] = 0;
        continue;
      }
      const folio = this.memmap.page_folio(pfn);
      const head = this.memmap.folio_pfn(folio);
      const nr = this.memmap.folio_nr_pages(folio);
      let n = 1;
      if (nr > 1) {
        const fend = head + nr;
        while (idx + n < last && pfn + n < fend && ent[idx + n]! >>> 4 === pfn + n && ent[idx + n] !== 0) n++;
        ent.fill(0, idx, idx + n);
      } else ent[idx] = 0;
      const anon = this.memmap.folio_type(folio) === PageType.anon;
      if (anon) mm.rssAnon -= n;
      else mm.rssFile -= n;
      this.unmap_ptes_known(mm, vma, slot, folio, pfn, n, head, nr, anon);
      idx += n;
    }
  }

  /**
   * free_pgtables(): page tables that no VMA needs any more, below [start, end): a PTE table when no
   * VMA intersects its 2 MiB, a PMD table when none intersects its 1 GiB, a PUD table for 512 GiB.
   */
  free_pgtables(mm: Mm, start: number, end: number): void {
    const ent = this.pt.ent;
    for (let shift = 21; shift <= 39; shift += 9) {
      const span = 2 ** shift;
      for (let n = Math.floor(start / span); n * span < end; n++) {
        const s = n * span;
        if (mm.any_vma_in(s, s + span)) continue;
        const loc = shift === 21 ? this.pmd_loc(mm, n, false) : this.upper_loc(mm, n, shift);
        if (loc < 0 || ent[loc] === 0) continue;
        const e = ent[loc]!;
        if (e & E_HUGE) throw new VmBug(`free_pgtables: PMD map left at 0x${s.toString(16)} in ${mm.name}`);
        const child = e >>> 4;
        if (shift > 21) {
          let empty = true;
          for (let i = 0; i < PTRS; i++) if (ent[child * PTRS + i] !== 0) { empty = false; break; }
          if (!empty) continue;
        } else {
          for (let i = 0; i < PTRS; i++) {
            if (ent[child * PTRS + i] !== 0) throw new VmBug(`free_pgtables: PTE left at 0x${(s + i * PAGE_SIZE).toString(16)} in ${mm.name}`);
          }
        }
        this.pt.free(child);
        mm.pgtables--;
        ent[loc] = 0;
      }
    }
  }

  /** Index of the PUD entry (shift 30) or PGD entry (shift 39) for number n of that span, or -1. */
  private upper_loc(mm: Mm, n: number, shift: number): number {
    if (shift === 39) return mm.pgd * PTRS + (n & 511);
    const e = this.pt.ent[mm.pgd * PTRS + ((n >>> 9) & 511)]!;
    return e === 0 ? -1 : (e >>> 4) * PTRS + (n & 511);
  }

  /** munmap(): split the VMAs at both ends, zap, remove them, free page tables nobody needs. */
  munmap(mm: Mm, start: number, len: number): void {
    const end = start + len;
    const vmas = this.vmas_split_range(mm, start, end);
    for (const v of vmas) this.zap_range(mm, v, v.start, v.end);
    for (const v of vmas) mm.remove_vma(v);
    this.free_pgtables(mm, start, end);
  }

  // ------------------------------------------------------------------ mprotect, madvise

  /**
   * mprotect(): change_protection(). Removing write access write-protects every entry; granting it
   * on a private mapping maps writable only what can_change_pte_writable() allows: anon pages that
   * are PageAnonExclusive (the "mprotect optimization" cow.c checks must never touch shared pages).
   */
  mprotect(mm: Mm, start: number, len: number, prot: number): void {
    const end = start + len;
    for (const v of this.vmas_split_range(mm, start, end)) {
      v.prot = prot;
      this.change_protection(mm, v, v.start, v.end, prot);
    }
    this.merge_range(mm, start, end);
  }

  private change_protection(mm: Mm, vma: Vma, start: number, end: number, prot: number): void {
    const tryWrite = (prot & PROT_WRITE) !== 0;
    const ent = this.pt.ent;
    for (let va = start; va < end; ) {
      const pmdn = Math.floor(va / PMD_SIZE);
      const stop = Math.min(end, (pmdn + 1) * PMD_SIZE);
      const loc = this.pmd_loc(mm, pmdn, false);
      if (loc >= 0 && ent[loc] !== 0) {
        let e = ent[loc]!;
        if (e & E_HUGE && (va % PMD_SIZE !== 0 || stop - va !== PMD_SIZE)) {
          this.split_huge_pmd(mm, vma, loc);
          e = ent[loc]!;
        }
        if (e & E_HUGE) {
          const pfn = e >>> 4;
          ent[loc] = tryWrite && (vma.flags & VM_SHARED || (pfn !== this.hugeZeroPfn && this.pae(pfn))) ? e | E_WRITE : e & ~E_WRITE;
        } else {
          const base = (e >>> 4) * PTRS;
          for (let a = va; a < stop; a += PAGE_SIZE) {
            const i = base + ((a / PAGE_SIZE) & 511);
            const pe = ent[i]!;
            if (pe === 0) continue;
            const pfn = pe >>> 4;
            const w = tryWrite && pfn !== this.zeroPfn && (vma.flags & VM_SHARED || this.pae(pfn));
            ent[i] = w ? pe | E_WRITE : pe & ~E_WRITE;
          }
        }
      }
      va = stop;
    }
  }

  /** madvise() for the advice that only change VM flags: (NO)HUGEPAGE, DONTFORK, DOFORK. */
  madvise_flags(mm: Mm, start: number, len: number, set: number, clear: number): void {
    const end = start + len;
    for (const v of this.vmas_split_range(mm, start, end)) v.flags = (v.flags | set) & ~clear;
    this.merge_range(mm, start, end);
  }

  /** MADV_DONTNEED: zap, keep the VMAs. */
  madvise_dontneed(mm: Mm, start: number, len: number): void {
    const end = start + len;
    for (let i = mm.vma_index_after(start); i < mm.vmas.length && mm.vmas[i]!.start < end; i++) {
      const v = mm.vmas[i]!;
      this.zap_range(mm, v, Math.max(start, v.start), Math.min(end, v.end));
    }
  }

  // ------------------------------------------------------------------ policy services

  /** Present PTEs of page table pt covering [va, stop) that map a page of the folio head..head+nr-1. */
  private ptes_of_folio(pt: number, va: number, stop: number, head: number, nr: number): number {
    const ent = this.pt.ent;
    let count = 0;
    for (let x = va; x < stop; x += PAGE_SIZE) {
      const pe = ent[pt * PTRS + ((x / PAGE_SIZE) & 511)]!;
      const p = pe >>> 4;
      if (pe !== 0 && p >= head && p < head + nr) count++;
    }
    return count;
  }

  /** [start, end) of the addresses where vma would map the folio's pages (by their index), clipped to vma. */
  private folio_span_in_vma(folio: number, nr: number, vma: Vma): [number, number] {
    const va = vma.start + (this.folio_index(folio) - vma.pgoff) * PAGE_SIZE;
    return [Math.max(va, vma.start), Math.min(va + nr * PAGE_SIZE, vma.end)];
  }

  /** folio_has_ptes() for one (vma, page table): PTEs in table pt inside vma mapping pages of folio. */
  folio_ptes_in_table(folio: number, vma: Vma, pt: number): number {
    const head = this.memmap.folio_pfn(folio);
    const nr = this.memmap.folio_nr_pages(folio);
    const [a, b] = this.folio_span_in_vma(folio, nr, vma);
    let count = 0;
    let scanned = 0;
    const ent = this.pt.ent;
    for (let va = a; va < b; ) {
      const pmdn = Math.floor(va / PMD_SIZE);
      const stop = Math.min(b, (pmdn + 1) * PMD_SIZE);
      const loc = this.pmd_loc(vma.mm, pmdn, false);
      if (loc >= 0 && ent[loc] === pt * 16 + E_PRESENT) {
        count += this.ptes_of_folio(pt, va, stop, head, nr);
        scanned += (stop - va) / PAGE_SIZE;
      }
      va = stop;
    }
    this.policy.stats.ptesScanned += scanned;
    this.policy.stats.cacheLines += Math.ceil(scanned / 8);
    return count;
  }

  /** Entries (PTEs and PMD maps) inside vma mapping pages of folio. */
  folio_entries_in_vma(folio: number, vma: Vma): number {
    const head = this.memmap.folio_pfn(folio);
    const nr = this.memmap.folio_nr_pages(folio);
    const [a, b] = this.folio_span_in_vma(folio, nr, vma);
    let count = 0;
    let scanned = 0;
    const ent = this.pt.ent;
    for (let va = a; va < b; ) {
      const loc = this.pmd_loc(vma.mm, Math.floor(va / PMD_SIZE), false);
      const stop = Math.min(b, (Math.floor(va / PMD_SIZE) + 1) * PMD_SIZE);
      if (loc >= 0 && ent[loc] !== 0) {
        const e = ent[loc]!;
        scanned++;
        if (e & E_HUGE) {
          if (e >>> 4 === head) count++;
        } else {
          count += this.ptes_of_folio(e >>> 4, va, stop, head, nr);
          scanned += (stop - va) / PAGE_SIZE;
        }
      }
      va = stop;
    }
    this.policy.stats.ptesScanned += scanned;
    this.policy.stats.cacheLines += Math.ceil(scanned / 8);
    return count;
  }

  /** Host memory held for this vm: page tables, per-PFN vm state, the layout and allocator. */
  host_bytes(): number {
    return this.pt.host_bytes() + this.pageState.host_bytes() + this.memmap.host_bytes();
  }
}

/**
 * Workaround for a layout-memdesc bug (reported to the lead): DescriptorArena.handle() captures the
 * descriptor stride when the handle is made, so every handle made before a later extend() (the
 * layout's core fields, earlier placements) indexes descriptors with the old, smaller stride. All
 * declarations are done when a vm is composed and nothing is allocated yet, so handles over the
 * same storage are brought to the largest (current) stride of that storage.
 */
export function prot_name(prot: number): string {
  return prot === 0 ? 'none' : prot & PROT_WRITE ? 'rw' : 'r';
}
