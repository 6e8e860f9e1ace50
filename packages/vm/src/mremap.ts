import { VmBug } from '@foliolab/memmap';
import { PMD_SIZE, E_HUGE, PTRS } from './pagetable.js';
import { VmStepError } from './errors.js';
import type { Mm } from './mm.js';
import { Vma } from './vma.js';
import type { Vm } from './vm.js';

const PAGE = 4096;

/**
 * mremap(MREMAP_MAYMOVE) of [start, start+len) to a new place of newLen bytes, always moving (as
 * with MREMAP_FIXED to a free range, the cow.c "partially mremap()'ed THP" setup). The range must lie
 * in one VMA. Shrinking unmaps the tail first; growing leaves the new tail unpopulated.
 * move_page_tables(): a PMD map moves whole if the source PMD is fully covered and the destination is
 * PMD-aligned (move_huge_pmd), otherwise it is split and its PTEs move. Returns the new address.
 */
export function vm_mremap(vm: Vm, mm: Mm, start: number, len: number, newLen: number): number {
  const vma = mm.find_vma(start);
  if (vma === undefined || start + len > vma.end) {
    throw new VmStepError('size', `mremap of [0x${start.toString(16)}, 0x${(start + len).toString(16)}) must lie inside one mapping of ${mm.name}`);
  }
  if (newLen < len) {
    vm.munmap(mm, start + newLen, len - newLen);
    len = newLen;
  }
  const [old] = vm.vmas_split_range(mm, start, start + len);
  const align = newLen % PMD_SIZE === 0 && old!.anon ? PMD_SIZE : PAGE;
  const to = vm.get_unmapped_area(mm, newLen, align);
  const nv = new Vma(++vm.vmaSeq, mm, to, to + newLen, old!.prot, old!.flags, old!.pgoff, old!.anonVma, old!.file);
  mm.insert_vma(nv);
  const moved = move_page_tables(vm, mm, old!, start, nv, to, len);
  if (moved < len) {
    // Out of memory for a destination table. As move_vma() does, move what moved back: the source
    // tables were never freed, so this allocates nothing and cannot fail. Then drop the new VMA.
    if (move_page_tables(vm, mm, nv, to, old!, start, moved) < moved) {
      throw new VmBug(`mremap: moving [0x${to.toString(16)}, +0x${moved.toString(16)}) back to 0x${start.toString(16)} in ${mm.name} failed`);
    }
    mm.remove_vma(nv);
    vm.free_pgtables(mm, to, to + newLen);
    throw new VmStepError('size', `mremap of [0x${start.toString(16)}, 0x${(start + len).toString(16)}) in ${mm.name}: out of memory for page tables (-ENOMEM)`);
  }
  mm.remove_vma(old!);
  vm.free_pgtables(mm, start, start + len);
  return to;
}

/**
 * Move the entries of [start, start+len) of `old` to `to` in `nv`. Returns how many bytes from start
 * moved: len, or less when a destination table could not be allocated (everything below the returned
 * offset moved, nothing at or above it did).
 */
function move_page_tables(vm: Vm, mm: Mm, old: Vma, start: number, nv: Vma, to: number, len: number): number {
  const mm0 = vm.memmap;
  for (let va = start; va < start + len; ) {
    const pmdn = Math.floor(va / PMD_SIZE);
    const stop = Math.min(start + len, (pmdn + 1) * PMD_SIZE);
    const dva = to + (va - start);
    const sloc = vm.pmd_loc(mm, pmdn, false);
    if (sloc < 0 || vm.pt.ent[sloc] === 0) {
      va = stop;
      continue;
    }
    let e = vm.pt.ent[sloc]!;
    if (e & E_HUGE) {
      if (va % PMD_SIZE === 0 && stop - va === PMD_SIZE && dva % PMD_SIZE === 0) {
        const dloc = vm.pmd_loc(mm, dva / PMD_SIZE, true);
        if (dloc < 0) return va - start;
        vm.pt.ent[sloc] = 0;
        const dep = vm.deposit.get(sloc)!;
        vm.deposit.delete(sloc);
        vm.deposit.set(dloc, dep);
        const pfn = e >>> 4;
        if (pfn !== vm.hugeZeroPfn) vm.policy.folio_move_pmd(mm0.page_folio(pfn), old, Math.floor(sloc / PTRS), nv, Math.floor(dloc / PTRS));
        vm.pt.ent[dloc] = e;
        va = stop;
        continue;
      }
      vm.split_huge_pmd(mm, old, sloc);
      e = vm.pt.ent[sloc]!;
    }
    const sslot = e >>> 4;
    // Move in runs of one folio's consecutive pages that land in one destination table.
    let a = va;
    while (a < stop) {
      const si = sslot * PTRS + ((a / PAGE) & 511);
      const pe = vm.pt.ent[si]!;
      if (pe === 0) {
        a += PAGE;
        continue;
      }
      const d = to + (a - start);
      const dpmdn = Math.floor(d / PMD_SIZE);
      const dloc = vm.pmd_loc(mm, dpmdn, true);
      if (dloc < 0) return a - start;
      const dslot = vm.pt.ent[dloc] === 0 ? vm.pte_alloc(mm, dloc) : vm.pt.ent[dloc]! >>> 4;
      if (dslot < 0) return a - start;
      const ent = vm.pt.ent;
      const di = dslot * PTRS + ((d / PAGE) & 511);
      const pfn = pe >>> 4;
      const dstRoom = (dpmdn + 1) * PMD_SIZE - d;
      let n = 1;
      if (pfn === vm.zeroPfn) {
        ent[si] = 0;
        ent[di] = pe;
      } else {
        const folio = mm0.page_folio(pfn);
        const fend = mm0.folio_pfn(folio) + mm0.folio_nr_pages(folio);
        while (a + n * PAGE < stop && n * PAGE < dstRoom && pfn + n < fend && ent[si + n] !== 0 && ent[si + n]! >>> 4 === pfn + n) n++;
        const saved = ent.slice(si, si + n);
        ent.fill(0, si, si + n);
        vm.policy.folio_move_ptes(folio, pfn, n, old, sslot, nv, dslot);
        vm.pt.ent.set(saved, di);
      }
      a += n * PAGE;
    }
    va = stop;
  }
  return len;
}
