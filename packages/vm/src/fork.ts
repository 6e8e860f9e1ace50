import { HPAGE_PMD_NR, PageType } from '@foliolab/memmap';
import { E_HUGE, E_PRESENT, E_WRITE, PMD_SIZE, PTRS } from './pagetable.js';
import { VmStepError } from './errors.js';
import type { Mm } from './mm.js';
import { VM_DONTCOPY, VM_SHARED, Vma } from './vma.js';
import type { Vm } from './vm.js';

const PAGE = 4096;

/**
 * fork(): dup_mmap(). The child inherits every VMA except VM_DONTCOPY ones (MADV_DONTFORK), with a
 * new anon_vma; page tables are copied for VMAs that have anonymous memory (vma_needs_copy()).
 * Private mappings become write-protected in both processes and PageAnonExclusive is cleared on every
 * page that gets shared; an exclusive page that may be pinned (folio_maybe_dma_pinned(), in an mm
 * that ever pinned) is copied for the child instead (the -EBUSY path of folio_try_dup_anon_rmap_*).
 * Out of memory for a child's page table or copy, dup_mmap() fails: the half-built child is torn down
 * (its exit_mmap() drops what was copied) and fork fails with -ENOMEM. The parent's PTEs stay
 * write-protected and its pages stay non-exclusive, as in the kernel.
 */
export function vm_fork(vm: Vm, parent: Mm, childName: string): Mm {
  const child = vm.spawn(childName);
  for (const [k, r] of parent.regions) child.regions.set(k, { ...r });
  for (const v of parent.vmas) {
    if (v.flags & VM_DONTCOPY) continue;
    const cv = new Vma(++vm.vmaSeq, child, v.start, v.end, v.prot, v.flags, v.pgoff, v.anonVma !== 0 ? ++vm.anonVmaSeq : 0, v.file);
    child.vmas.push(cv);
    if (v.anonVma !== 0 && !copy_page_range(vm, parent, v, child, cv)) {
      vm.exit(child);
      throw new VmStepError('child', `fork of ${parent.name}: out of memory copying [0x${v.start.toString(16)}, 0x${v.end.toString(16)}) (-ENOMEM)`);
    }
  }
  return child;
}

/** Copy sv's entries into dv. False when out of memory (what was copied stays, for the caller to tear down). */
function copy_page_range(vm: Vm, src: Mm, sv: Vma, dst: Mm, dv: Vma): boolean {
  const cow = (sv.flags & VM_SHARED) === 0;
  for (let va = sv.start; va < sv.end; ) {
    const pmdn = Math.floor(va / PMD_SIZE);
    const stop = Math.min(sv.end, (pmdn + 1) * PMD_SIZE);
    const sloc = vm.pmd_loc(src, pmdn, false);
    if (sloc < 0 || vm.pt.ent[sloc] === 0) {
      va = stop;
      continue;
    }
    let e = vm.pt.ent[sloc]!;
    if (e & E_HUGE) {
      const r = copy_huge_pmd(vm, src, sv, sloc, dst, dv, pmdn, cow);
      if (r === 'oom') return false;
      if (r === 'done') {
        va = stop;
        continue;
      }
      e = vm.pt.ent[sloc]!;
    }
    const dloc = vm.pmd_loc(dst, pmdn, true);
    if (dloc < 0) return false;
    const dslot = vm.pt.ent[dloc] === 0 ? vm.pte_alloc(dst, dloc) : vm.pt.ent[dloc]! >>> 4;
    if (dslot < 0) return false;
    if (!copy_pte_range(vm, src, sv, e >>> 4, dst, dv, dslot, va, stop, cow)) return false;
    va = stop;
  }
  return true;
}

/** copy_huge_pmd(). 'split' when the PMD had to be split first (-EAGAIN: retry with PTEs). */
function copy_huge_pmd(vm: Vm, src: Mm, sv: Vma, sloc: number, dst: Mm, dv: Vma, pmdn: number, cow: boolean): 'done' | 'split' | 'oom' {
  const e = vm.pt.ent[sloc]!;
  const pfn = e >>> 4;
  const folio = pfn === vm.hugeZeroPfn ? -1 : vm.memmap.page_folio(pfn);
  if (folio >= 0 && vm.pae(pfn) && src.hasPinned && vm.folio_maybe_dma_pinned(folio)) {
    vm.split_huge_pmd(src, sv, sloc);
    return 'split';
  }
  const dloc = vm.pmd_loc(dst, pmdn, true);
  if (dloc < 0) return 'oom';
  const dep = vm.pt.alloc(1);
  if (dep < 0) {
    vm.metrics.oom++;
    return 'oom';
  }
  dst.pgtables++;
  vm.deposit.set(dloc, dep);
  const ent = vm.pt.ent;
  if (folio < 0) {
    ent[dloc] = e;
    return 'done';
  }
  vm.memmap.folio_ref_add(folio, 1);
  vm.policy.folio_dup_rmap_pmd(folio, dv, Math.floor(dloc / PTRS));
  vm.pae_set_range(pfn, 1, false);
  vm.oracle.map_pmd(pfn, dst.id);
  const ne = cow ? e & ~E_WRITE : e;
  ent[sloc] = ne;
  ent[dloc] = ne;
  dst.rssAnon += HPAGE_PMD_NR;
  return 'done';
}

/** False when a private copy for the child could not be allocated. */
function copy_pte_range(vm: Vm, src: Mm, sv: Vma, sslot: number, dst: Mm, dv: Vma, dslot: number, start: number, end: number, cow: boolean): boolean {
  const mm0 = vm.memmap;
  let si = sslot * PTRS + ((start / PAGE) & 511);
  let di = dslot * PTRS + ((start / PAGE) & 511);
  const last = si + (end - start) / PAGE;
  let va = start;
  while (si < last) {
    const ent = vm.pt.ent;
    const pe = ent[si]!;
    if (pe === 0) {
      si++;
      di++;
      va += PAGE;
      continue;
    }
    const pfn = pe >>> 4;
    if (pfn === vm.zeroPfn) {
      ent[di] = pe;
      si++;
      di++;
      va += PAGE;
      continue;
    }
    const folio = mm0.page_folio(pfn);
    const head = mm0.folio_pfn(folio);
    const fend = head + mm0.folio_nr_pages(folio);
    let n = 1;
    while (si + n < last && pfn + n < fend && ent[si + n] !== 0 && ent[si + n]! >>> 4 === pfn + n) n++;
    const large = fend - head > 1;
    const anon = mm0.folio_type(folio) === PageType.anon;
    let anyExclusive = false;
    if (anon) for (let j = 0; j < n; j++) if (vm.pae(pfn + j)) anyExclusive = true;
    if (anon && anyExclusive && src.hasPinned && vm.folio_maybe_dma_pinned(folio)) {
      // -EBUSY: one page at a time; exclusive pages get a private copy for the child.
      for (let j = 0; j < n; j++) {
        if (vm.pae(pfn + j)) {
          if (!copy_present_page(vm, dst, dv, dslot, di + j, va + j * PAGE)) return false;
        } else dup_ptes(vm, folio, pfn + j, 1, head, large, anon, dst, dv, dslot, si + j, di + j, cow);
      }
    } else dup_ptes(vm, folio, pfn, n, head, large, anon, dst, dv, dslot, si, di, cow);
    si += n;
    di += n;
    va += n * PAGE;
  }
  return true;
}

function dup_ptes(vm: Vm, folio: number, pfn: number, n: number, head: number, large: boolean, anon: boolean, dst: Mm, dv: Vma, dslot: number, si: number, di: number, cow: boolean): void {
  vm.memmap.folio_ref_add(folio, n);
  vm.policy.folio_dup_rmap_ptes(folio, pfn, n, dv, dslot);
  if (anon) vm.pae_set_range(pfn, n, false);
  vm.oracle.map_ptes(pfn, n, head, large || !anon, dst.id);
  const ent = vm.pt.ent;
  for (let j = 0; j < n; j++) {
    const pe = ent[si + j]!;
    const ne = cow ? pe & ~E_WRITE : pe;
    ent[si + j] = ne;
    ent[di + j] = ne;
  }
  if (anon) dst.rssAnon += n;
  else dst.rssFile += n;
}

/** copy_present_page(): the child gets its own copy of a possibly-pinned exclusive page. */
function copy_present_page(vm: Vm, dst: Mm, dv: Vma, dslot: number, di: number, va: number): boolean {
  const nf = vm.memmap.folio_alloc(0, PageType.anon);
  if (nf < 0) {
    vm.metrics.oom++;
    return false;
  }
  const npfn = vm.memmap.folio_pfn(nf);
  vm.folio_set_index(nf, dv.page_index(va));
  vm.pae_set_range(npfn, 1, true);
  vm.policy.folio_add_new_anon_rmap(nf, 0, dv, dslot);
  vm.oracle.map_ptes(npfn, 1, npfn, false, dst.id);
  vm.pt.ent[di] = npfn * 16 + E_PRESENT + (dv.writable() ? E_WRITE : 0);
  dst.rssAnon++;
  vm.metrics.cow.forkPinnedCopies++;
  return true;
}
